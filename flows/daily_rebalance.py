"""The daily flow: ingest → validate → stage → optimize (batches) → verify → persist → export."""

from __future__ import annotations

import datetime as dt
import time
from contextlib import contextmanager
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from data_contracts.config import RunConfig
from data_contracts.outputs import RunSummary, StageTiming
from tasks.export import export, publish_summary, run_folder
from tasks.ingest import ingest
from tasks.optimize import batch_name, optimize_batch, plan_batches, solve_params
from tasks.outcomes import solution_frames
from tasks.persist import persist
from tasks.reuse import household_fingerprints, reuse_unchanged
from tasks.stage import stage
from tasks.validate import validate, write_data_docs
from tasks.verify import verify_batch


class StageClock:
    def __init__(self) -> None:
        self.timings: list[StageTiming] = []

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        yield
        self.timings.append(StageTiming(stage=name, seconds=round(time.perf_counter() - start, 3)))


@flow(name="daily_rebalance", task_runner=ThreadPoolTaskRunner(max_workers=2))
def daily_rebalance(input_dir: Path, as_of: dt.date, var_dir: Path = Path("var"),
                    config: RunConfig = RunConfig()) -> dict:
    """One business day for the whole firm. Returns the run summary (also in run_summary.json)."""
    var_dir = Path(var_dir)
    parquet_root, db_path, out_root = var_dir / "warehouse" / "parquet", var_dir / "warehouse" / "lotwise.duckdb", var_dir / "runs"
    clock = StageClock()

    with clock.stage("ingest"):
        files, run_id, quality = ingest(input_dir, as_of, parquet_root)
    with clock.stage("validate"):
        day = validate(files, as_of, config, parquet_root, quality)
        del files  # the parsed files now live in `day`; keep one copy of a firm's lots
        report = write_data_docs(quality, var_dir / "data_docs" / as_of.isoformat() / run_id)
    with clock.stage("stage"):
        fingerprints = household_fingerprints(day, config)
        stage(day, parquet_root, run_id, fingerprints)
    snapshot_dir = None if config.snapshots == "none" else var_dir / "snapshots" / as_of.isoformat() / run_id
    with clock.stage("optimize"):
        # A rerun of the day (a late or corrected file) re-solves only households whose inputs changed.
        reused = reuse_unchanged(parquet_root, as_of, run_id, fingerprints, day.ready_households.to_list())
        todo = day.ready_households.filter(~day.ready_households.is_in(reused.households)).to_list()
        batches = plan_batches(todo, config.batch_size)
        solved = [optimize_batch.with_options(task_run_name=batch_name(b)).submit(day, b, config, snapshot_dir)
                  for b in batches]
        solved = [f.result() for f in solved]
    with clock.stage("verify"):
        checked = [verify_batch.submit(b, solve_params(config), snapshot_dir) for b in solved]
        checked = [f.result() for f in checked]
    with clock.stage("persist"):
        custodian_of = dict(zip(day.accounts["account_id"].to_list(), day.accounts["custodian_id"].to_list()))
        outputs = solution_frames([s for b in checked for s in b.solutions], custodian_of)
        for name, frame in reused.frames.items():
            outputs[name] = pl.concat([outputs[name], frame.select(outputs[name].columns)], how="vertical_relaxed")
        outputs["exceptions"] = pl.concat([day.exceptions] + [b.exception_frame() for b in checked]
                                          + ([reused.exceptions] if reused.exceptions is not None else []),
                                          how="vertical_relaxed")
        summary = _summary(run_id, as_of, input_dir, run_folder(out_root, as_of, run_id), day, checked, outputs, clock)
        summary.households_reused = len(reused.households)
        summary.households_solved += len(reused.households)
        persist(outputs, summary.model_dump(mode="json"), parquet_root, db_path, as_of, run_id)
    with clock.stage("export"):
        out_dir = export(outputs, out_root, as_of, run_id)
    summary.stage_timings = clock.timings
    summary.expectations_evaluated, summary.expectations_failed = report.evaluated, report.failed
    summary.data_docs = report.index_html
    publish_summary(summary.model_dump(mode="json"), out_dir, db_path)
    get_run_logger().info(
        "run %s: %d households solved (%d reused from an earlier run of the day, %d with trades), %d quarantined, "
        "%d infeasible, %d failed verification", run_id, summary.households_solved, summary.households_reused, summary.households_with_trades, summary.households_quarantined,
        summary.households_infeasible, summary.households_failed_verification)
    return summary.model_dump(mode="json")


def _summary(run_id, as_of, input_dir, out_dir, day, batches, outputs, clock) -> RunSummary:
    trades = outputs["trades"]
    amount = (trades["quantity_shares"] * trades["est_price_usd"]) if trades.height else pl.Series([], dtype=pl.Float64)
    return RunSummary(
        run_id=run_id, as_of_date=as_of, input_dir=str(input_dir), output_dir=str(out_dir),
        households_total=day.households.height,
        households_solved=sum(len(b.solutions) for b in batches),
        households_with_trades=trades["household_id"].n_unique() if trades.height else 0,
        households_quarantined=len(day.held),
        households_infeasible=sum(b.infeasible for b in batches),
        households_relaxed=sum(b.relaxed for b in batches),
        households_failed_verification=sum(b.failed_verification for b in batches),
        trades=trades.height,
        buy_amount_usd=float(amount.filter(trades["side"] == "buy").sum()) if trades.height else 0.0,
        sell_amount_usd=float(amount.filter(trades["side"] == "sell").sum()) if trades.height else 0.0,
        est_tax_usd=float(outputs["realized_gains_by_household"]["est_tax_usd"].sum()),
        stage_timings=list(clock.timings),
    )
