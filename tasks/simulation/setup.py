"""What a simulation starts from: the securities, the models, the households and their accounts,
their mandates and their starting lots or cash.

Either from the firm's own files (the daily pipeline's reading and validation, so the model,
mandates and tax profile are exactly the ones the desk runs), or from a bare price file: one
household, one taxable account, a model over the file's tickers (equal weight or given weights),
and loss-harvesting substitutes chosen from the price history itself (``choose_substitutes``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from data_contracts.mandates import empty_mandates, read_mandates
from data_contracts.price_history import PriceHistory
from data_contracts.types import CASH_SECURITY_ID, TAXABLE_ACCOUNT_TYPES

SIM_MODEL = "from_prices"
SIM_CUSTODIAN = "sim"
MIN_SUBSTITUTE_CORRELATION = 0.7  # of daily returns: below it a ticker is no stand-in (MSFT → RRC at 0.03 was one)


class SetupError(ValueError):
    """The simulation cannot start as asked (a ticker without prices, lots after the start, …)."""


@dataclass(frozen=True)
class SimSetup:
    securities: pl.DataFrame  # the securities master (its schema, substitutes included)
    models: pl.DataFrame
    households: pl.DataFrame  # tax profiles; YTD columns are overwritten as the simulation runs
    accounts: pl.DataFrame
    mandates: pl.DataFrame  # every entry with its dates; the engine takes those in force each day
    start_lots: pl.DataFrame  # account_id, security_id, lot_id, quantity_shares, cost_basis_usd, acquisition_date
    start_cash_usd: dict[str, float]  # per account; with start_from="cash", the whole account's value
    substitutes: pl.DataFrame  # ticker, substitute, correlation, window_days: how substitutes were chosen
    notes: tuple[str, ...] = ()  # households left out, and why
    # Starting from the firm's lots: its transactions of the 30 days before the start, so the wash-sale
    # windows they opened bind the first month (trade_date, account_id, transaction_type, security_id,
    # quantity_shares, amount_usd, cost_basis_usd)
    start_transactions: pl.DataFrame | None = None


def price_model(prices: PriceHistory, weights: dict[str, float] | None, cash_weight: float) -> dict[str, float]:
    """The model over the price file's tickers: ``weights`` normalized to 1 − cash_weight, or equal weight."""
    weights = weights or {t: 1.0 for t in prices.tickers}
    unknown = sorted(set(weights) - set(prices.tickers))
    if unknown:
        raise SetupError(f"weights name tickers the price file does not have: {', '.join(unknown)}")
    total = sum(weights.values())
    if total <= 0 or any(w < 0 for w in weights.values()):
        raise SetupError("weights must be non-negative and not all zero")
    return {t: (1 - cash_weight) * w / total for t, w in weights.items() if w > 0}


def _model_frame(model: dict[str, float], cash_weight: float) -> pl.DataFrame:
    return pl.DataFrame({"model_id": SIM_MODEL, "security_id": list(model) + [CASH_SECURITY_ID],
                         "target_weight": list(model.values()) + [cash_weight]})


def _bare_securities(tickers: list[str], substitute_of: dict[str, str]) -> pl.DataFrame:
    """A securities master for tickers known only by their prices: stocks of one class, 'equity'."""
    n = len(tickers)
    blank = {c: [None] * n for c in ("fund_family", "sector", "industry", "tags", "identical_group", "substitute_cost",
                                     "beta", "size", "value", "momentum")}
    return pl.DataFrame({"security_id": tickers, "name": tickers, "security_type": ["stock"] * n,
                         "asset_class": ["equity"] * n, **blank, "substitute_id": [substitute_of.get(t) for t in tickers]},
                        schema_overrides={c: pl.String for c in ("fund_family", "sector", "industry", "tags",
                                                                 "identical_group", "substitute_id")}
                        | {c: pl.Float64 for c in ("substitute_cost", "beta", "size", "value", "momentum")})


