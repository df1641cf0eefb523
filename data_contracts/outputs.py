"""Contracts of every file a run writes (per-run folder ``<out>/<as_of>/<run_id>/``).

Amount columns (``*_usd``) are written rounded half-even to cents; share quantities to 6
decimal places (custodians that take fractional shares accept this). Everything upstream of
the file writer keeps full float64 precision.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Optional

from pydantic import BaseModel, Field

from data_contracts.inputs import Record, fraction, shares, usd
from data_contracts.types import AccountId, CustodianId, HouseholdId, LotId, SecurityId, Severity, Side, Term


class TradeRecord(Record):
    """Trade file: one row per account × security × side."""

    run_id: str = Field(description="Run that proposed the trade.")
    as_of_date: dt.date = Field(description="Business day of the data the trade was computed from.")
    household_id: HouseholdId = Field(description="Household.")
    account_id: AccountId = Field(description="Account to trade in.")
    custodian_id: CustodianId = Field(description="Custodian of the account.")
    security_id: SecurityId = Field(description="Security.")
    side: Side = Field(description="buy or sell.")
    quantity_shares: float = Field(gt=0, **shares("Shares to trade (6 decimals)."))
    est_price_usd: float = Field(gt=0, **usd("Price the trade was sized at (as-of close)."))
    est_amount_usd: float = Field(ge=0, **usd("quantity × price, in cents."))
    reason: str = Field(description="Why: e.g. 'reduce overweight', 'invest to target', 'raise cash', 'not in model'.")


class LotSaleRecord(Record):
    """Lot relief: one row per lot sold (taxable and tax-advantaged accounts alike)."""

    run_id: str = Field(description="Run.")
    household_id: HouseholdId = Field(description="Household.")
    account_id: AccountId = Field(description="Account.")
    lot_id: LotId = Field(description="Lot relieved.")
    security_id: SecurityId = Field(description="Security.")
    acquisition_date: dt.date = Field(description="Lot's acquisition date.")
    quantity_shares: float = Field(gt=0, **shares("Shares sold from the lot."))
    basis_usd: float = Field(**usd("Basis of the shares sold (pro rata of the lot's basis)."))
    proceeds_usd: float = Field(**usd("Estimated proceeds at the as-of close."))
    gain_usd: float = Field(**usd("proceeds − basis (negative = loss)."))
    wash_disallowed_usd: float = Field(ge=0, **usd(
        "Loss a partial wash sale disallows (shares of the group bought in the last 30 days, matched in "
        "acquisition order, Publication 550): it moves into the replacement shares' basis; "
        "gain_usd + this is the gain recognized now."))
    term: Term = Field(description="short or long: long when sold more than one year after acquisition.")
    taxable: bool = Field(description="False in IRAs: the gain is not taxed now.")


class AccountRealizedGainsRecord(Record):
    """Realized gains of the run: one row per account with at least one lot sold."""

    run_id: str = Field(description="Run.")
    household_id: HouseholdId = Field(description="Household.")
    account_id: AccountId = Field(description="Account.")
    taxable: bool = Field(description="Whether the account's gains are taxed now.")
    st_gain_usd: float = Field(**usd("Net short-term gain the run recognizes (a washed loss is none)."))
    lt_gain_usd: float = Field(**usd("Net long-term gain the run recognizes (a washed loss is none)."))


class HouseholdRealizedGainsRecord(Record):
    """Realized gains of the run: one row per household with trades, taxable accounts only."""

    run_id: str = Field(description="Run.")
    household_id: HouseholdId = Field(description="Household.")
    st_gain_usd: float = Field(**usd("Net short-term gain realized in taxable accounts."))
    lt_gain_usd: float = Field(**usd("Net long-term gain realized in taxable accounts."))
    est_tax_at_marginal_rates_usd: float = Field(**usd(
        "The run's gains × the household's marginal ST/LT rates, not netted with its year (negative = saving)."))
    est_tax_usd: float = Field(**usd(
        "Estimated tax this run adds to the household's year, netted with its year to date and carryforwards, "
        "the $3,000 rule applied: tax_report.csv's est_tax_run_usd (negative = saving)."))


class HouseholdTaxReportRecord(Record):
    """Tax report: one row per solved household, its year with this run, against a tax-naive rebalance.

    The naive rebalance (optimizer/naive.py) brings every account exactly to the same model, relieves
    lots first in, first out, and knows no tax: its wash sales are counted and their losses disallowed.
    Savings are priced on the household's year (YTD realized, carryforwards, rates) by the ledger's
    netting and estimate; a loss left to carry forward counts at ``carryforward_value`` × the LT rate.
    """

    run_id: str = Field(description="Run.")
    household_id: HouseholdId = Field(description="Household.")
    ytd_st_gain_before_usd: float = Field(**usd("Net short-term gain realized this year before this run (households file)."))
    ytd_lt_gain_before_usd: float = Field(**usd("Net long-term gain realized this year before this run."))
    run_st_gain_usd: float = Field(**usd("Net short-term gain this run realizes in taxable accounts (negative = loss)."))
    run_lt_gain_usd: float = Field(**usd("Net long-term gain this run realizes in taxable accounts."))
    ytd_st_gain_usd: float = Field(**usd("Net short-term gain realized this year including this run."))
    ytd_lt_gain_usd: float = Field(**usd("Net long-term gain realized this year including this run."))
    est_tax_ytd_usd: float = Field(**usd("This year's estimated tax on realized gains, this run included, after "
                                         "netting, carryforwards and the $3,000 ordinary-income deduction."))
    est_tax_run_usd: float = Field(**usd("The part of est_tax_ytd_usd this run adds (negative = saving)."))
    losses_harvested_usd: float = Field(ge=0, **usd("Gross losses this run recognizes in taxable accounts."))
    wash_disallowed_usd: float = Field(ge=0, **usd(
        "Loss this run's partial wash sales disallow (sold while shares of the group bought in the last 30 days "
        "are held: only their count's loss, Publication 550); it moves into their basis, not into this year."))
    gains_deferred_usd: float = Field(**usd("Gross gains the naive rebalance would realize beyond this run's "
                                            "(negative: this run realizes more)."))
    wash_sales_avoided: int = Field(ge=0, description="Wash sales the naive rebalance would create (loss lots sold "
                                                      "while replacements are bought or recent, buys into a group "
                                                      "sold at a loss within 30 days); Lotwise creates none but the partial "
                                                      "ones it states (wash_disallowed_usd), proved by the ledger.")
    naive_st_gain_usd: float = Field(**usd("Net short-term gain the naive rebalance would realize (allowed part)."))
    naive_lt_gain_usd: float = Field(**usd("Net long-term gain the naive rebalance would realize (allowed part)."))
    naive_est_tax_run_usd: float = Field(**usd("Tax the naive rebalance would add this year."))
    tax_saved_usd: float = Field(**usd("Estimated taxes saved or deferred against the naive rebalance "
                                       "(= harvesting + deferral)."))
    tax_saved_harvesting_usd: float = Field(**usd("Part of tax_saved_usd from realizing more losses."))
    tax_saved_deferral_usd: float = Field(**usd("Part of tax_saved_usd from realizing fewer or longer-held gains."))


class HouseholdDriftRecord(Record):
    """Drift from target: one row per solved household."""

    run_id: str = Field(description="Run.")
    household_id: HouseholdId = Field(description="Household.")
    total_value_usd: float = Field(**usd("Household value (holdings + cash) at the as-of close."))
    class_drift_before: float = Field(**fraction("½ Σ over asset classes |weight − target| before trading."))
    class_drift_after: float = Field(**fraction("The same after the proposed trades."))
    security_drift_before: float = Field(**fraction("½ Σ over securities |weight − target| before trading."))
    security_drift_after: float = Field(**fraction("The same after the proposed trades."))
    tracking_error_before: Optional[float] = Field(None, ge=0, description=(
        "Ex-ante tracking error before trading, annualized fraction, from the day's risk model (blank: none)."))
    tracking_error_after: Optional[float] = Field(None, ge=0, description="The same after the proposed trades.")
    max_tracking_error: Optional[float] = Field(None, gt=0, description=(
        "The household's cap on it (run configuration or mandate, the tighter; blank: no cap)."))


class ExceptionRecord(Record):
    """Exceptions queue: one row per problem found (bad input, held household, infeasible, failed check)."""

    run_id: str = Field(description="Run.")
    household_id: Optional[HouseholdId] = Field(None, description="Household affected (blank: firm-level).")
    severity: Severity = Field(description="error: the household gets no trades; warning: reported only.")
    stage: str = Field(description="ingest, validate, optimize or verify.")
    file: Optional[str] = Field(None, description="Input file, relative to the input folder.")
    row: Optional[int] = Field(None, description="1-based line in the file (the header is line 1).")
    field: Optional[str] = Field(None, description="Column at fault.")
    reason: str = Field(description="What is wrong, in plain words.")


class BlockTradeRecord(Record):
    """Block trades: one row per security × side across every account (what the desk sends out)."""

    run_id: str = Field(description="Run.")
    block_id: str = Field(description="<security>-<side>: the key the allocations refer to.")
    security_id: SecurityId = Field(description="Security.")
    side: Side = Field(description="buy or sell.")
    quantity_shares: float = Field(gt=0, **shares("Total shares of the block (sum of its allocations)."))
    est_price_usd: float = Field(gt=0, **usd("Price the trades were sized at (as-of close)."))
    est_amount_usd: float = Field(ge=0, **usd("Sum of the allocations' amounts."))
    accounts: int = Field(ge=1, description="Accounts in the block.")


class AllocationRecord(Record):
    """Allocations: one row per account of a block; the block's fill is shared pro rata to quantity."""

    run_id: str = Field(description="Run.")
    block_id: str = Field(description="Block (block_trades.csv).")
    household_id: HouseholdId = Field(description="Household.")
    account_id: AccountId = Field(description="Account.")
    custodian_id: CustodianId = Field(description="Custodian of the account.")
    quantity_shares: float = Field(gt=0, **shares("Shares allocated to the account."))
    allocation_fraction: float = Field(gt=0, le=1, description="Account quantity ÷ block quantity (share of each fill).")


