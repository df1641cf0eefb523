"""The daily flow: ingest → validate → stage → solve (batches: optimize + verify) → persist → export."""

from __future__ import annotations

import datetime as dt
import time
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from data_contracts.config import RunConfig
from data_contracts.outputs import RunSummary, StageTiming
from flows.runners import batch_task_runner, wait_until_ready
from tasks.artifacts import (daily_failure_markdown, daily_figures, daily_title, markdown_table, mask_text,
                             order_file_links, publish_artifacts, publish_failure)
from tasks.desk import desk_frames
from tasks.desk_report import chart_figures, desk_report_html, write_desk_report
from tasks.export import custodian_layouts, export, publish_summary, run_folder
from tasks.ingest import ingest
from tasks.optimize import auto_batch_size, batch_name, plan_batches
from tasks.persist import persist
from tasks.reuse import household_fingerprints, reuse_unchanged
from tasks.solve import BatchOutcome, combine, drop_checkpoints, solve_batch
from tasks.staged import StagedDay
from tasks.stage import stage
from tasks.validate import NoUsableInput, unusable_reason, validate, write_data_docs
from warehouse.locks import day_lock


class StageClock:
    def __init__(self) -> None:
        self.timings: list[StageTiming] = []

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        yield
        self.timings.append(StageTiming(stage=name, seconds=round(time.perf_counter() - start, 3)))


def daily_run_name() -> str:
    """The flow run's name in the dashboard: ``daily-<date>``, the day it rebalances (a scheduled run,
    given no date, names the business day it will take)."""
    from prefect.runtime import flow_run

    params = flow_run.parameters
    as_of = params.get("as_of")
    if as_of is None:
        config = params.get("config") or {}
        as_of = previous_business_day(config.time_zone if isinstance(config, RunConfig)
                                      else config.get("time_zone", RunConfig().time_zone))
    return f"daily-{as_of}"