def from_prices(prices: PriceHistory, start: dt.date, initial_usd: float, weights: dict[str, float] | None = None,
                cash_weight: float = 0.0, profile: dict | None = None, households: int = 1,
                corr_window_days: int = 252, min_correlation: float = MIN_SUBSTITUTE_CORRELATION) -> SimSetup:
    """One or more identical households (one taxable account each) on a model over the price file's
    tickers (``price_model``), substitutes chosen from the history (``choose_substitutes``)."""
    tickers = list(prices.tickers)
    model = price_model(prices, weights, cash_weight)
    subs = choose_substitutes(prices, start, list(model), corr_window_days, min_correlation)
    securities = _bare_securities(tickers, dict(subs.select("ticker", "substitute").iter_rows()))
    models = _model_frame(model, cash_weight)
    profile = {"filing_status": "married_filing_jointly", "federal_ordinary_rate": 0.37, "federal_ltcg_rate": 0.20,
               "state_rate": 0.05, "niit_applies": True} | (profile or {})
    ids = [f"H{i + 1:04d}" for i in range(households)]
    hh = pl.DataFrame([{"household_id": h, "model_id": SIM_MODEL, **profile, "ytd_realized_st_gain_usd": 0.0,
                        "ytd_realized_lt_gain_usd": 0.0, "st_loss_carryforward_usd": 0.0,
                        "lt_loss_carryforward_usd": 0.0} for h in ids])
    accounts = pl.DataFrame({"account_id": [f"{h}-T" for h in ids], "household_id": ids, "custodian_id": SIM_CUSTODIAN,
                             "account_type": "taxable_individual", "min_cash_usd": 0.0})
    return SimSetup(securities, models, hh, accounts, empty_mandates(), _no_lots(),
                    {a: float(initial_usd) for a in accounts["account_id"]}, subs, substitute_notes(subs))


def from_firm(input_dir: Path, firm_as_of: dt.date, prices: PriceHistory, start: dt.date,
              household_ids: list[str] | None, start_from: Literal["cash", "lots"]) -> SimSetup:
    """The firm's households as the daily pipeline reads and validates them on ``firm_as_of``;
    households the validation holds are left out (``notes`` says why)."""
    from data_contracts.layout import read_day
    from data_contracts.validation import validate_day

    day = validate_day(read_day(input_dir, firm_as_of), firm_as_of)
    wanted = day.ready_households.to_list() if household_ids is None else household_ids
    held = set(day.held.to_list())
    known = set(day.households["household_id"].to_list())
    notes = [f"{h}: not in the households file" for h in wanted if h not in known]
    notes += [f"{h}: held by validation ({'; '.join(day.exceptions.filter(pl.col('household_id') == h)['reason'].to_list()[:2])})"
              for h in wanted if h in held]
    ids = pl.Series([h for h in wanted if h in known and h not in held], dtype=pl.String)
    if ids.len() == 0:
        raise SetupError("no household to simulate: " + "; ".join(notes[:5]))
    hh = day.households.filter(pl.col("household_id").is_in(ids.implode())).with_columns(
        *(pl.lit(0.0).alias(c) for c in ("ytd_realized_st_gain_usd", "ytd_realized_lt_gain_usd",
                                         "st_loss_carryforward_usd", "lt_loss_carryforward_usd")))
    accounts = day.accounts.filter(pl.col("household_id").is_in(ids.implode())).select(
        "account_id", "household_id", pl.col("custodian_id").cast(pl.String), "account_type", "min_cash_usd")
    lots = day.lots.filter(pl.col("household_id").is_in(ids.implode()))
    models = day.models.filter(pl.col("model_id").is_in(hh["model_id"].unique().implode()))
    needed = set(lots["security_id"].to_list()) | set(models["security_id"].to_list()) - {CASH_SECURITY_ID}
    missing = sorted(needed - set(prices.tickers))
    if missing:
        raise SetupError(f"the price file has no column for {len(missing)} held or modelled securities: "
                         f"{', '.join(missing[:10])}")
    cash = dict(day.cash.select("account_id", "cash_usd").iter_rows())
    mandates, _ = read_mandates(input_dir)
    mandates = mandates.filter(pl.col("household_id").is_in(ids.implode()))
    if start_from == "cash":  # each account's value at the firm's prices, in cash on the start date
        value = lots.join(day.prices.select("security_id", "close_usd"), on="security_id").group_by("account_id").agg(
            (pl.col("quantity_shares") * pl.col("close_usd")).sum().alias("v"))
        held_value = dict(value.iter_rows())
        start_cash = {a: cash.get(a, 0.0) + held_value.get(a, 0.0) for a in accounts["account_id"].to_list()}
        start_lots = _no_lots()
    else:
        late = lots.filter(pl.col("acquisition_date") > start)
        if late.height:
            raise SetupError(f"{late.height} lots were acquired after the start date {start} (e.g. lot "
                             f"{late['lot_id'][0]} on {late['acquisition_date'][0]}): start later, or from cash")
        start_cash = {a: cash.get(a, 0.0) for a in accounts["account_id"].to_list()}
        start_lots = lots.select("account_id", "security_id", "lot_id", "quantity_shares", "cost_basis_usd",
                                 "acquisition_date")
        recent = day.transactions.filter(pl.col("household_id").is_in(ids.implode())
                                         & pl.col("trade_date").is_between(start - dt.timedelta(days=30), start)
                                         & pl.col("transaction_type").is_in(["buy", "sell", "reinvested_dividend"]))
        start_transactions = recent.select("trade_date", "account_id", "transaction_type", "security_id",
                                           "quantity_shares", "amount_usd", "cost_basis_usd").sort("trade_date")
    subs = pl.DataFrame(schema=_SUBSTITUTE_SCHEMA)
    return SimSetup(day.securities, models, hh, accounts, mandates, start_lots, start_cash, subs, tuple(notes),
                    start_transactions if start_from == "lots" else None)


