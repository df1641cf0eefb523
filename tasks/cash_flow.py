"""cash flow: one household re-optimized on the latest validated data, with money in or out.

The household's rows come from the staged partitions (``stg_*``) of the latest published daily
run. The decisions already published for that date are applied first, so the cash-flow run starts
from where the desk's trades will leave the household: the daily run's lot sales shrink their lots,
its buys become new lots acquired that day, cash moves accordingly, and every one of those trades
joins the household's transactions, so the 30-day wash-sale windows (any account, IRAs included)
see them. Earlier cash-flow runs of the same date for the same household are applied the same way,
in the order their events occurred.

Then a deposit is added to the account's cash (the LP invests it toward the targets), and a
withdrawal becomes the account's cash to raise, r_a in the LP (cash after trading ≥ minimum + r_a),
so the lots sold to raise it are the ones that cost the least tax. Everything the daily run does
after solving — relaxation of soft limits, the independent verification — applies unchanged.

The run id is a digest of the event (or of the request and the base run) and of the effective run
configuration, so a redelivered event rewrites the same files and another configuration never does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from data_contracts.cash_flow import CashFlowRejected, CashFlowRequest
from data_contracts.config import RunConfig
from data_contracts.privacy import mask_account, mask_text
from data_contracts.validation import ValidatedDay
from optimizer.problem import HouseholdProblem
from tasks.staged import StagedDay, scan_partition
from warehouse.io import partition_dir


@dataclasses.dataclass(frozen=True)
class BaseRun:
    """The published daily run a cash flow builds on."""

    as_of: dt.date
    run_id: str
    input_dir: str | None = None  # its drop: the custodians' layouts for the order files


def latest_daily_run(parquet_root: Path) -> BaseRun:
    """The latest date's last published daily run (a run summary and staged inputs both exist)."""
    root = Path(parquet_root)
    for dated in sorted((root / "fct_runs").glob("as_of_date=*"), reverse=True):
        as_of = dt.date.fromisoformat(dated.name.split("=", 1)[1])
        done = [(p.stat().st_mtime, p.parent.name.split("=", 1)[1]) for p in dated.glob("run_id=*/part-0.parquet")]
        daily = [(t, r) for t, r in done if (partition_dir(root, "stg_household_inputs", as_of, r) / "part-0.parquet").exists()]
        if daily:
            run_id = max(daily)[1]
            row = pl.read_parquet(partition_dir(root, "fct_runs", as_of, run_id) / "part-0.parquet").row(0, named=True)
            return BaseRun(as_of, run_id, row.get("input_dir"))
    raise CashFlowRejected("no daily run has been published yet: there is no validated data to rebalance on")


def household_day(parquet_root: Path, base: BaseRun, household_id: str) -> ValidatedDay:
    """The household's validated rows of the base run (firm tables whole); rejects an unknown or held household."""
    day = StagedDay(Path(parquet_root), base.as_of, base.run_id).households([household_id])
    if day.households.height == 0:
        raise CashFlowRejected(f"household {household_id} is not in the latest validated data "
                               f"({base.as_of}, run {base.run_id})")
    held = (scan_partition(parquet_root, "fct_exceptions", base.as_of, base.run_id)
            .filter((pl.col("household_id") == household_id) & (pl.col("severity") == "error") & (pl.col("stage") == "validate"))
            .collect())
    if held.height:
        why = mask_text("; ".join(held["reason"].unique(maintain_order=True).head(3)),
                        set(day.accounts["account_id"].cast(pl.String).to_list()))
        raise CashFlowRejected(f"household {household_id} was held back on {base.as_of} by bad input, so there is no "
                               f"validated data to rebalance it on: {why}")
    return day


def check_account(request: CashFlowRequest, account_ids: list[str]) -> None:
    """Rejects a request whose account is not one of ``account_ids``, the household's (the CLI checks
    before an event is emitted, the flow again before it solves)."""
    if request.account_id is not None and request.account_id not in account_ids:
        raise CashFlowRejected(f"account {mask_account(request.account_id)} does not belong to household "
                               f"{request.household_id}")


