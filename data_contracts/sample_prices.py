"""Synthetic price histories for the simulator's tests, demos and benchmarks.

Daily log returns on business days (Monday to Friday) follow a factor model,

    r_{t,i} = μ_g/252 − σ_i²/2 + β_g m_t + s_{t,g} + e_{t,i},
    m_t ~ N(0, 0.15²/252),  s_{t,g} ~ N(0, σ_g²/252),  e_{t,i} ~ N(0, σ_e,g²/252),

so tickers of one group (a sector, or an asset class's ETFs) move together, every group moves
with the market, and σ_i² = β_g² 0.15² + σ_g² + σ_e,g² keeps the expected price growth at μ_g.
Seeded: the same arguments give the same file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from data_contracts.price_history import PriceHistory

MARKET_VOL = 0.15
DAYS_PER_YEAR = 252


@dataclass(frozen=True)
class Group:
    """A set of tickers that move together: annual drift μ, market beta, group and own volatility."""

    tickers: tuple[str, ...]
    drift: float = 0.07
    beta: float = 1.0
    group_vol: float = 0.10
    own_vol: float = 0.20


def business_days(start: dt.date, end: dt.date) -> np.ndarray:
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    return days[np.is_busday(days)]


def generate_prices(groups: list[Group], start: dt.date, end: dt.date, seed: int) -> PriceHistory:
    rng = np.random.default_rng(seed)
    dates = business_days(start, end)
    T = len(dates)
    market = rng.normal(0.0, MARKET_VOL / np.sqrt(DAYS_PER_YEAR), T)
    columns, tickers = [], []
    for g in groups:
        shared = g.beta * market + rng.normal(0.0, g.group_vol / np.sqrt(DAYS_PER_YEAR), T)
        variance = (g.beta * MARKET_VOL) ** 2 + g.group_vol ** 2 + g.own_vol ** 2
        for t in g.tickers:
            own = rng.normal(0.0, g.own_vol / np.sqrt(DAYS_PER_YEAR), T)
            r = (g.drift - variance / 2) / DAYS_PER_YEAR + shared + own
            r[0] = 0.0  # the first day is the starting close
            first = float(rng.uniform(20.0, 300.0))
            columns.append(np.round(first * np.exp(np.cumsum(r)), 4))
            tickers.append(t)
    return PriceHistory(dates, tuple(tickers), np.stack(columns, axis=1), _no_gaps())


def sector_universe(n_stocks: int, seed: int, n_sectors: int = 10) -> list[Group]:
    """``n_stocks`` stocks named S001…, in ``n_sectors`` sectors (round robin), equity-like parameters."""
    rng = np.random.default_rng(seed)
    names = [f"S{i:03d}" for i in range(1, n_stocks + 1)]
    return [Group(tuple(names[k::n_sectors]), drift=float(rng.uniform(0.04, 0.10)), beta=float(rng.uniform(0.8, 1.2)),
                  group_vol=0.10, own_vol=0.22) for k in range(n_sectors) if names[k::n_sectors]]


def firm_groups(securities: pl.DataFrame) -> list[Group]:
    """Groups for a securities master (the sample firm's): each asset class's funds move almost as one
    (own volatility 1 %), with the class's drift and volatility; stocks move by sector."""
    from data_contracts.sample_firm import ASSET_CLASSES

    groups = []
    funds = securities.filter(pl.col("security_type") != "stock")
    for (cls,), members in sorted(funds.partition_by("asset_class", as_dict=True).items()):
        drift, vol = ASSET_CLASSES.get(cls, ((), 0.06, 0.15))[1:]
        beta = min(vol / MARKET_VOL, 1.2) * (0.2 if "bond" in cls or cls == "treasury_inflation" else 0.9)
        group_vol = float(np.sqrt(max(vol ** 2 - (beta * MARKET_VOL) ** 2, 0.0001)))
        groups.append(Group(tuple(sorted(members["security_id"].to_list())), drift, beta, group_vol, 0.01))
    stocks = securities.filter(pl.col("security_type") == "stock").with_columns(pl.col("sector").fill_null("other"))
    for (_,), members in sorted(stocks.partition_by("sector", as_dict=True).items()):
        groups.append(Group(tuple(sorted(members["security_id"].to_list())), 0.08, 1.0, 0.08, 0.22))
    return groups


def from_closes(dates: np.ndarray, closes: dict[str, np.ndarray]) -> PriceHistory:
    """A history from explicit paths (the tests' known answers)."""
    return PriceHistory(np.asarray(dates, dtype="datetime64[D]"), tuple(closes),
                        np.stack([np.asarray(v, dtype=float) for v in closes.values()], axis=1), _no_gaps())


def _no_gaps() -> pl.DataFrame:
    return pl.DataFrame(schema={"file": pl.String, "row": pl.Int64, "field": pl.String, "date": pl.Date})