def with_price_model(setup: SimSetup, prices: PriceHistory, start: dt.date, weights: dict[str, float] | None,
                     cash_weight: float, min_correlation: float = MIN_SUBSTITUTE_CORRELATION) -> SimSetup:
    """The firm's households on a model over the price file's tickers instead of their own. Tickers
    the securities master does not know join it as 'equity' stocks, their substitutes chosen from
    the history; the master's own substitutes stand for the ones it knows."""
    model = price_model(prices, weights, cash_weight)
    known = set(setup.securities["security_id"].to_list())
    new = [t for t in prices.tickers if t not in known]
    subs = choose_substitutes(prices, start, [t for t in model if t not in known], min_correlation=min_correlation) \
        if any(t not in known for t in model) else pl.DataFrame(schema=_SUBSTITUTE_SCHEMA)
    extra = _bare_securities(new, dict(subs.select("ticker", "substitute").iter_rows()))
    securities = pl.concat([setup.securities, extra.select(setup.securities.columns)], how="vertical_relaxed") \
        if new else setup.securities
    households = setup.households.with_columns(pl.lit(SIM_MODEL).alias("model_id"))
    # The master's own substitutes stand, except one that is in this model too (the pipeline ignores it): said.
    listed = setup.securities.filter(pl.col("security_id").is_in(list(model)) & pl.col("substitute_id").is_in(list(model)))
    ignored = tuple(f"{t}: no substitute: its substitute in the securities master, {s}, is in the model itself"
                    for t, s in listed.select("security_id", "substitute_id").iter_rows())
    return SimSetup(securities, _model_frame(model, cash_weight), households, setup.accounts, setup.mandates,
                    setup.start_lots, setup.start_cash_usd, subs, setup.notes + substitute_notes(subs) + ignored,
                    setup.start_transactions)


_SUBSTITUTE_SCHEMA = {"ticker": pl.String, "substitute": pl.String, "correlation": pl.Float64, "window_days": pl.Int64,
                      "reason": pl.String}
