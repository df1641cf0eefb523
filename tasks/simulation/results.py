"""A simulation's results: per strategy, over every simulated household together.

Definitions (all money in dollars; the households are summed into one portfolio per strategy):

* the **path**: one row per rebalance date, and a last row on the last trading day to ``--end``
  when that is no rebalance date (``rebalanced`` false: marked to market, no trade, no flow), so
  the figures run to the end asked for;
* period return r_k = V⁻_k / V⁺_{k−1} − 1, where V⁻ is the value at a rebalance before its deposit,
  withdrawal and tax payment (dividends included) and V⁺ the value after them: a time-weighted,
  **pre-tax** return (taxes paid leave like withdrawals); yearly and cumulative returns chain it;
* the **model portfolio** of a household: its target weights (those of its last rebalance), reset to
  them at every close, its cash weight earning nothing (``tasks.simulation.risk``); ``model_return``
  per period chains its daily returns (plus the dividends of its invested weight);
* **realized tracking error** of a household = std(R_t − M_t) × √252 over the trading days t after
  its first rebalance, R_t its daily return (its shares and cash held since the last rebalance at
  the day's closes, price only), M_t its model portfolio's; a strategy's is the mean over its
  households (per year: over the days of that year);
* **ex-ante tracking error** after each rebalance: √(dᵀ(BFBᵀ + D)d) / V from that date's risk model
  estimated from the trailing prices (``optimizer.risk_estimate``), d the dollars per security above
  target after the trades; the mean and the maximum over households and rebalances;
* **after-tax liquidation value**: the value at the end less the tax of selling every lot then, of
  every year not yet paid, and of accrued taxes, plus the value of a loss still carried forward after
  the sale (``carryforward_value`` × the long-term rate, as the optimizer and the tax report price it;
  ``book.liquidation_usd``);
* **after-tax return**: the internal rate of return of the money in (the starting value, deposits),
  the money out (withdrawals) and the liquidation value at the end (per year: from the liquidation
  value at the last rebalance of the year before, or the starting value, to the year's last one,
  not annualized);
* **after-tax excess over buy-and-hold** = a strategy's after-tax return − buy-and-hold's, split into
  its **pre-tax part** (its pre-tax return − buy-and-hold's: what tracking the model differently
  earned or cost) and its **tax part**, the rest — the literature's **tax alpha**: the after-tax
  value of tax management against the same portfolio held without it (buy-and-hold of the model).
  The two parts add up to the excess by construction. A pre-tax excess is itself a gain that
  liquidation taxes, so the tax part is shown again as **tax on the pre-tax part** (−τ × it, τ the
  households' mean long-term liquidation rate, ``SimRun.liquidation_rate``) plus **tax management**,
  the rest: what the strategy's tax decisions did (an estimate: τ is the long-term rate, and a loss
  left carried forward is worth less); annualized in the summary, per calendar
  year in the yearly table. The **after-tax excess over naive** (a tax-blind full rebalance at each
  date) is reported too, but it mostly measures that strategy's turnover;
* a **drawdown window**: the model portfolio (its value chained from ``model_return`` at the
  rebalances) falls at least ``DRAWDOWN_MIN`` from a peak (``model_drawdowns``); the window runs from
  that peak to the first rebalance the model is back at it (or the last rebalance, then
  ``recovered`` is false), so it holds the fall, where losses are harvested, and the recovery,
  where they are used.
  Over each: the pre-tax return (chained), the after-tax return (as per year, from the liquidation
  value at the peak to the one at the window's end) and the excess over buy-and-hold split in the
  same two parts. A harvest's own year can show a negative tax part: buy-and-hold's liquidation
  value at the trough counts its unrealized losses as if sold then, against that year's gains;
* **cumulative after-tax excess** on a date = (liquidation value − the baseline's) ÷ the money put in so far;
* **turnover** = dollars sold ÷ mean value, per year; **gains deferred** = unrealized gains in
  taxable accounts (what selling would realize), at each year end and at the end;
* **wash sales** = sale lines whose loss the tax-lot ledger disallowed (zero for lotwise).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from optimizer.risk_estimate import TRADING_DAYS_PER_YEAR
from tasks.simulation.engine import UNSTATED_WASH, SimRun

SUM_COLUMNS = ("value_before_usd", "deposit_usd", "withdrawal_usd", "tax_paid_usd", "value_usd", "liquidation_usd",
               "unrealized_gain_usd", "sold_usd", "bought_usd")
BASELINE = "buy-and-hold"  # the same portfolio without tax management: the tax alpha's baseline
DRAWDOWN_MIN = 0.10  # a fall of the model portfolio at least this far below its peak is a drawdown


def _value_weighted(column: str, weight: str) -> pl.Expr:
    """Σ x w / Σ w over the rows where x is known; null where none is."""
    known = pl.col(column).is_not_null()
    return pl.when(known.any()).then((pl.col(column) * pl.col(weight)).filter(known).sum()
                                     / pl.col(weight).filter(known).sum()).alias(column)


def portfolio_path(run: SimRun) -> pl.DataFrame:
    """Per strategy and rebalance date: the households summed, with period and model returns."""
    path = run.path.sort("strategy", "household_id", "date").with_columns(
        pl.col("value_usd").shift(1).over("strategy", "household_id").alias("value_prev"))
    agg = path.group_by("strategy", "date").agg(
        *(pl.col(c).sum() for c in SUM_COLUMNS),
        pl.col("value_prev").sum().alias("value_prev_usd"),
        pl.col("rebalanced").all(),  # false on the last day when it is only marked to market (--end)
        _value_weighted("model_return", "value_prev"),
        _value_weighted("ex_ante_tracking_error", "value_usd"),
        ((pl.col("security_drift") * pl.col("value_usd")).sum() / pl.col("value_usd").sum()).alias("security_drift"),
        ((pl.col("class_drift") * pl.col("value_usd")).sum() / pl.col("value_usd").sum()).alias("class_drift"),
    ).sort("strategy", "date")
    agg = agg.with_columns(
        pl.when(pl.col("value_prev_usd") > 0).then(pl.col("value_before_usd") / pl.col("value_prev_usd") - 1)
        .otherwise(None).alias("period_return"),
        (pl.col("deposit_usd") - pl.col("withdrawal_usd")).cum_sum().over("strategy").alias("net_in_usd"))
    start = agg.group_by("strategy").agg(pl.col("value_before_usd").first().alias("start_usd"))
    agg = agg.join(start, on="strategy").with_columns((pl.col("start_usd") + pl.col("net_in_usd")).alias("capital_in_usd"))
    for baseline, column in (("naive", "cumulative_after_tax_excess_vs_naive"),
                             (BASELINE, "cumulative_after_tax_excess_vs_buy_and_hold")):
        base = agg.filter(pl.col("strategy") == baseline).select("date", pl.col("liquidation_usd").alias("_base"))
        agg = agg.join(base, on="date", how="left").with_columns(
            ((pl.col("liquidation_usd") - pl.col("_base")) / pl.col("capital_in_usd")).alias(column)).drop("_base")
    return agg.drop("start_usd").sort("strategy", "date")


def active_returns(daily: pl.DataFrame) -> pl.DataFrame:
    """``run.daily`` with each day's active return R_t − M_t (``active_return``) and its ``year``."""
    return daily.filter(pl.col("value_prev_usd") > 0).with_columns(
        (pl.col("value_usd") / pl.col("value_prev_usd") - 1.0 - pl.col("model_return")).alias("active_return"),
        pl.col("date").dt.year().alias("year"))