@flow(name="daily_rebalance", flow_run_name=daily_run_name, task_runner=ThreadPoolTaskRunner(max_workers=2))
def daily_rebalance(input_dir: Path | None = None, as_of: dt.date | None = None, var_dir: Path = Path("var"),
                    config: RunConfig = RunConfig(), drop_root: Path | None = None) -> dict:
    """One business day for the whole firm. Returns the run summary (also in run_summary.json).

    With no ``as_of`` (the schedule) the day is the business day before today in the firm's time
    zone; with no ``input_dir`` the day's drop is ``<drop_root>/<as_of>`` (default ``var/input``).
    """
    var_dir = Path(var_dir)
    as_of = as_of or previous_business_day(config.time_zone)
    input_dir = Path(input_dir) if input_dir is not None else Path(drop_root or var_dir / "input") / as_of.isoformat()
    parquet_root, db_path, out_root = var_dir / "warehouse" / "parquet", var_dir / "warehouse" / "lotwise.duckdb", var_dir / "runs"
    clock = StageClock()
    # One run per date at a time; a second waits (config.lock_wait_seconds) or refuses and says why.
    with day_lock(out_root, as_of, f"daily_rebalance {input_dir}", config.lock_wait_seconds):
        with clock.stage("ingest"):
            files, run_id, quality = ingest(input_dir, as_of, parquet_root, config)
        with clock.stage("validate"):
            day = validate(files, as_of, config, parquet_root, quality)
            del files  # the parsed files now live in `day`; keep one copy of a firm's lots
            report = write_data_docs(quality, var_dir / "data_docs" / as_of.isoformat() / run_id)
        # Missing input is never success: the run fails with the reason and stages nothing, so a cash
        # flow keeps building on the latest day that validated.
        unusable = unusable_reason(input_dir, day)
        if unusable is not None:  # the state message and the summary are on the dashboard: accounts masked
            unusable = mask_text(unusable, day.account_ids_seen)
            publish_failure("daily", daily_failure_markdown(as_of, run_id, unusable))
            raise NoUsableInput(unusable)
        with clock.stage("stage"):
            fingerprints = household_fingerprints(day, config)
            stage(day, parquet_root, run_id, fingerprints)
        snapshot_dir = None if config.snapshots == "none" else var_dir / "snapshots" / as_of.isoformat() / run_id
        checkpoint_dir = var_dir / "checkpoints" / as_of.isoformat() / run_id
        with clock.stage("solve"):
            # A rerun of the day (a late or corrected file) re-solves only households whose inputs changed.
            reused = reuse_unchanged(parquet_root, as_of, run_id, fingerprints, day.ready_households.to_list())
            todo = day.ready_households.filter(~day.ready_households.is_in(reused.households)).to_list()
            # Threads read the day from memory; Dask workers get the staged day's path and read their households.
            source = day if config.task_runner == "threads" else StagedDay(parquet_root, as_of, run_id)
            started = time.perf_counter()
            with batch_task_runner(config) as runner:
                wait_until_ready(runner, config)
                runner_start_s = time.perf_counter() - started  # a Dask cluster's processes starting up
                futures = [runner.submit(solve_batch.with_options(task_run_name=batch_name(b)), parameters=dict(
                    source=source, household_ids=b, config=config, checkpoint_dir=checkpoint_dir, snapshot_dir=snapshot_dir))
                    for b in plan_batches(todo, config.batch_size or auto_batch_size(len(todo), config.workers))]
                outcomes = [f.result() for f in futures]
        with clock.stage("persist"):
            outputs, solve_exceptions = combine(outcomes)
            for name, frame in reused.frames.items():
                outputs[name] = pl.concat([outputs[name], frame.select(outputs[name].columns)], how="vertical_relaxed")
            outputs["exceptions"] = pl.concat([day.exceptions, solve_exceptions]
                                              + ([reused.exceptions] if reused.exceptions is not None else []),
                                              how="vertical_relaxed")
            outputs.update(desk_frames(outputs, day, config))
            summary = _summary(run_id, as_of, input_dir, run_folder(out_root, as_of, run_id), day, outcomes, outputs, clock)
            summary.households_reused = len(reused.households)
            summary.households_solved += len(reused.households)
            summary.batches_resumed = sum(o.resumed for o in outcomes)
            summary.task_runner = config.task_runner if not config.dask_address else f"dask {config.dask_address}"
            summary.batches, summary.batch_seconds = len(outcomes), round(sum(o.seconds for o in outcomes), 3)
            summary.task_runner_start_seconds = round(runner_start_s, 3)
            persist(outputs, summary.model_dump(mode="json"), parquet_root, db_path, as_of, run_id)
        with clock.stage("export"):
            layouts = custodian_layouts(input_dir, sorted(set(day.accounts["custodian_id"].cast(pl.String).to_list())))
            out_dir = export(outputs, out_root, as_of, run_id, layouts)
        summary.stage_timings = clock.timings
        summary.orchestration_overhead_share = overhead_share(clock.timings, outcomes, config.workers, runner_start_s)
        summary.expectations_evaluated, summary.expectations_failed = report.evaluated, report.failed
        summary.data_docs = report.index_html
        s, account_ids = summary.model_dump(mode="json"), day.account_ids_seen | set(day.accounts["account_id"].to_list())
        publish_summary(s, out_dir, db_path)
        report_html = write_desk_report(desk_report_html(daily_title(s), daily_figures(s), outputs, config, account_ids), out_dir)
        _artifacts(s, outputs, out_dir, report_html, account_ids, config, var_dir)
        drop_checkpoints(checkpoint_dir)  # published: the fct_* partitions hold every batch now
    get_run_logger().info(
        "run %s: %d households solved (%d reused from an earlier run of the day, %d resumed batches, %d with trades), "
        "%d quarantined, %d infeasible, %d failed verification", run_id, summary.households_solved,
        summary.households_reused, summary.batches_resumed, summary.households_with_trades, summary.households_quarantined,
        summary.households_infeasible, summary.households_failed_verification)
    return summary.model_dump(mode="json")