class PreTradeCheckRecord(Record):
    """Pre-trade checks: one row per account × check, recomputed from the trade file itself."""

    run_id: str = Field(description="Run.")
    household_id: HouseholdId = Field(description="Household.")
    account_id: AccountId = Field(description="Account.")
    check: Literal["cash", "lot_availability", "wash_sale_window", "restricted_securities"] = Field(
        description="What is checked.")
    status: Literal["pass", "fail"] = Field(description="fail: the desk must not release the account's orders.")
    detail: str = Field(description="The figures behind the verdict.")


class ReviewQueueRecord(Record):
    """Exceptions for human review: one row per household, most urgent first."""

    run_id: str = Field(description="Run.")
    rank: int = Field(ge=1, description="1 = review first.")
    household_id: HouseholdId = Field(description="Household.")
    priority: int = Field(ge=0, le=100, description="Score of the most urgent reason (100 = held, no trades).")
    total_value_usd: Optional[float] = Field(None, **usd("Household value, when it was solved."))
    reasons: str = Field(description="Every reason, most urgent first.")


class StageTiming(BaseModel):
    stage: str
    seconds: float


class RunSummary(BaseModel):
    """run_summary.json: one per run."""

    run_id: str = Field(description="Run id: YYYYMMDD-<16 hex>, the as-of date and a digest of the inputs and the "
                                    "run configuration, so a rerun reuses it and another configuration gets its own.")
    as_of_date: dt.date = Field(description="Business day of the inputs.")
    input_dir: str = Field(description="Folder the inputs were read from.")
    output_dir: str = Field(description="Folder the outputs were written to.")
    households_total: int = Field(description="Households in the households file.")
    households_solved: int = Field(description="Solved and verified (trades published, possibly none).")
    households_with_trades: int = Field(description="Solved households with at least one trade.")
    households_quarantined: int = Field(description="Held back by bad or incomplete input.")
    missing_custodians: list[str] = Field(
        default_factory=list, description="Custodians that delivered on the last validated day and sent no files "
                                          "today (a partial day: their households are held).")
    households_infeasible: int = Field(description="No feasible rebalance (see exceptions).")
    households_relaxed: int = Field(0, description="Solved only after relaxing soft limits (see exceptions).")
    households_failed_verification: int = Field(description="Solved but rejected by the independent check.")
    trades: int = Field(description="Rows in trades.csv.")
    buy_amount_usd: float = Field(**usd("Sum of buy amounts."))
    sell_amount_usd: float = Field(**usd("Sum of sell amounts."))
    est_tax_usd: float = Field(**usd("Estimated tax this run adds to the households' years, netted with year to date "
                                     "and carryforwards: tax_report.csv's est_tax_run_usd, summed (negative = saving)."))
    tax_saved_usd: float = Field(0.0, **usd("Estimated taxes saved or deferred against a tax-naive rebalance "
                                            "(tax_report.csv, summed)."))
    tax_saved_harvesting_usd: float = Field(0.0, **usd("Of which from loss harvesting."))
    tax_saved_deferral_usd: float = Field(0.0, **usd("Of which from gains deferral."))
    households_reused: int = Field(0, description="Unchanged inputs since an earlier run of the same day: "
                                                  "its decisions were reused, not re-solved.")
    expectations_evaluated: int = Field(0, description="Great Expectations evaluated on the day's files.")
    expectations_failed: int = Field(0, description="Of those, how many failed (details in the Data Docs).")
    data_docs: Optional[str] = Field(None, description="The run's Great Expectations Data Docs (index.html).")
    batches_resumed: int = Field(0, description="Batches read back from an interrupted run of the same inputs, not re-solved.")
    task_runner: str = Field("threads", description="Where the batches ran: threads, dask (local cluster) or dask <address>.")
    batches: int = Field(0, description="Household batches (Prefect tasks) of the solve stage.")
    batch_seconds: float = Field(0.0, description="Wall time inside the batches, summed over batches.")
    task_runner_start_seconds: float = Field(0.0, description="Time the task runner took to start (a Dask cluster's "
                                                              "worker processes), part of the solve stage.")
    orchestration_overhead_share: float = Field(
        0.0, description="Solve-stage time outside batch bodies per worker and outside the runner's start (Prefect's "
                         "task engine, scheduling, the idle tail) ÷ the run's wall time: an upper bound on Prefect's share.")
    stage_timings: list[StageTiming] = Field(description="Wall time per stage, in order.")