def realized_tracking_error(daily: pl.DataFrame, by: tuple[str, ...] = ("strategy",)) -> pl.DataFrame:
    """Per ``by``: the mean over households of std(R_t − M_t) × √252 (sample std; a household needs two days)."""
    per_household = active_returns(daily).group_by(*by, "household_id").agg(
        (pl.col("active_return").std(ddof=1) * np.sqrt(TRADING_DAYS_PER_YEAR)).alias("realized_tracking_error"))
    return per_household.group_by(*by).agg(pl.col("realized_tracking_error").mean())


def ex_ante_tracking_error(run: SimRun, by: tuple[str, ...] = ("strategy",)) -> pl.DataFrame:
    """Per ``by``: mean and max of the households' ex-ante TE after each rebalance (where a model existed)."""
    te = run.path.with_columns(pl.col("date").dt.year().alias("year")).filter(
        pl.col("ex_ante_tracking_error").is_not_null() & pl.col("ex_ante_tracking_error").is_not_nan())
    return te.group_by(*by).agg(pl.col("ex_ante_tracking_error").mean().alias("ex_ante_tracking_error_mean"),
                                pl.col("ex_ante_tracking_error").max().alias("ex_ante_tracking_error_max"))


def excess_over_baseline(frame: pl.DataFrame, pre_tax: str, after_tax: str, liquidation_rate: float,
                         on: tuple[str, ...] = (), suffix: str = "") -> pl.DataFrame:
    """Each row's after-tax excess over buy-and-hold's row (same ``on`` keys), its pre-tax part and its
    tax part (the rest, the tax alpha): ``excess_after_tax{suffix}``, ``excess_pre_tax{suffix}``,
    ``tax_alpha{suffix}``; the tax part again as ``tax_on_pre_tax{suffix}`` = −τ × the pre-tax part (a
    pre-tax excess is a gain, and liquidation taxes it at τ = ``liquidation_rate``: not a tax-management
    effect) plus ``tax_management{suffix}``, the rest; null without a buy-and-hold row."""
    key = list(on) or ["_all"]
    frame = frame.with_columns(pl.lit(0).alias("_all")) if not on else frame
    base = frame.filter(pl.col("strategy") == BASELINE).select(
        *key, pl.col(pre_tax).alias("_bh_pre"), pl.col(after_tax).alias("_bh_after"))
    joined = frame.join(base, on=key, how="left", maintain_order="left").with_columns(
        (pl.col(after_tax) - pl.col("_bh_after")).alias(f"excess_after_tax{suffix}"),
        (pl.col(pre_tax) - pl.col("_bh_pre")).alias(f"excess_pre_tax{suffix}"))
    joined = joined.with_columns(
        (pl.col(f"excess_after_tax{suffix}") - pl.col(f"excess_pre_tax{suffix}")).alias(f"tax_alpha{suffix}"),
        (-liquidation_rate * pl.col(f"excess_pre_tax{suffix}")).alias(f"tax_on_pre_tax{suffix}"))
    return joined.with_columns((pl.col(f"tax_alpha{suffix}") - pl.col(f"tax_on_pre_tax{suffix}"))
                               .alias(f"tax_management{suffix}")).drop("_bh_pre", "_bh_after", *([] if on else ["_all"]))


