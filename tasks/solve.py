"""solve: one batch of households, optimized, verified and turned into output rows, checkpointed.

A batch's outcome is written to ``<checkpoints>/<batch digest>/`` (Parquet per output frame plus
its counts, written whole and renamed into place) before the task returns. A run that is killed
mid-way and rerun for the same date has the same run id (the digest of its inputs and configuration)
and the same batches, so every batch that had finished is read back instead of solved again, and the
published files are those an uninterrupted run would have written. The folder is removed once the
run has published.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from data_contracts.config import RunConfig
from data_contracts.validation import EXCEPTION_SCHEMA, ValidatedDay
from tasks.optimize import optimize_households, solve_params
from tasks.staged import StagedDay, batch_day
from tasks.tax_report import run_frames
from tasks.verify import verify_solutions
from warehouse.io import make_private, private_dir, replace_dir_atomically

COUNTS = ("solved", "infeasible", "relaxed", "failed_verification")


@dataclass
class BatchOutcome:
    """What a batch contributes to the run: output rows, exceptions and counts."""

    household_ids: list[str]
    frames: dict[str, pl.DataFrame]
    exceptions: pl.DataFrame
    counts: dict[str, int] = field(default_factory=dict)
    resumed: bool = False  # read back from a checkpoint of an interrupted run
    seconds: float = 0.0  # wall time inside the batch (read, solve, verify, rows): the rest is orchestration


def batch_digest(household_ids: list[str]) -> str:
    return hashlib.blake2b("\n".join(household_ids).encode(), digest_size=10).hexdigest()


def save_outcome(outcome: BatchOutcome, folder: Path) -> Path:
    final = Path(folder) / f"batch-{batch_digest(outcome.household_ids)}"
    staging = final.with_name(f".{final.name}.writing-{uuid.uuid4().hex}")
    private_dir(staging)  # a checkpoint holds clients' trades: owner-only, like the run folders
    for name, frame in outcome.frames.items():
        frame.write_parquet(staging / f"{name}.parquet")
    outcome.exceptions.write_parquet(staging / "exceptions.parquet")
    (staging / "counts.json").write_text(json.dumps({"household_ids": outcome.household_ids, **outcome.counts}))
    make_private(staging)
    replace_dir_atomically(staging, final)
    return final


def load_outcome(folder: Path, household_ids: list[str]) -> BatchOutcome | None:
    """The checkpoint of exactly this batch, or None when it has not finished."""
    path = Path(folder) / f"batch-{batch_digest(household_ids)}"
    if not (path / "counts.json").exists():
        return None
    meta = json.loads((path / "counts.json").read_text())
    if meta["household_ids"] != household_ids:
        return None
    frames = {p.stem: pl.read_parquet(p) for p in sorted(path.glob("*.parquet")) if p.stem != "exceptions"}
    return BatchOutcome(household_ids, frames, pl.read_parquet(path / "exceptions.parquet"),
                        {k: meta[k] for k in COUNTS}, resumed=True)


def solve_households(source: ValidatedDay | StagedDay, household_ids: list[str], config: RunConfig,
                     snapshot_dir: Path | None = None) -> BatchOutcome:
    day = batch_day(source, household_ids)
    params = solve_params(config)
    batch = verify_solutions(optimize_households(day, household_ids, config, snapshot_dir), params, snapshot_dir)
    accounts = day.accounts.filter(pl.col("household_id").is_in(household_ids))
    custodian_of = dict(zip(accounts["account_id"].to_list(), accounts["custodian_id"].cast(pl.String).to_list()))
    frames = run_frames(batch.solutions, custodian_of, day.households, config)
    return BatchOutcome(household_ids, frames, batch.exception_frame(), {
        "solved": len(batch.solutions), "infeasible": batch.infeasible, "relaxed": batch.relaxed,
        "failed_verification": batch.failed_verification})


@task(name="solve-batch", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def solve_batch(source: ValidatedDay | StagedDay, household_ids: list[str], config: RunConfig, checkpoint_dir: Path,
                snapshot_dir: Path | None = None) -> BatchOutcome:
    """Solve and verify one batch, or read it back if an interrupted run of the same inputs finished it."""
    start = time.perf_counter()
    done = load_outcome(checkpoint_dir, household_ids)
    if done is None:
        done = solve_households(source, household_ids, config, snapshot_dir)
        save_outcome(done, checkpoint_dir)
    done.seconds = time.perf_counter() - start  # the checkpoint's read or write is the batch's own work too
    return done


def combine(outcomes: list[BatchOutcome]) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """The run's output frames and optimizer exceptions, in batch order."""
    empty = run_frames([], {}, pl.DataFrame(schema={"household_id": pl.String}), RunConfig())  # columns even when no batch ran
    frames = {n: pl.concat([frame] + [o.frames[n] for o in outcomes], how="vertical_relaxed") for n, frame in empty.items()}
    exceptions = pl.concat([pl.DataFrame(schema=EXCEPTION_SCHEMA)] + [o.exceptions for o in outcomes], how="vertical_relaxed")
    return frames, exceptions


def drop_checkpoints(checkpoint_dir: Path) -> None:
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
