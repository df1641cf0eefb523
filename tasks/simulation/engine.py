"""The simulation loop: each strategy rebalances every household on every rebalance date, at that
day's close, and its books move on.

On each rebalance date, for each household and in this order: the tax year rolls (a year is settled
on 15 April of the next: ``book``); dividends since the last rebalance are paid in cash; a scheduled
deposit arrives; then the day's frames (lots from the ledger, cash, the last year of transactions,
year-to-date gains, the mandates in force) go through the daily pipeline's own ``build_problems``,
the strategy decides, the trades execute at the close through the tax-lot ledger, and the tax due
and a scheduled withdrawal — cash the rebalance was asked to raise (``withdrawal_usd``) — leave the
household's taxable account.

The day's frames carry the risk model estimated from the trailing prices (``tasks.simulation.risk``),
so a bare price file is enough; each household's ex-ante tracking error after trading and its daily
returns against its model portfolio's are recorded for the results.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl

from data_contracts.config import RunConfig
from data_contracts.mandates import in_force
from data_contracts.price_history import PriceHistory
from data_contracts.validation import ValidatedDay
from optimizer.problem import HouseholdProblem
from optimizer.result import drift
from tasks.optimize import solve_params
from tasks.problems import build_problems
from optimizer.ledger.estimate import NIIT_RATE
from tasks.simulation.book import HouseholdBook, TaxMode, open_book
from tasks.simulation.risk import DailySpan, DailyTracker, RiskFrames, TrailingRiskModels, daily_frame
from tasks.simulation.setup import SetupError, SimSetup, taxable_account
from tasks.simulation.strategies import Decision, Strategy, decide

Every = Literal["day", "week", "month"]
FlowEvery = Literal["month", "quarter", "year"]


@dataclass(frozen=True)
class SimOptions:
    start: dt.date
    end: dt.date
    every: Every = "month"
    strategies: tuple[Strategy, ...] = ("lotwise", "naive", "buy-and-hold")
    tax_mode: TaxMode = "pay"
    dividend_yield: float = 0.0  # annual, paid in cash (then PRICES.csv should be price-only, not adjusted)
    flow_usd: float = 0.0  # per household on each flow date: > 0 a deposit, < 0 a withdrawal
    flow_every: FlowEvery = "year"
    config: RunConfig = field(default_factory=lambda: RunConfig(shares="fractional"))
    risk_window_days: int = 252  # trading days of returns behind each rebalance date's risk model
    outside_st_gain_usd: float = 0.0  # per household and year, realized elsewhere (``HouseholdBook``)


@dataclass(frozen=True)
class SimRun:
    """Per strategy × household × rebalance date (``path``), per strategy × household × year (``years``)."""

    path: pl.DataFrame
    years: pl.DataFrame
    daily: pl.DataFrame  # per strategy × household × trading day: V_{t−1}, V_t, the model's return (tasks.simulation.risk)
    wash_sale_lines: pl.DataFrame  # every sale line with a disallowed loss, and what the strategy stated for it
    notes: list[str]
    seconds: dict[str, float]  # per strategy: wall time of its whole run
    rebalances: int  # household rebalances per strategy
    # The households' mean long-term rate a dollar of gain pays on liquidation (federal + state + NIIT):
    # what the results take from a pre-tax excess to show it after tax (``results.excess_over_baseline``)
    liquidation_rate: float = 0.0


def rebalance_rows(prices: PriceHistory, start: dt.date, end: dt.date, every: Every) -> np.ndarray:
    """Rows of the trading days to rebalance on: every day, the first of each week, or of each month,
    from the first trading day on or after ``start`` through ``end``."""
    dates = prices.dates
    rows = np.flatnonzero((dates >= np.datetime64(start, "D")) & (dates <= np.datetime64(end, "D")))
    if len(rows) == 0:
        raise SetupError(f"the price file has no trading day between {start} and {end}")
    if every == "day":
        return rows
    d = dates[rows].astype(dt.date)
    key = [(x.isocalendar()[0], x.isocalendar()[1]) if every == "week" else (x.year, x.month) for x in d]
    first = [0] + [i for i in range(1, len(key)) if key[i] != key[i - 1]]
    return rows[first]


def _flow_due(previous: dt.date | None, day: dt.date, every: FlowEvery) -> bool:
    if previous is None:
        return False
    months = {"month": 1, "quarter": 3, "year": 12}[every]
    return (day.year * 12 + day.month - 1) // months != (previous.year * 12 + previous.month - 1) // months


def simulate(setup: SimSetup, prices: PriceHistory, options: SimOptions) -> SimRun:
    rows = rebalance_rows(prices, options.start, options.end, options.every)
    end_row = int(rebalance_rows(prices, options.start, options.end, "day")[-1])  # the last trading day to --end
    _check_prices(setup, prices, rows[0])
    paths, years, washes, notes, seconds, daily = [], [], [], list(setup.notes), {}, []
    risk = TrailingRiskModels(prices, setup.securities, options.risk_window_days)
    for strategy in options.strategies:
        started = time.perf_counter()
        run = _StrategyRun(strategy, setup, prices, options, notes, risk)
        previous: dt.date | None = None
        for r in rows:
            day = prices.dates[r].astype(dt.date)
            paths += run.rebalance(day, r, dict(zip(prices.tickers, prices.close_usd[r].tolist())), previous)
            previous = day
        if end_row > rows[-1]:  # measured to --end: the last trading day marked to market, no trades
            day = prices.dates[end_row].astype(dt.date)
            paths += run.rebalance(day, end_row, dict(zip(prices.tickers, prices.close_usd[end_row].tolist())), previous,
                                   trade=False)
        for book in run.books.values():
            book.settle_all()  # the years still open, for the yearly figures (the path has the liquidation value)
            years += [dict(strategy=strategy, household_id=book.household_id, year=y, **dataclasses.asdict(f))
                      for y, f in sorted(book.years.items())]
            washes += [dict(strategy=strategy, household_id=book.household_id, account_id=s.account, security_id=s.security,
                            lot_id=s.lot_id, trade_date=s.trade_date, disallowed_usd=s.disallowed_usd,
                            stated_usd=book.stated_washes.get((s.trade_date, s.lot_id), 0.0))
                       for s in book.ledger.sales if s.disallowed_usd > 0]
        seconds[strategy] = time.perf_counter() - started
        daily += run.daily
    # Schemas from every row: the first rows' model return is blank (no period before them yet).
    return SimRun(pl.DataFrame(paths, infer_schema_length=None), pl.DataFrame(years, infer_schema_length=None),
                  daily_frame(daily), pl.DataFrame(washes, schema=_WASH_SCHEMA), notes + risk.notes, seconds,
                  len(rows) * setup.households.height, liquidation_rate(setup.households))


def liquidation_rate(households: pl.DataFrame) -> float:
    """Mean over the households of federal long-term rate + state rate + NIIT where it applies."""
    if households.is_empty():
        return 0.0
    return float(households.select(pl.col("federal_ltcg_rate") + pl.col("state_rate")
                                   + pl.when(pl.col("niit_applies")).then(NIIT_RATE).otherwise(0.0)).to_series().mean())


_WASH_SCHEMA = {"strategy": pl.String, "household_id": pl.String, "account_id": pl.String, "security_id": pl.String,
                "lot_id": pl.String, "trade_date": pl.Date, "disallowed_usd": pl.Float64, "stated_usd": pl.Float64}
# A disallowed loss the strategy did not state (beyond a cent) is a wash sale it created unawares; one it
# stated is a partial wash sale it chose and priced (Publication 550: only the matched shares' loss).
UNSTATED_WASH = pl.col("disallowed_usd") > pl.col("stated_usd") + 0.01


def _check_prices(setup: SimSetup, prices: PriceHistory, first_row: int) -> None:
    needed = set(setup.models["security_id"].to_list()) | set(setup.start_lots["security_id"].to_list())
    column = {t: i for i, t in enumerate(prices.tickers)}
    unpriced = sorted(s for s in needed if s in column and np.isnan(prices.close_usd[first_row, column[s]]))
    if unpriced:
        raise SetupError(f"no price on the first rebalance date {prices.dates[first_row]} for "
                         f"{', '.join(unpriced[:10])}: start later")


def _frames(day: dt.date, books: dict[str, HouseholdBook], setup: SimSetup, households: pl.DataFrame,
            close: dict[str, float], risk: RiskFrames | None) -> ValidatedDay:
    year = pl.DataFrame([(h, *b.ytd(), *b.carry_usd()) for h, b in books.items()], orient="row", schema={
        "household_id": pl.String, "ytd_realized_st_gain_usd": pl.Float64, "ytd_realized_lt_gain_usd": pl.Float64,
        "st_loss_carryforward_usd": pl.Float64, "lt_loss_carryforward_usd": pl.Float64})
    hh = households.drop(year.columns[1:]).join(year, on="household_id")
    lots = pl.DataFrame([row for b in books.values() for row in b.lot_rows()], orient="row", schema={
        "household_id": pl.String, "account_id": pl.String, "security_id": pl.String, "lot_id": pl.String,
        "quantity_shares": pl.Float64, "cost_basis_usd": pl.Float64, "acquisition_date": pl.Date})
    cash = pl.DataFrame([(a, c) for b in books.values() for a, c in b.cash_usd.items()], orient="row",
                        schema={"account_id": pl.String, "cash_usd": pl.Float64})
    txns = pl.DataFrame([r for b in books.values() for r in b.transaction_rows()], schema={
        "household_id": pl.String, "account_id": pl.String, "trade_date": pl.Date, "transaction_type": pl.String,
        "security_id": pl.String, "quantity_shares": pl.Float64, "amount_usd": pl.Float64, "cost_basis_usd": pl.Float64})
    priced = pl.DataFrame({"security_id": list(close), "close_usd": list(close.values())}).filter(pl.col("close_usd").is_not_nan())
    loadings, covariance, specific = risk if risk is not None else (None, None, None)
    return ValidatedDay(day, setup.securities, priced, setup.models, hh, setup.accounts, pl.DataFrame(), lots, txns, cash,
                        pl.DataFrame(), pl.Series([], dtype=pl.String), in_force(setup.mandates, day),
                        risk_loadings=loadings, risk_factor_covariance=covariance, risk_specific=specific)


class _StrategyRun:
    """One strategy over every household: their books, and one rebalance date at a time."""

    def __init__(self, strategy: Strategy, setup: SimSetup, prices: PriceHistory, options: SimOptions,
                 notes: list[str], risk: TrailingRiskModels) -> None:
        self.strategy, self.setup, self.options, self.notes, self.risk = strategy, setup, options, notes, risk
        self.params = solve_params(options.config)
        self.households = setup.households.sort("household_id")
        identical = {s: g for s, g in setup.securities.select("security_id", "identical_group").iter_rows() if g}
        in_transition = set(setup.mandates.filter(pl.col("rule") == "transition")["household_id"].to_list())
        self.books = {h["household_id"]: open_book(h, setup.accounts.filter(pl.col("household_id") == h["household_id"]),
                                                   setup.start_cash_usd, setup.start_lots, identical,
                                                   taxable_account(setup.accounts, h["household_id"]), options.tax_mode,
                                                   options.start, h["household_id"] in in_transition,
                                                   setup.start_transactions, options.config.carryforward_value,
                                                   options.outside_st_gain_usd)
                      for h in self.households.iter_rows(named=True)}
        self.tracker = DailyTracker(prices)
        self.daily: list[tuple[str, str, DailySpan]] = []  # (strategy, household, its days since the last rebalance)

    def rebalance(self, day: dt.date, row: int, close: dict[str, float], previous: dt.date | None,
                  trade: bool = True) -> list[dict]:
        """Every household on ``day``: its path row (values, flows, taxes, drift, trades). ``trade``
        false: the day is only marked to market (no flow, no tax paid, no trade; ``rebalanced`` false)."""
        options, days = self.options, (day - previous).days if previous else 0
        flows = {}
        for h, b in self.books.items():
            b.roll_to(day)
            b.pay_dividends(day, close, options.dividend_yield, days)
            flows[h] = options.flow_usd if trade and _flow_due(previous, day, options.flow_every) else 0.0
            if flows[h] > 0:
                b.deposit(day, flows[h])
        before = {h: b.value_usd(close) - max(flows[h], 0.0) for h, b in self.books.items()}  # the period's end
        vday = _frames(day, self.books, self.setup, self.households, close, self.risk.frames(row))
        return [self._household(p, day, row, close, flows[p.household_id], before[p.household_id], days, trade)
                for p in build_problems(vday, sorted(self.books), options.config)]

    def _household(self, p: HouseholdProblem, day: dt.date, row: int, close: dict[str, float], flow: float,
                   before: float, days: int, trade: bool = True) -> dict:
        b = self.books[p.household_id]
        tax = b.tax_due_usd if trade else 0.0  # a mark leaves a settled tax due: the liquidation value counts it
        withdrawal = min(max(-flow, 0.0), b.cash_usd[b.tax_account] + _held(p, b.tax_account))
        need = np.where(p.account_ids == b.tax_account, withdrawal + max(tax, 0.0), 0.0)  # cash the rebalance raises
        p = dataclasses.replace(p, withdrawal_usd=need if p.withdrawal_usd is None else p.withdrawal_usd + need)
        span = self.tracker.since(p.household_id, row)
        if span is not None:
            self.daily.append((self.strategy, p.household_id, span))
        model_return = None if span is None else span.period_model_return(self.options.dividend_yield, days)
        decision = decide(self.strategy, p, self.params) if trade else Decision([], [])
        if decision.infeasible:  # no trades, as on the desk; the tax stays due, the withdrawal is not paid
            self.notes.append(f"{self.strategy} {p.household_id} {day}: no trades: {decision.infeasible}")
            withdrawal = tax = 0.0
        b.execute(day, close, decision.sells, decision.buys, stated_washes=decision.washed)
        b.withdraw(day, withdrawal, tax)
        b.tax_due_usd -= tax
        holdings, cash = _holdings(b, p)
        by_security, cash_usd = holdings.sum(axis=0), float(cash.sum())
        self.tracker.hold(p.household_id, row, p, by_security, cash_usd)
        class_drift, security_drift = drift(p, holdings, cash)
        largest, largest_target = _largest_position(p, by_security, cash_usd)
        return dict(strategy=self.strategy, household_id=p.household_id, date=day, rebalanced=trade,
                    value_before_usd=before,
                    deposit_usd=max(flow, 0.0), withdrawal_usd=withdrawal, tax_paid_usd=tax, value_usd=b.value_usd(close),
                    liquidation_usd=b.liquidation_usd(day, close), unrealized_gain_usd=b.unrealized_gain_usd(close),
                    model_return=model_return, class_drift=class_drift, security_drift=security_drift,
                    largest_weight=largest, largest_weight_target=largest_target,
                    ex_ante_tracking_error=self.risk.ex_ante_tracking_error(row, p, by_security, cash_usd),
                    sold_usd=_sold_usd(decision, p), bought_usd=sum(q * close[s] for _, s, q in decision.buys))


def _largest_position(p: HouseholdProblem, by_security: np.ndarray, cash_usd: float) -> tuple[float, float]:
    """(weight, target) of the position furthest above its target after trading, by slot (a substitute
    counts toward its primary, as in ``drift``): how far deferral let a winner run."""
    total = by_security.sum() + cash_usd
    if total <= 0:
        return 0.0, 0.0
    weight = np.bincount(p.slot, weights=by_security, minlength=p.n_securities) / total
    target = np.bincount(p.slot, weights=p.target_weight, minlength=p.n_securities)
    k = int(np.argmax(weight - target))
    return float(weight[k]), float(target[k])


def _held(p: HouseholdProblem, account: str) -> float:
    a = p.account_ids == account
    return float(p.lot_value_usd[a[p.lot_account]].sum())


def _sold_usd(decision: Decision, p: HouseholdProblem) -> float:
    price = dict(zip(p.lot_ids.tolist(), p.price_usd[p.lot_security].tolist()))
    return float(sum(q * price[i] for i, q in decision.sells))


def _holdings(b: HouseholdBook, p: HouseholdProblem) -> tuple[np.ndarray, np.ndarray]:
    """[A, S] holdings after trading, in the problem's order, and cash per account."""
    acc = {a: i for i, a in enumerate(p.account_ids.tolist())}
    sec = {s: i for i, s in enumerate(p.security_ids.tolist())}
    h = np.zeros((p.n_accounts, p.n_securities))
    price = dict(zip(p.security_ids.tolist(), p.price_usd.tolist()))
    for lot in b.ledger.lots.values():
        h[acc[lot.account], sec[lot.security]] += lot.quantity * price[lot.security]
    return h, np.array([b.cash_usd[a] for a in p.account_ids.tolist()])