def yearly(run: SimRun, path: pl.DataFrame) -> pl.DataFrame:
    """Per strategy and calendar year."""
    figures = run.years.group_by("strategy", "year").agg(
        pl.col("taxes_usd", "st_gain_usd", "lt_gain_usd", "losses_harvested_usd", "dividends_usd", "sold_usd",
               "wash_sales").sum())
    by_year = path.with_columns(pl.col("date").dt.year().alias("year")).group_by("strategy", "year").agg(
        ((pl.col("period_return").fill_null(0.0) + 1).product() - 1).alias("pre_tax_return"),
        pl.col("value_usd").last().alias("end_value_usd"),
        pl.col("liquidation_usd").last().alias("end_liquidation_usd"),
        pl.col("unrealized_gain_usd").last().alias("gains_deferred_usd"),
        pl.col("value_usd").mean().alias("mean_value_usd"),
        pl.col("security_drift").mean().alias("mean_security_drift"))
    after_tax = pl.DataFrame([dict(strategy=s, year=y, after_tax_return=r) for s, y, r in _after_tax_by_year(path)],
                             schema={"strategy": pl.String, "year": pl.Int32, "after_tax_return": pl.Float64})
    out = by_year.join(figures, on=["strategy", "year"], how="left").with_columns(
        (pl.col("sold_usd") / pl.col("mean_value_usd")).alias("turnover"))
    out = out.join(after_tax, on=["strategy", "year"], how="left") \
        .join(realized_tracking_error(run.daily, ("strategy", "year")), on=["strategy", "year"], how="left") \
        .join(ex_ante_tracking_error(run, ("strategy", "year")), on=["strategy", "year"], how="left")
    out = excess_over_baseline(out, "pre_tax_return", "after_tax_return", run.liquidation_rate, on=("year",))
    return out.select("strategy", "year", "pre_tax_return", "after_tax_return", "excess_after_tax", "excess_pre_tax",
                      "tax_alpha", "tax_on_pre_tax", "tax_management", "end_value_usd", "end_liquidation_usd", "taxes_usd", "st_gain_usd", "lt_gain_usd",
                      "losses_harvested_usd", "gains_deferred_usd", "dividends_usd", "turnover", "mean_security_drift",
                      "realized_tracking_error", "ex_ante_tracking_error_mean", "ex_ante_tracking_error_max",
                      "wash_sales").sort("strategy", "year")


