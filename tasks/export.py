"""export: the per-run output folder, written whole under a temporary name and then renamed.

Files follow ``data_contracts.outputs``: columns in contract order, ``*_usd`` rounded half-even
to cents, ``*_shares`` to 6 decimals. Sorted by key, so the same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from data_contracts.frames import polars_schema
from data_contracts.registry import OUTPUT_FILES, FileContract
from warehouse.db import connect, record_run
from warehouse.io import replace_dir_atomically


def to_contract(frame: pl.DataFrame, contract: FileContract, constants: dict | None = None) -> pl.DataFrame:
    """The frame as its file: ``constants`` fill columns such as run_id, columns in contract order, rounded."""
    schema = polars_schema(contract.model)
    frame = frame.with_columns(pl.lit(v).alias(k) for k, v in (constants or {}).items())
    if contract.name == "trades":  # the amount the desk sees is that of the quantity it sees
        frame = frame.with_columns((pl.col("quantity_shares").round(6) * pl.col("est_price_usd")).alias("est_amount_usd"))
    cols = []
    for name, dtype in schema.items():
        col = pl.col(name).cast(dtype)
        if name.endswith("_usd"):
            col = col.round(2)
        elif name.endswith("_shares"):
            col = col.round(6)
        cols.append(col)
    return frame.select(cols)


def run_folder(out_root: Path, as_of: dt.date, run_id: str) -> Path:
    return Path(out_root) / as_of.isoformat() / run_id


@task(name="export", cache_policy=NO_CACHE)
def export(outputs: dict[str, pl.DataFrame], out_root: Path, as_of: dt.date, run_id: str) -> Path:
    final = run_folder(out_root, as_of, run_id)
    staging = final.with_name(f".{run_id}.writing-{uuid.uuid4().hex}")
    staging.mkdir(parents=True)
    for name, contract in OUTPUT_FILES.items():
        to_contract(outputs[name], contract, {"run_id": run_id, "as_of_date": as_of}).write_csv(staging / contract.filename)
    replace_dir_atomically(staging, final)
    return final


@task(name="publish-summary", cache_policy=NO_CACHE)
def publish_summary(summary: dict, out_dir: Path, db_path: Path) -> Path:
    """run_summary.json (temp file + rename) and the run log row, once every stage has its time."""
    path = Path(out_dir) / "run_summary.json"
    tmp = path.with_name(f".run_summary.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    os.replace(tmp, path)
    with connect(db_path) as con:
        record_run(con, summary)
    return path
