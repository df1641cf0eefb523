"""stage: the validated rows of the day into the warehouse (stg_*), the day's risk model included
(stg_risk_*); the raw text landed at ingest."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from data_contracts.frames import LINE
from data_contracts.registry import INPUT_FILES
from data_contracts.validation import ValidatedDay
from warehouse.io import write_partition


@task(name="stage", cache_policy=NO_CACHE)
def stage(day: ValidatedDay, parquet_root: Path, run_id: str, fingerprints: pl.DataFrame) -> None:
    for name in INPUT_FILES:
        frame = getattr(day, name)
        if frame is None:  # an optional file the day came without (the risk model): nothing to stage
            continue
        staged = frame.drop([c for c in (LINE, "_file") if c in frame.columns])
        if "household_id" in staged.columns:  # so a batch reading its households skips everyone else's row groups
            staged = staged.sort("household_id", maintain_order=True)
        write_partition(parquet_root, f"stg_{name}", day.as_of, run_id, staged)
    write_partition(parquet_root, "stg_household_inputs", day.as_of, run_id, fingerprints)
