"""ingest: read every file of the day, land its text in the raw layer, name the run after its inputs and configuration."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import polars as pl

from prefect import task
from prefect.cache_policies import NO_CACHE

from data_contracts.config import RunConfig
from data_contracts.expectations import QualityRecorder
from data_contracts.layout import DayFiles, input_digest, read_day
from warehouse.io import write_partition


def run_id_for(input_dir: Path, as_of: dt.date, config: RunConfig) -> str:
    """``YYYYMMDD-<16 hex>``: the as-of date, and a digest of the input folder's bytes folded with the
    effective configuration's (``RunConfig.digest``). Same date, same bytes in and same configuration
    → same run id, so a rerun replaces rather than duplicates; a different configuration is another
    run, in a folder of its own, and never overwrites the first."""
    h = hashlib.blake2b(digest_size=8)
    h.update(f"inputs={input_digest(input_dir)};config={config.digest()}".encode())
    return f"{as_of:%Y%m%d}-{h.hexdigest()}"


@task(name="ingest", cache_policy=NO_CACHE)
def ingest(input_dir: Path, as_of: dt.date, parquet_root: Path,
           config: RunConfig) -> tuple[DayFiles, str, QualityRecorder]:
    """Parse the day's files; each file's text lands in the warehouse's raw layer as it is read,
    and its Great Expectations suite runs on its typed values (results kept for the Data Docs)."""
    run_id = run_id_for(input_dir, as_of, config)
    quality = QualityRecorder(run_id, as_of)

    def to_raw_layer(name: str, label: str, text: pl.DataFrame) -> None:
        part = re.sub(r"[^A-Za-z0-9_.-]+", "_", label)
        write_partition(parquet_root, f"raw_{name}", as_of, run_id, text.with_columns(pl.lit(label).alias("_file")), part)

    return read_day(input_dir, as_of, to_raw_layer, quality), run_id, quality