class CashFlowSummary(BaseModel):
    """run_summary.json of a cash-flow run: one household, one deposit or withdrawal."""

    kind: str = Field("cash_flow", description="Always cash_flow (daily runs have no kind).")
    run_id: str = Field(description="cf- plus a digest of the event and the run configuration: a redelivered "
                                    "event reuses it.")
    as_of_date: dt.date = Field(description="Business day of the validated data it ran on.")
    base_run_id: str = Field(description="The daily run whose staged data and published trades it started from.")
    applied_runs: list[str] = Field(description="Runs whose published trades were applied first, in order.")
    household_id: str = Field(description="The household.")
    account_id: str = Field(description="Account of the deposit or withdrawal.")
    amount_usd: float = Field(**usd("The request's amount, to the cent (positive deposit, negative withdrawal)."))
    event_id: Optional[str] = Field(None, description="The triggering lotwise.cashflow event, if any.")
    occurred: Optional[str] = Field(None, description="When the event occurred (ISO 8601).")
    status: str = Field(description="published, infeasible or failed_verification (then no trades are published).")
    reason: Optional[str] = Field(None, description="Why not published, or what was relaxed.")
    trades: int = Field(description="Rows in trades.csv.")
    buy_amount_usd: float = Field(**usd("Sum of buy amounts."))
    sell_amount_usd: float = Field(**usd("Sum of sell amounts."))
    st_gain_usd: float = Field(**usd("Short-term gain realized in taxable accounts (negative = loss)."))
    lt_gain_usd: float = Field(**usd("Long-term gain realized in taxable accounts (negative = loss)."))
    est_tax_usd: float = Field(**usd("Estimated tax this run adds to the households' years, netted with year to date "
                                     "and carryforwards: tax_report.csv's est_tax_run_usd, summed (negative = saving)."))
    cash_after_usd: float = Field(**usd("The account's cash after trading (a withdrawal is paid from it)."))
    output_dir: str = Field(description="Folder the files were written to.")
    seconds_to_publish: float = Field(description="From the flow's start to its trade file in place.")