def published_decisions(parquet_root: Path, base: BaseRun, household_id: str, before: dt.datetime | None,
                        exclude_run: str) -> tuple[list[str], pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(run ids, lot sales, buys, cash moved) already published for the household on the base date:
    the daily run's, then earlier cash-flow runs' (events that occurred before ``before``) in event
    order; cash moved is each published earlier cash flow's deposit (+) or withdrawal (−)."""
    root = Path(parquet_root)
    runs = [base.run_id]
    dated = root / "fct_runs" / f"as_of_date={base.as_of.isoformat()}"
    earlier, moves = [], []
    for p in dated.glob("run_id=cf-*/part-0.parquet"):
        run = p.parent.name.split("=", 1)[1]  # partition keys live in the path, not the file
        row = pl.read_parquet(p).row(0, named=True)
        if row.get("household_id") != household_id or run == exclude_run or row.get("base_run_id") != base.run_id:
            continue
        occurred = dt.datetime.fromisoformat(row["occurred"]) if row.get("occurred") else None
        if before is None or occurred is None or occurred < before:
            earlier.append((occurred or dt.datetime.max.replace(tzinfo=dt.timezone.utc), run))
            if row["status"] == "published":
                moves.append((row["account_id"], float(Decimal(row["amount_usd"]))))
    runs += [r for _, r in sorted(earlier)]
    sales, buys = [], []
    for run in runs:
        sales.append(scan_partition(root, "fct_lot_sales", base.as_of, run).filter(pl.col("household_id") == household_id).collect())
        buys.append(scan_partition(root, "fct_trades", base.as_of, run)
                    .filter((pl.col("household_id") == household_id) & (pl.col("side") == "buy"))
                    .with_columns(pl.lit(run).alias("run_id")).collect())
    cash_moved = pl.DataFrame(moves, schema={"account_id": pl.String, "delta": pl.Float64}, orient="row")
    return runs, pl.concat(sales, how="diagonal_relaxed"), pl.concat(buys, how="diagonal_relaxed"), cash_moved


def apply_published(day: ValidatedDay, sales: pl.DataFrame, buys: pl.DataFrame,
                    cash_moved: pl.DataFrame | None = None) -> ValidatedDay:
    """The household as the published trades leave it: lots relieved and added, cash moved (trades
    and earlier deposits or withdrawals), and the trades in its transactions (so wash-sale windows
    see them)."""
    cash_moved = cash_moved if cash_moved is not None else pl.DataFrame(schema={"account_id": pl.String, "delta": pl.Float64})
    if sales.height == 0 and buys.height == 0 and cash_moved.height == 0:
        return day
    as_of = day.as_of
    sold = sales.group_by("account_id", "lot_id").agg(pl.col("quantity_shares").sum().alias("sold"))
    lots = (day.lots.join(sold, on=["account_id", "lot_id"], how="left").with_columns(pl.col("sold").fill_null(0.0))
            .with_columns(remaining=pl.col("quantity_shares") - pl.col("sold")))
    lots = lots.filter(pl.col("remaining") > 1e-9).with_columns(
        (pl.col("cost_basis_usd") * pl.col("remaining") / pl.col("quantity_shares")).alias("cost_basis_usd"),
        pl.col("remaining").alias("quantity_shares")).drop("sold", "remaining")
    bought = buys.select(
        "household_id", "account_id", "security_id", pl.format("{}:{}:{}", "run_id", "account_id", "security_id").alias("lot_id"),
        pl.lit(as_of).alias("acquisition_date"), "quantity_shares",
        (pl.col("quantity_shares") * pl.col("est_price_usd")).alias("cost_basis_usd"))
    lots = pl.concat([lots, bought], how="diagonal_relaxed")
    moved = pl.concat([
        sales.group_by("account_id").agg(pl.col("proceeds_usd").sum().alias("delta")),
        buys.group_by("account_id").agg((-(pl.col("quantity_shares") * pl.col("est_price_usd"))).sum().alias("delta")),
        cash_moved,
    ]).group_by("account_id").agg(pl.col("delta").sum())
    cash = day.cash.join(moved, on="account_id", how="left").with_columns(
        (pl.col("cash_usd") + pl.col("delta").fill_null(0.0)).alias("cash_usd")).drop("delta")
    traded = pl.concat([
        sales.select("household_id", "account_id", "security_id", pl.format("published-sell:{}", "lot_id").alias("transaction_id"),
                     pl.lit(as_of).alias("trade_date"), pl.lit("sell").alias("transaction_type"), "quantity_shares",
                     pl.col("proceeds_usd").alias("amount_usd"), pl.col("basis_usd").alias("cost_basis_usd")),
        buys.select("household_id", "account_id", "security_id",
                    pl.format("published-buy:{}:{}:{}", "run_id", "account_id", "security_id").alias("transaction_id"),
                    pl.lit(as_of).alias("trade_date"), pl.lit("buy").alias("transaction_type"), "quantity_shares",
                    (pl.col("quantity_shares") * pl.col("est_price_usd")).alias("amount_usd")),
    ], how="diagonal_relaxed")
    transactions = pl.concat([day.transactions, traded], how="diagonal_relaxed")
    # Their realized gains join the year-to-date figures (marginal rates, budgets, the tax report).
    taxable = sales.filter(pl.col("taxable")) if sales.height else sales
    realized = {term: float(taxable.filter(pl.col("term") == term)["gain_usd"].sum()) if taxable.height else 0.0
                for term in ("short", "long")}
    households = day.households.with_columns(pl.col("ytd_realized_st_gain_usd") + realized["short"],
                                             pl.col("ytd_realized_lt_gain_usd") + realized["long"])
    return dataclasses.replace(day, households=households, lots=lots, cash=cash, transactions=transactions)


def choose_account(problem: HouseholdProblem, request: CashFlowRequest) -> int:
    """The request's account, else the largest taxable account, else the largest account."""
    ids = [str(a) for a in problem.account_ids]
    if request.account_id is not None:
        check_account(request, ids)
        return ids.index(request.account_id)
    value = problem.cash_usd + np.bincount(problem.lot_account, weights=problem.lot_value_usd, minlength=problem.n_accounts)
    taxable = np.flatnonzero(problem.account_taxable)
    pool = taxable if len(taxable) else np.arange(problem.n_accounts)
    return int(pool[np.argmax(value[pool])])


def apply_cash_flow(problem: HouseholdProblem, request: CashFlowRequest) -> tuple[HouseholdProblem, int]:
    """The problem with the deposit in the account's cash or the withdrawal as its cash to raise."""
    a = choose_account(problem, request)
    amount_usd = float(request.amount_usd)  # exact to the cent as a decimal; the LP works in float dollars
    if request.amount_usd > 0:
        cash = problem.cash_usd.copy()
        cash[a] += amount_usd
        return dataclasses.replace(problem, cash_usd=cash), a
    raise_usd = -amount_usd
    held_usd = float(problem.lot_value_usd[problem.lot_account == a].sum())
    can_raise = problem.cash_usd[a] + held_usd
    if raise_usd > can_raise + 0.005:
        raise CashFlowRejected(
            f"withdrawal of ${raise_usd:,.2f} is more than account {mask_account(problem.account_ids[a])} holds "
            f"(${problem.cash_usd[a]:,.2f} cash and ${held_usd:,.2f} in securities)")
    withdrawal = np.zeros(problem.n_accounts) if problem.withdrawal_usd is None else problem.withdrawal_usd.copy()
    withdrawal[a] += raise_usd
    return dataclasses.replace(problem, withdrawal_usd=withdrawal), a


def cash_flow_run_id(request: CashFlowRequest, base: BaseRun, config: RunConfig) -> str:
    """cf-<16 hex>: a digest of the event's id when there is one (a redelivered event is the same run),
    else of the request and the base run, folded with the effective configuration's digest as a daily
    run id is (tasks.ingest.run_id_for): the same event under another configuration is another run."""
    key = request.event_id or f"{request.household_id}|{request.amount_usd}|{request.account_id}|{request.occurred}|{base.run_id}"
    return "cf-" + hashlib.blake2b(f"{key}|config={config.digest()}".encode(), digest_size=8).hexdigest()



@task(name="load-household", cache_policy=NO_CACHE)
def load_household(parquet_root: Path, request: CashFlowRequest,
                   config: RunConfig) -> tuple[BaseRun, ValidatedDay, list[str], str]:
    """(base run, the household as the published trades leave it, the runs applied, this run's id)."""
    base = latest_daily_run(parquet_root)
    run_id = cash_flow_run_id(request, base, config)
    day = household_day(parquet_root, base, request.household_id)
    runs, sales, buys, cash_moved = published_decisions(parquet_root, base, request.household_id, request.occurred, run_id)
    return base, apply_published(day, sales, buys, cash_moved), runs, run_id