def _artifacts(s: dict, outputs: dict[str, pl.DataFrame], out_dir: Path, report_html: Path, account_ids: set[str],
               config: RunConfig, var_dir: Path) -> None:
    """The summary (key figures, what the report's charts show, links), tables of the review queue,
    errors and block trades, and links to the files on the reports server."""
    links = {"report": ("desk report (HTML: drift, taxes saved, turnover, exceptions)", report_html),
             "folder": ("run folder", out_dir), "trades": ("trades.csv (all custodians)", out_dir / "trades.csv"),
             "review-queue-file": ("review_queue.csv", out_dir / "review_queue.csv")}
    links |= order_file_links(out_dir)
    if s.get("data_docs"):
        links["data-docs"] = ("data quality report (Great Expectations)", Path(s["data_docs"]))
    summary = markdown_table(daily_title(s), daily_figures(s) + chart_figures(outputs, config))
    publish_artifacts("daily", summary, {
        "review-queue": ("Households to review, most urgent first", outputs["review_queue"]),
        "exceptions": ("Errors, first rows", outputs["exceptions"].filter(pl.col("severity") == "error")),
        "block-trades": ("Block trades, largest first", outputs["block_trades"].sort("est_amount_usd", descending=True)),
    }, links, account_ids, config.reports_base_url, var_dir)


def overhead_share(timings: list[StageTiming], outcomes: list[BatchOutcome], workers: int,
                   runner_start_s: float = 0.0) -> float:
    """Share of the run's wall time the solve stage spent outside batch bodies and outside the task
    runner's start: Prefect's task engine, scheduling, result transfer and the idle tail, per worker
    (an upper bound on Prefect's own cost)."""
    total = sum(t.seconds for t in timings)
    solve = next((t.seconds for t in timings if t.stage == "solve"), 0.0)
    inside = sum(o.seconds for o in outcomes) / max(workers, 1)
    return round(max(solve - runner_start_s - inside, 0.0) / total, 4) if total > 0 else 0.0


def previous_business_day(time_zone: str, now: dt.datetime | None = None) -> dt.date:
    """The weekday before today in ``time_zone`` (Monday → Friday). Exchange holidays are not known
    here: a holiday's run finds no files and says so."""
    today = (now or dt.datetime.now(dt.timezone.utc)).astimezone(ZoneInfo(time_zone)).date()
    day = today - dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def _summary(run_id, as_of, input_dir, out_dir, day, outcomes: list[BatchOutcome], outputs, clock) -> RunSummary:
    trades = outputs["trades"]
    amount = (trades["quantity_shares"] * trades["est_price_usd"]) if trades.height else pl.Series([], dtype=pl.Float64)
    return RunSummary(
        run_id=run_id, as_of_date=as_of,
        input_dir=str(Path(input_dir).resolve()), output_dir=str(Path(out_dir).resolve()),  # every path absolute
        households_total=day.households.height,
        households_solved=sum(o.counts["solved"] for o in outcomes),
        households_with_trades=trades["household_id"].n_unique() if trades.height else 0,
        households_quarantined=len(day.held), missing_custodians=list(day.missing_custodians),
        households_infeasible=sum(o.counts["infeasible"] for o in outcomes),
        households_relaxed=sum(o.counts["relaxed"] for o in outcomes),
        households_failed_verification=sum(o.counts["failed_verification"] for o in outcomes),
        trades=trades.height,
        buy_amount_usd=float(amount.filter(trades["side"] == "buy").sum()) if trades.height else 0.0,
        sell_amount_usd=float(amount.filter(trades["side"] == "sell").sum()) if trades.height else 0.0,
        est_tax_usd=float(outputs["tax_report"]["est_tax_run_usd"].sum()),
        tax_saved_usd=float(outputs["tax_report"]["tax_saved_usd"].sum()),
        tax_saved_harvesting_usd=float(outputs["tax_report"]["tax_saved_harvesting_usd"].sum()),
        tax_saved_deferral_usd=float(outputs["tax_report"]["tax_saved_deferral_usd"].sum()),
        stage_timings=list(clock.timings),
    )