def _after_tax_by_year(path: pl.DataFrame) -> list[tuple[str, int, float | None]]:
    """(strategy, year, after-tax return over the year, not annualized): from the liquidation value at
    the last rebalance of the year before (or the starting value) to the year's last one."""
    out = []
    for (strategy,), p in path.partition_by("strategy", as_dict=True, maintain_order=True).items():
        p = p.sort("date")
        start_date, start_usd = p["date"][0], float(p["value_before_usd"][0])
        for year in sorted(set(p["date"].dt.year().to_list())):
            rows = p.filter(pl.col("date").dt.year() == year)
            out.append((strategy, year, _after_tax_over(start_date, start_usd, rows)))
            start_date, start_usd = rows["date"][-1], float(rows["liquidation_usd"][-1])
    return out


def _after_tax_over(start_date: dt.date, start_usd: float, rows: pl.DataFrame) -> float | None:
    """After-tax return, not annualized, of ``start_usd`` put in on ``start_date``, the deposits in and
    withdrawals out of ``rows`` (rebalances after it), and the last row's liquidation value out: their
    IRR compounded over the span."""
    dates = [start_date] + rows["date"].to_list() + [rows["date"][-1]]
    flows = np.concatenate([[-start_usd], -(rows["deposit_usd"] - rows["withdrawal_usd"]).to_numpy(),
                            [rows["liquidation_usd"][-1]]])
    span = (dates[-1] - start_date).days / 365.25
    rate = irr(dates, flows) if span > 0 else float("nan")
    return (1 + rate) ** span - 1 if np.isfinite(rate) else None


def model_drawdowns(path: pl.DataFrame, min_drawdown: float = DRAWDOWN_MIN) -> list[tuple[dt.date, dt.date, dt.date, float, bool]]:
    """(peak, trough, end, depth, recovered) of each fall of the model portfolio at least
    ``min_drawdown`` deep from a peak, on buy-and-hold's rebalance dates (its model is every
    strategy's). Peaks and troughs alternate, each swing at least ``min_drawdown`` (a fall from a
    peak, then a rise from the trough of that fraction of it), so a second fall before the first
    is recovered is a drawdown of its own; ``end`` is the first rebalance after the trough at or
    above the peak, or the last one."""
    base = path.filter(pl.col("strategy") == BASELINE).sort("date")
    dates = base["date"].to_list()
    index = np.cumprod(1.0 + base["model_return"].fill_null(0.0).fill_nan(0.0).to_numpy())
    swings, falling, extreme, peak = [], False, 0, 0
    for k in range(1, len(index)):
        if not falling:
            if index[k] > index[extreme]:
                extreme = k
            elif index[k] <= index[extreme] * (1 - min_drawdown):
                falling, peak, extreme = True, extreme, k
        elif index[k] < index[extreme]:
            extreme = k
        elif index[k] >= index[extreme] * (1 + min_drawdown):
            swings.append((peak, extreme))
            falling, extreme = False, k
    if falling:
        swings.append((peak, extreme))
    out = []
    for peak, trough in swings:
        back = next((k for k in range(trough + 1, len(index)) if index[k] >= index[peak]), None)
        end = back if back is not None else len(index) - 1
        out.append((dates[peak], dates[trough], dates[end], float(1 - index[trough] / index[peak]), back is not None))
    return out


def drawdown_windows(path: pl.DataFrame, liquidation_rate: float, min_drawdown: float = DRAWDOWN_MIN) -> pl.DataFrame:
    """Per drawdown window of the model portfolio (``model_drawdowns``) and strategy: the window, the
    model's fall, the pre-tax and after-tax returns over it (not annualized) and the after-tax excess
    over buy-and-hold split as ``excess_over_baseline`` does."""
    rows = []
    for peak, trough, end, depth, recovered in model_drawdowns(path, min_drawdown):
        for (strategy,), p in path.partition_by("strategy", as_dict=True, maintain_order=True).items():
            at_peak = p.filter(pl.col("date") == peak)
            inside = p.filter((pl.col("date") > peak) & (pl.col("date") <= end)).sort("date")
            if at_peak.is_empty() or inside.is_empty():
                continue
            rows.append(dict(
                strategy=strategy, peak=peak, trough=trough, end=end, recovered=recovered, model_drawdown=depth,
                pre_tax_return=float((inside["period_return"].fill_null(0.0) + 1).product() - 1),
                after_tax_return=_after_tax_over(peak, float(at_peak["liquidation_usd"][0]), inside)))
    schema = {"strategy": pl.String, "peak": pl.Date, "trough": pl.Date, "end": pl.Date, "recovered": pl.Boolean,
              "model_drawdown": pl.Float64, "pre_tax_return": pl.Float64, "after_tax_return": pl.Float64}
    frame = pl.DataFrame(rows, schema=schema)
    return excess_over_baseline(frame, "pre_tax_return", "after_tax_return", liquidation_rate,
                                on=("peak",)).sort("peak", "strategy")


