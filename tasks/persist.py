"""persist: the run's decisions into the warehouse (fct_* partitions, DuckDB views, run log)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from warehouse.db import connect, refresh_views
from warehouse.io import write_partition


@task(name="persist", cache_policy=NO_CACHE)
def persist(outputs: dict[str, pl.DataFrame], summary: dict, parquet_root: Path, db_path: Path,
            as_of: dt.date, run_id: str) -> None:
    for name, frame in outputs.items():
        write_partition(parquet_root, f"fct_{name}", as_of, run_id, frame)
    write_partition(parquet_root, "fct_runs", as_of, run_id, pl.DataFrame([{
        k: v for k, v in summary.items() if not isinstance(v, (list, dict))}]))
    with connect(db_path) as con:
        refresh_views(con, parquet_root)