def choose_substitutes(prices: PriceHistory, start: dt.date, model: list[str], window_days: int = 252,
                       min_correlation: float = MIN_SUBSTITUTE_CORRELATION) -> pl.DataFrame:
    """Each model ticker's substitute: the ticker outside the model whose daily log returns correlate
    best with its own over the ``window_days`` trading days up to ``start``, at least
    ``min_correlation``; each used once while unused ones are left, the best correlated pairs chosen
    first. Model tickers are never candidates (one cannot stand in for another: the pipeline would
    drop it, and harvesting into it would overweight it), nor are tickers with a gap in the window.
    A ticker with no candidate at the floor gets no substitute: its row has a blank substitute and
    correlation and the ``reason`` (the best candidate and its correlation, or that there was none).
    Needs at least 20 days of returns."""
    end = prices.index_on_or_before(start)
    returns = prices.log_returns(end, window_days) if end > 0 else np.zeros((0, len(prices.tickers)))
    if returns.shape[0] < 20:
        raise SetupError(f"substitutes need at least 20 days of prices before the start {start}; the file has "
                         f"{max(returns.shape[0], 0)}: start later")
    complete = ~np.isnan(returns).any(axis=0)
    index = {t: i for i, t in enumerate(prices.tickers)}
    in_model = set(model)
    candidates = [j for j, t in enumerate(prices.tickers) if t not in in_model and complete[j]]
    with np.errstate(invalid="ignore", divide="ignore"):  # a ticker whose price never moved: NaN, never chosen
        corr = np.corrcoef(np.where(np.isnan(returns), 0.0, returns), rowvar=False).reshape(len(prices.tickers), -1)
        for t in model:  # a model ticker listed during the window: over its own days (candidates have them all)
            own = ~np.isnan(returns[:, index[t]])
            if not own.all():
                corr[index[t]] = np.corrcoef(returns[own][:, index[t]], returns[own].T)[0, 1:] if own.sum() > 2 else np.nan
    # Best pairs first, each substitute used once while any is left: harvesting several model tickers
    # into one stand-in would concentrate the portfolio.
    pairs = sorted((-corr[index[t], j], t, j) for t in model for j in candidates
                   if np.isfinite(corr[index[t], j]) and corr[index[t], j] >= min_correlation)
    chosen: dict[str, int] = {}
    taken = np.zeros(len(prices.tickers), dtype=bool)
    for free_only in (True, False):
        for _, t, j in pairs:
            if t not in chosen and (not free_only or not taken[j]):
                chosen[t] = j
                taken[j] = True
    days = int(returns.shape[0])
    rows = []
    for t in model:
        if t in chosen:
            rows.append((t, prices.tickers[chosen[t]], float(corr[index[t], chosen[t]]), days, None))
            continue
        scored = [(float(corr[index[t], j]), prices.tickers[j]) for j in candidates if np.isfinite(corr[index[t], j])]
        best = max(scored, default=None, key=lambda x: x[0])  # the first of equals, in file order
        if best:
            reason = f"no substitute: the best candidate, {best[1]}, correlates {best[0]:.3f}, below the floor " \
                     f"{min_correlation:.2f}"
        elif in_model >= set(prices.tickers):
            reason = "no substitute: every ticker of the price file is in the model"
        else:
            reason = "no substitute: no ticker outside the model has a full window of prices"
        rows.append((t, None, None, days, reason))
    return pl.DataFrame(rows, schema=_SUBSTITUTE_SCHEMA, orient="row")


def substitute_notes(substitutes: pl.DataFrame) -> tuple[str, ...]:
    """One note per model ticker left without a substitute, with the reason."""
    return tuple(f"{t}: {r}" for t, r in substitutes.filter(pl.col("reason").is_not_null())
                 .select("ticker", "reason").iter_rows())


def taxable_account(accounts: pl.DataFrame, household_id: str) -> str:
    """Where the household's taxes, deposits and withdrawals go: its first taxable account, else its first."""
    mine = accounts.filter(pl.col("household_id") == household_id).sort("account_id")
    taxable = mine.filter(pl.col("account_type").is_in(list(TAXABLE_ACCOUNT_TYPES)))
    return (taxable if taxable.height else mine)["account_id"][0]


def _no_lots() -> pl.DataFrame:
    return pl.DataFrame(schema={"account_id": pl.String, "security_id": pl.String, "lot_id": pl.String,
                                "quantity_shares": pl.Float64, "cost_basis_usd": pl.Float64, "acquisition_date": pl.Date})