def irr(dates: list[dt.date], flows: np.ndarray) -> float:
    """Annual internal rate of return of dated flows (money in < 0, out > 0), by bisection on
    Σ f_i (1 + r)^(−t_i) = 0 with t in years; NaN when the flows do not change sign."""
    t = np.array([(d - dates[0]).days / 365.25 for d in dates])
    if not (flows < 0).any() or not (flows > 0).any():
        return float("nan")

    def npv(r: float) -> float:
        return float((flows * (1.0 + r) ** -t).sum())

    lo, hi = -0.99, 10.0
    if npv(lo) * npv(hi) > 0:
        return float("nan")
    for _ in range(200):
        mid = (lo + hi) / 2
        if npv(lo) * npv(mid) <= 0:
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-12:
            break
    return (lo + hi) / 2


def summary(run: SimRun, path: pl.DataFrame, years: pl.DataFrame) -> pl.DataFrame:
    rows = []
    for (strategy,), p in path.partition_by("strategy", as_dict=True, maintain_order=True).items():
        p = p.sort("date")
        dates = p["date"].to_list()
        span = max((dates[-1] - dates[0]).days / 365.25, 1 / 365.25)
        r = p["period_return"].drop_nulls().to_numpy()
        cumulative = float(np.prod(1 + r) - 1) if len(r) else 0.0
        flows = -(p["deposit_usd"] - p["withdrawal_usd"]).to_numpy().copy()
        flows[0] -= p["value_before_usd"][0]
        flows[-1] += p["liquidation_usd"][-1]
        y = years.filter(pl.col("strategy") == strategy)
        rows.append(dict(
            strategy=strategy, start=dates[0], end=dates[-1], years=span, rebalances=int(p["rebalanced"].sum()),
            pre_tax_return=cumulative, pre_tax_return_annualized=(1 + cumulative) ** (1 / span) - 1,
            taxes_usd=float(y["taxes_usd"].sum()), losses_harvested_usd=float(y["losses_harvested_usd"].sum()),
            net_gains_realized_usd=float((y["st_gain_usd"] + y["lt_gain_usd"]).sum()),
            gains_deferred_usd=float(p["unrealized_gain_usd"][-1]), end_value_usd=float(p["value_usd"][-1]),
            liquidation_usd=float(p["liquidation_usd"][-1]), after_tax_return_annualized=irr(dates, flows),
            turnover_annual=float(p["sold_usd"].sum() / p["value_usd"].mean() / span),
            wash_sales=int(run.wash_sale_lines.filter((pl.col("strategy") == strategy) & UNSTATED_WASH).height),
            partial_wash_sales=int(run.wash_sale_lines.filter((pl.col("strategy") == strategy)
                                                              & (pl.col("stated_usd") > 0)).height),
            seconds_per_rebalance=run.seconds.get(strategy, 0.0) / max(run.rebalances, 1)))
    out = pl.DataFrame(rows)
    out = out.join(realized_tracking_error(run.daily), on="strategy", how="left", maintain_order="left") \
        .join(ex_ante_tracking_error(run), on="strategy", how="left", maintain_order="left")
    out = excess_over_baseline(out, "pre_tax_return_annualized", "after_tax_return_annualized", run.liquidation_rate,
                               suffix="_annualized")
    naive = out.filter(pl.col("strategy") == "naive")
    return out.with_columns(
        (pl.col("after_tax_return_annualized") - naive["after_tax_return_annualized"][0] if naive.height
         else pl.lit(None, pl.Float64)).alias("after_tax_excess_vs_naive_annualized"),
        (pl.lit(float(naive["net_gains_realized_usd"][0])) - pl.col("net_gains_realized_usd") if naive.height
         else pl.lit(None, pl.Float64)).alias("gains_deferred_vs_naive_usd"))
