"""A simulation's results: per strategy, over every simulated household together.

Definitions (all money in dollars; the households are summed into one portfolio per strategy):

* period return r_k = V⁻_k / V⁺_{k−1} − 1, where V⁻ is the value at a rebalance before its deposit,
  withdrawal and tax payment (dividends included) and V⁺ the value after them: a time-weighted,
  **pre-tax** return (taxes paid leave like withdrawals); yearly and cumulative returns chain it;
* the model's return m_k: each household's target weights at the last rebalance times the
  securities' price returns since (value-weighted over households); **tracking error** =
  std(r_k − m_k) × √(rebalances per year);
* **after-tax liquidation value**: the value at the end less the tax of selling every lot then, of
  every year not yet paid, and of accrued taxes, plus the value of a loss still carried forward after
  the sale (``carryforward_value`` × the long-term rate, as the optimizer and the tax report price it;
  ``book.liquidation_usd``);
* **after-tax return**: the internal rate of return of the money in (the starting value, deposits),
  the money out (withdrawals) and the liquidation value at the end; **tax alpha** of a strategy =
  its after-tax return − the naive strategy's (annualized, both);
* **cumulative tax alpha** on a date = (liquidation value − naive's) ÷ the money put in so far;
* **turnover** = dollars sold ÷ mean value, per year; **gains deferred** = unrealized gains in
  taxable accounts (what selling would realize), at each year end and at the end;
* **wash sales** = sale lines whose loss the tax-lot ledger disallowed (zero for lotwise).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from tasks.simulation.engine import SimRun

SUM_COLUMNS = ("value_before_usd", "deposit_usd", "withdrawal_usd", "tax_paid_usd", "value_usd", "liquidation_usd",
               "unrealized_gain_usd", "sold_usd", "bought_usd")


def portfolio_path(run: SimRun) -> pl.DataFrame:
    """Per strategy and rebalance date: the households summed, with period and model returns."""
    path = run.path.sort("strategy", "household_id", "date").with_columns(
        pl.col("value_usd").shift(1).over("strategy", "household_id").alias("value_prev"))
    agg = path.group_by("strategy", "date").agg(
        *(pl.col(c).sum() for c in SUM_COLUMNS),
        pl.col("value_prev").sum().alias("value_prev_usd"),
        pl.when(pl.col("model_return").is_not_null().any())
        .then((pl.col("model_return") * pl.col("value_prev")).sum() / pl.col("value_prev").filter(
            pl.col("model_return").is_not_null()).sum()).alias("model_return"),
        ((pl.col("security_drift") * pl.col("value_usd")).sum() / pl.col("value_usd").sum()).alias("security_drift"),
        ((pl.col("class_drift") * pl.col("value_usd")).sum() / pl.col("value_usd").sum()).alias("class_drift"),
    ).sort("strategy", "date")
    agg = agg.with_columns(
        pl.when(pl.col("value_prev_usd") > 0).then(pl.col("value_before_usd") / pl.col("value_prev_usd") - 1)
        .otherwise(None).alias("period_return"),
        (pl.col("deposit_usd") - pl.col("withdrawal_usd")).cum_sum().over("strategy").alias("net_in_usd"))
    start = agg.group_by("strategy").agg(pl.col("value_before_usd").first().alias("start_usd"))
    agg = agg.join(start, on="strategy").with_columns((pl.col("start_usd") + pl.col("net_in_usd")).alias("capital_in_usd"))
    naive = agg.filter(pl.col("strategy") == "naive").select("date", pl.col("liquidation_usd").alias("naive_liq"))
    if naive.height:
        agg = agg.join(naive, on="date", how="left").with_columns(
            ((pl.col("liquidation_usd") - pl.col("naive_liq")) / pl.col("capital_in_usd")).alias("cumulative_tax_alpha")
        ).drop("naive_liq")
    else:
        agg = agg.with_columns(pl.lit(None, pl.Float64).alias("cumulative_tax_alpha"))
    return agg.drop("start_usd").sort("strategy", "date")


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
    out = by_year.join(figures, on=["strategy", "year"], how="left").with_columns(
        (pl.col("sold_usd") / pl.col("mean_value_usd")).alias("turnover"))
    return out.select("strategy", "year", "pre_tax_return", "end_value_usd", "end_liquidation_usd", "taxes_usd",
                      "st_gain_usd", "lt_gain_usd", "losses_harvested_usd", "gains_deferred_usd", "dividends_usd",
                      "turnover", "mean_security_drift", "wash_sales").sort("strategy", "year")


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
        m = p["model_return"].drop_nulls().to_numpy()
        n = min(len(r), len(m))
        per_year = max(len(r), 1) / span
        cumulative = float(np.prod(1 + r) - 1) if len(r) else 0.0
        flows = -(p["deposit_usd"] - p["withdrawal_usd"]).to_numpy().copy()
        flows[0] -= p["value_before_usd"][0]
        flows[-1] += p["liquidation_usd"][-1]
        y = years.filter(pl.col("strategy") == strategy)
        rows.append(dict(
            strategy=strategy, start=dates[0], end=dates[-1], years=span, rebalances=len(dates),
            pre_tax_return=cumulative, pre_tax_return_annualized=(1 + cumulative) ** (1 / span) - 1,
            taxes_usd=float(y["taxes_usd"].sum()), losses_harvested_usd=float(y["losses_harvested_usd"].sum()),
            net_gains_realized_usd=float((y["st_gain_usd"] + y["lt_gain_usd"]).sum()),
            gains_deferred_usd=float(p["unrealized_gain_usd"][-1]), end_value_usd=float(p["value_usd"][-1]),
            liquidation_usd=float(p["liquidation_usd"][-1]), after_tax_return_annualized=irr(dates, flows),
            tracking_error=float(np.std(r[-n:] - m[-n:], ddof=1) * np.sqrt(per_year)) if n > 1 else float("nan"),
            turnover_annual=float(p["sold_usd"].sum() / p["value_usd"].mean() / span),
            wash_sales=int(run.wash_sale_lines.filter(pl.col("strategy") == strategy).height),
            seconds_per_rebalance=run.seconds.get(strategy, 0.0) / max(run.rebalances, 1)))
    out = pl.DataFrame(rows)
    naive = out.filter(pl.col("strategy") == "naive")
    base = naive["after_tax_return_annualized"][0] if naive.height else None
    return out.with_columns(
        (pl.col("after_tax_return_annualized") - base if base is not None else pl.lit(None, pl.Float64)).alias("tax_alpha_annualized"),
        (pl.lit(float(naive["net_gains_realized_usd"][0])) - pl.col("net_gains_realized_usd") if naive.height
         else pl.lit(None, pl.Float64)).alias("gains_deferred_vs_naive_usd"))
