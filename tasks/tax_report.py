"""The per-household tax report: the year with this run, and what it saved against a tax-naive rebalance.

Pure (polars and numpy). The naive rebalance is optimizer/naive.py; the pricing of both and the
split of the saving into harvesting and deferral is optimizer/ledger/savings.py.
"""

from __future__ import annotations

import polars as pl

from data_contracts.config import RunConfig
from optimizer.ledger.savings import Realized, TaxYear, tax_savings
from optimizer.naive import naive_rebalance
from optimizer.result import HouseholdSolution
from tasks.outcomes import solution_frames
from tasks.problems import tax_profile

TAX_REPORT_SCHEMA = {
    "household_id": pl.String, "ytd_st_gain_before_usd": pl.Float64, "ytd_lt_gain_before_usd": pl.Float64,
    "run_st_gain_usd": pl.Float64, "run_lt_gain_usd": pl.Float64, "ytd_st_gain_usd": pl.Float64,
    "ytd_lt_gain_usd": pl.Float64, "est_tax_ytd_usd": pl.Float64, "est_tax_run_usd": pl.Float64,
    "losses_harvested_usd": pl.Float64, "wash_disallowed_usd": pl.Float64, "gains_deferred_usd": pl.Float64,
    "wash_sales_avoided": pl.Int64,
    "naive_st_gain_usd": pl.Float64, "naive_lt_gain_usd": pl.Float64, "naive_est_tax_run_usd": pl.Float64,
    "tax_saved_usd": pl.Float64, "tax_saved_harvesting_usd": pl.Float64, "tax_saved_deferral_usd": pl.Float64,
}


def tax_year(hh: dict, year: int) -> TaxYear:
    return TaxYear(year, hh["ytd_realized_st_gain_usd"], hh["ytd_realized_lt_gain_usd"], hh["st_loss_carryforward_usd"],
                   hh["lt_loss_carryforward_usd"], tax_profile(hh))


def tax_report_frame(solutions: list[HouseholdSolution], households: pl.DataFrame, config: RunConfig) -> pl.DataFrame:
    """One row per solution (without the run column); ``households`` holds their rows of the households file."""
    ids = [sol.problem.household_id for sol in solutions]
    rows_of = {r["household_id"]: r for r in households.filter(pl.col("household_id").is_in(ids)).iter_rows(named=True)}
    rows = []
    for sol in solutions:
        p = sol.problem
        year = tax_year(rows_of[p.household_id], p.as_of.year)
        taxable = p.account_taxable[p.lot_account]
        lotwise = Realized.of_lots(sol.recognized_gain_usd, p.lot_long_term, taxable)  # washed loss: none now
        naive = naive_rebalance(p)
        naive_realized = Realized.of_lots(naive.realized_gain_usd(p), p.lot_long_term, taxable)
        saved = tax_savings(year, lotwise, naive_realized, config.carryforward_value)
        before, after = year.estimated_tax_usd(), year.estimated_tax_usd(lotwise)
        rows.append((
            p.household_id, year.ytd_st_usd, year.ytd_lt_usd, lotwise.net_st_usd, lotwise.net_lt_usd,
            year.ytd_st_usd + lotwise.net_st_usd, year.ytd_lt_usd + lotwise.net_lt_usd, after, after - before,
            lotwise.st_losses_usd + lotwise.lt_losses_usd, float(sol.lot_disallowed_usd[taxable].sum()),
            (naive_realized.st_gains_usd + naive_realized.lt_gains_usd) - (lotwise.st_gains_usd + lotwise.lt_gains_usd),
            naive.wash_sales, naive_realized.net_st_usd, naive_realized.net_lt_usd,
            year.estimated_tax_usd(naive_realized) - before, saved.total_usd, saved.harvesting_usd, saved.deferral_usd))
    return pl.DataFrame(rows, schema=TAX_REPORT_SCHEMA, orient="row").sort("household_id")


def run_frames(solutions: list[HouseholdSolution], custodian_of: dict[str, str], households: pl.DataFrame,
               config: RunConfig) -> dict[str, pl.DataFrame]:
    """The run's output frames (``solution_frames``) and its tax report, each household's realized
    gains carrying the report's netted figure as ``est_tax_usd`` (= ``est_tax_run_usd``): one estimated
    tax wherever it is shown; the marginal-rate figure stays beside it, named as such."""
    frames = solution_frames(solutions, custodian_of)
    frames["tax_report"] = tax_report_frame(solutions, households, config)
    netted = frames["tax_report"].select("household_id", pl.col("est_tax_run_usd").alias("est_tax_usd"))
    frames["realized_gains_by_household"] = frames["realized_gains_by_household"].join(
        netted, on="household_id", how="left", maintain_order="left")
    return frames
