"""From solved households to the run's output frames (pure: no Prefect, no I/O).

Quantities keep full precision here; rounding to cents and 6-decimal shares happens once, in the
file writer (``tasks.export``), as the output contracts state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from data_contracts.validation import EXCEPTION_SCHEMA
from optimizer.result import HouseholdSolution, drift, tracking_error_after, tracking_error_before
from optimizer.terms.tax import lot_gain_per_dollar


@dataclass
class BatchResult:
    """One batch of households: the solutions that passed and the exceptions of those that did not."""

    household_ids: list[str]
    solutions: list[HouseholdSolution] = field(default_factory=list)
    exceptions: list[dict] = field(default_factory=list)
    infeasible: int = 0
    relaxed: int = 0
    failed_verification: int = 0

    def exception_frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.exceptions, schema=EXCEPTION_SCHEMA)


def household_exception(household_id: str, stage: str, reason: str, severity: str = "error") -> dict:
    return dict(household_id=household_id, severity=severity, stage=stage, file=None, row=None, field=None, reason=reason)


def _sell_reason(sol: HouseholdSolution, account: int, security: int, lots: np.ndarray) -> str:
    p = sol.problem
    if p.account_taxable[account] and (lot_gain_per_dollar(p)[lots] < 0).all():
        return "harvest loss"
    if p.is_substitute[security]:
        return f"swap back to {p.security_ids[p.slot[security]]}"
    if p.target_weight[security] <= 0:
        return "not in model"
    if p.cash_usd[account] < p.min_cash_usd[account]:
        return "raise cash"
    return "reduce overweight"


def solution_frames(solutions: list[HouseholdSolution], custodian_of: dict[str, str]) -> dict[str, pl.DataFrame]:
    """trades, lot_sales, realized gains by account and household, drift (without run columns)."""
    trades, sales, drifts = [], [], []
    for sol in solutions:
        p = sol.problem
        sold = sol.lot_sold_shares
        lots = np.flatnonzero(sold > 0)
        gain = sol.realized_gain_usd
        washed = sol.lot_disallowed_usd
        long_term = p.lot_long_term
        for i in lots:
            a, s = p.lot_account[i], p.lot_security[i]
            sales.append((p.household_id, p.account_ids[a], p.lot_ids[i], p.security_ids[s],
                          p.lot_acquired[i].astype(dt.date), float(sold[i]), float(sol.lot_sold_usd[i] - gain[i]),
                          float(sol.lot_sold_usd[i]), float(gain[i]), float(washed[i]), "long" if long_term[i] else "short",
                          bool(p.account_taxable[a])))
        keys = sorted({(p.lot_account[i], p.lot_security[i]) for i in lots})
        for a, s in keys:
            in_trade = lots[(p.lot_account[lots] == a) & (p.lot_security[lots] == s)]
            trades.append((p.household_id, p.account_ids[a], p.security_ids[s], "sell", float(sold[in_trade].sum()),
                           float(p.price_usd[s]), _sell_reason(sol, a, s, in_trade)))
        for a, s, q in zip(sol.buy_account, sol.buy_security, sol.buy_shares):
            reason = f"substitute for {p.security_ids[p.slot[s]]}" if p.is_substitute[s] else "invest to target"
            trades.append((p.household_id, p.account_ids[a], p.security_ids[s], "buy", float(q), float(p.price_usd[s]), reason))
        before = drift(p, p.holdings_usd, p.cash_usd)
        after = drift(p, sol.holdings_after_usd, sol.cash_after_usd)
        drifts.append((p.household_id, p.total_value_usd, before[0], after[0], before[1], after[1],
                       tracking_error_before(p), tracking_error_after(sol), p.max_tracking_error))

    trade_schema = {"household_id": pl.String, "account_id": pl.String, "security_id": pl.String, "side": pl.String,
                    "quantity_shares": pl.Float64, "est_price_usd": pl.Float64, "reason": pl.String}
    trades_df = pl.DataFrame(trades, schema=trade_schema, orient="row").with_columns(
        pl.col("account_id").replace_strict(custodian_of, default=None).alias("custodian_id"))
    sales_df = pl.DataFrame(sales, orient="row", schema={
        "household_id": pl.String, "account_id": pl.String, "lot_id": pl.String, "security_id": pl.String,
        "acquisition_date": pl.Date, "quantity_shares": pl.Float64, "basis_usd": pl.Float64, "proceeds_usd": pl.Float64,
        "gain_usd": pl.Float64, "wash_disallowed_usd": pl.Float64, "term": pl.String, "taxable": pl.Boolean})
    # What the year's return sees: a loss a partial wash sale disallows is no loss now (it moves into
    # the replacement shares' basis).
    recognized = pl.col("gain_usd") + pl.col("wash_disallowed_usd")
    by_account = sales_df.group_by("household_id", "account_id", "taxable").agg(
        recognized.filter(pl.col("term") == "short").sum().alias("st_gain_usd"),
        recognized.filter(pl.col("term") == "long").sum().alias("lt_gain_usd"),
    ).sort("household_id", "account_id")
    rates = {sol.problem.household_id: (sol.problem.short_term_rate, sol.problem.long_term_rate) for sol in solutions}
    by_household = by_account.filter("taxable").group_by("household_id").agg(
        pl.col("st_gain_usd").sum(), pl.col("lt_gain_usd").sum()).sort("household_id")
    by_household = by_household.with_columns(
        (pl.col("st_gain_usd") * pl.col("household_id").replace_strict({k: v[0] for k, v in rates.items()}, default=0.0)
         + pl.col("lt_gain_usd") * pl.col("household_id").replace_strict({k: v[1] for k, v in rates.items()}, default=0.0))
        .alias("est_tax_at_marginal_rates_usd"))
    drift_df = pl.DataFrame(drifts, orient="row", schema={
        "household_id": pl.String, "total_value_usd": pl.Float64, "class_drift_before": pl.Float64,
        "class_drift_after": pl.Float64, "security_drift_before": pl.Float64, "security_drift_after": pl.Float64,
        "tracking_error_before": pl.Float64, "tracking_error_after": pl.Float64, "max_tracking_error": pl.Float64})
    return {
        "trades": trades_df.sort("household_id", "account_id", "security_id", "side"),
        "lot_sales": sales_df.sort("household_id", "account_id", "lot_id"),
        "realized_gains_by_account": by_account,
        "realized_gains_by_household": by_household,
        "drift": drift_df.sort("household_id"),
    }
