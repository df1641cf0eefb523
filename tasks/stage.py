"""stage: the raw text and the validated rows of the day into the warehouse (raw_* and stg_*)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from data_contracts.frames import LINE
from data_contracts.layout import DayFiles
from data_contracts.registry import INPUT_FILES
from data_contracts.validation import ValidatedDay
from warehouse.io import write_partition


@task(name="stage", cache_policy=NO_CACHE)
def stage(files: DayFiles, day: ValidatedDay, parquet_root: Path, run_id: str) -> None:
    for name in INPUT_FILES:
        parsed = [files.firm[name]] if name in files.firm else [c[name] for _, c in sorted(files.custodians.items())]
        raw = [p.raw.with_columns(pl.lit(p.label).alias("_file")) for p in parsed if p.raw is not None]
        if raw:
            write_partition(parquet_root, f"raw_{name}", day.as_of, run_id, pl.concat(raw, how="diagonal_relaxed"))
        staged = getattr(day, name).drop([c for c in (LINE, "_file") if c in getattr(day, name).columns])
        write_partition(parquet_root, f"stg_{name}", day.as_of, run_id, staged)
