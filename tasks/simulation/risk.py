"""The simulator's risk: a factor model estimated from the trailing prices on each rebalance date,
each household's ex-ante tracking error after its trades, and its daily returns against its model's.

* **Risk model**: on each rebalance date, ``optimizer.risk_estimate.estimate_risk_model`` over the
  priced securities of the securities master, from the daily simple returns of the trailing
  ``window_days`` trading days up to that date's close (nothing later). Estimated once per date and
  shared by every strategy; its frames go on the day's ``ValidatedDay`` (``risk_*``) for
  ``build_problems``. Before ``MIN_DAYS`` returns exist there is none that day (a note says so).
* **Ex-ante tracking error** after a rebalance (trades, withdrawal and tax paid):
  TE = √(dᵀ(BFBᵀ + D)d) / V with d_s = h_s − w_s V, h the household's dollars per security across its
  accounts, w its target weights, V its value with cash; a security the model does not cover gets
  the model's documented proxy (``RiskModel.for_securities``).
* **Daily returns**: between two rebalances a household holds fixed shares and cash (trades, flows,
  dividends and taxes happen at a rebalance's close), so on each trading day t after a rebalance
  and up to the next one, V_t = Σ_s q_s p_{s,t} + cash and its return is R_t = V_t / V_{t−1} − 1 (price
  only: the dividends paid at the rebalance are left out). The **model portfolio** holds the
  household's target weights of the last rebalance, reset to them at every close (a constant mix;
  its cash weight earns nothing): M_t = Σ_s w_s (p_{s,t} / p_{s,t−1} − 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from data_contracts.price_history import PriceHistory
from optimizer.problem import HouseholdProblem
from optimizer.risk import RiskModel, tracking_error
from optimizer.risk_estimate import MIN_DAYS, WINDOW_DAYS, InsufficientHistory, estimate_risk_model
from tasks.risk import risk_frames

RiskFrames = tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]


def trailing_returns(prices: PriceHistory, row: int, window_days: int, columns: np.ndarray) -> np.ndarray:
    """float[≤ window_days, len(columns)]: daily simple returns of the given price columns over the
    ``window_days`` trading days up to row ``row`` (NaN before a ticker's first close)."""
    closes = prices.close_usd[max(row - window_days, 0):row + 1, columns]
    with np.errstate(invalid="ignore", divide="ignore"):
        return closes[1:] / closes[:-1] - 1.0


class TrailingRiskModels:
    """The risk model of each rebalance row, estimated once and kept for every strategy."""

    def __init__(self, prices: PriceHistory, securities: pl.DataFrame, window_days: int = WINDOW_DAYS) -> None:
        known = set(securities["security_id"].to_list())
        self.prices, self.window_days = prices, window_days
        self.columns = np.array([i for i, t in enumerate(prices.tickers) if t in known], dtype=np.int64)
        self.tickers = [prices.tickers[i] for i in self.columns]
        self.asset_class = dict(securities.select("security_id", "asset_class").iter_rows())
        self._models: dict[int, tuple[RiskModel, RiskFrames] | None] = {}
        self._without: dict[int, str] = {}  # row → why it has no model
        self._proxied: dict[int, int] = {}  # row → securities left to the proxy (too few returns)

    def _estimate(self, row: int) -> tuple[RiskModel, RiskFrames] | None:
        if row not in self._models:
            try:
                model = estimate_risk_model(self.tickers, trailing_returns(self.prices, row, self.window_days,
                                                                            self.columns),
                                            window_days=self.window_days)
                self._models[row] = (model, risk_frames(model))
                if len(model.security_ids) < len(self.tickers):
                    self._proxied[row] = len(self.tickers) - len(model.security_ids)
            except InsufficientHistory as exc:
                self._models[row] = None
                self._without[row] = str(exc)
        return self._models[row]

    @property
    def notes(self) -> list[str]:
        """What the results should say: the dates without a model, and those with proxied securities."""
        out = []
        if self._without:
            rows = sorted(self._without)
            out.append(f"no risk model on {len(rows)} rebalance date(s), {self.prices.dates[rows[0]]} to "
                       f"{self.prices.dates[rows[-1]]}: {self._without[rows[-1]]}")
        if self._proxied:
            rows = sorted(self._proxied)
            out.append(f"risk model: on {len(rows)} date(s) ({self.prices.dates[rows[0]]} to {self.prices.dates[rows[-1]]}) "
                       f"up to {max(self._proxied.values())} securities had fewer than {MIN_DAYS} daily returns and "
                       f"got the model's proxy (RiskModel.for_securities)")
        return out

    def model(self, row: int) -> RiskModel | None:
        found = self._estimate(row)
        return None if found is None else found[0]

    def frames(self, row: int) -> RiskFrames | None:
        found = self._estimate(row)
        return None if found is None else found[1]

    def ex_ante_tracking_error(self, row: int, p: HouseholdProblem, holdings_usd: np.ndarray,
                               cash_usd: float) -> float | None:
        """TE after trading (module docstring) from ``row``'s model; None without one.
        ``holdings_usd`` is float[S] in the problem's order, summed over the accounts."""
        model = self.model(row)
        if model is None:
            return None
        ids = p.security_ids.tolist()
        loadings, specific, _ = model.for_securities(
            ids, [self.asset_class.get(s) for s in ids],
            {s: self.asset_class.get(s) for s in model.security_ids.tolist()})
        value = float(holdings_usd.sum() + cash_usd)
        return tracking_error(holdings_usd - p.target_weight * value, value, loadings, model.factor_root, specific)


@dataclass
class _Held:
    row: int  # the rebalance after which these were held
    columns: np.ndarray  # int[S] price columns
    shares: np.ndarray  # float[S], across the household's accounts
    cash_usd: float
    weights: np.ndarray  # float[S] target weights


class DailyTracker:
    """Per household, what it held after its last rebalance, and its daily returns and its model's
    from then to the next rebalance (module docstring)."""

    def __init__(self, prices: PriceHistory) -> None:
        self.prices = prices
        self.column = {t: i for i, t in enumerate(prices.tickers)}
        self.held: dict[str, _Held] = {}

    def hold(self, household: str, row: int, p: HouseholdProblem, holdings_usd: np.ndarray, cash_usd: float) -> None:
        """After the rebalance on ``row``: float[S] dollars per security (problem order) and the cash."""
        columns = np.array([self.column[s] for s in p.security_ids.tolist()], dtype=np.int64)
        self.held[household] = _Held(row, columns, holdings_usd / p.price_usd, cash_usd, p.target_weight.copy())

    def since(self, household: str, row: int) -> DailySpan | None:
        """The trading days after the household's last rebalance up to ``row``; None before its first."""
        held = self.held.get(household)
        if held is None or row <= held.row:
            return None
        closes = self.prices.close_usd[held.row:row + 1][:, held.columns]
        invested = np.where(held.shares != 0, closes * held.shares, 0.0)  # a never-priced unheld security: 0, not NaN
        value = invested.sum(axis=1) + held.cash_usd
        with np.errstate(invalid="ignore", divide="ignore"):
            growth = np.where(held.weights > 0, closes[1:] / closes[:-1] - 1.0, 0.0)
        return DailySpan(self.prices.dates[held.row + 1:row + 1], value[:-1], value[1:], growth @ held.weights,
                         float(held.weights.sum()))


@dataclass(frozen=True)
class DailySpan:
    """One household's days between two rebalances (module docstring)."""

    dates: np.ndarray  # datetime64[D][n]
    value_prev_usd: np.ndarray  # V_{t−1}
    value_usd: np.ndarray  # V_t
    model_return: np.ndarray  # M_t
    invested_weight: float  # Σ_s w_s: the model's weight outside cash

    def period_model_return(self, dividend_yield: float, calendar_days: int) -> float:
        """The model portfolio's return over the span: its daily returns chained, plus the dividends its
        invested weight earns over the calendar days (as the households' are paid at the rebalance)."""
        return float(np.prod(1.0 + self.model_return) - 1.0 + self.invested_weight * dividend_yield * calendar_days / 365.0)


DAILY_SCHEMA = {"strategy": pl.String, "household_id": pl.String, "date": pl.Date, "value_prev_usd": pl.Float64,
                "value_usd": pl.Float64, "model_return": pl.Float64}


def daily_frame(spans: list[tuple[str, str, DailySpan]]) -> pl.DataFrame:
    """One row per strategy, household and trading day from (strategy, household, span) triples."""
    if not spans:
        return pl.DataFrame(schema=DAILY_SCHEMA)
    sizes = [len(x.dates) for _, _, x in spans]
    return pl.DataFrame({
        "strategy": np.repeat([s for s, _, _ in spans], sizes), "household_id": np.repeat([h for _, h, _ in spans], sizes),
        "date": np.concatenate([x.dates for _, _, x in spans]).astype("datetime64[D]"),
        "value_prev_usd": np.concatenate([x.value_prev_usd for _, _, x in spans]),
        "value_usd": np.concatenate([x.value_usd for _, _, x in spans]),
        "model_return": np.concatenate([x.model_return for _, _, x in spans])}, schema=DAILY_SCHEMA)
