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

from data_contracts.custodian_layout import CustodianLayout, from_canonical, load_layout
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


def custodian_layouts(input_dir: Path, custodians: list[str]) -> dict[str, CustodianLayout]:
    """Each custodian's layout as read from the day's drop; one that cannot be read gets canonical files."""
    out = {}
    for cust in custodians:
        try:
            out[cust] = load_layout(Path(input_dir) / "custodians" / cust, Path(input_dir))
        except (OSError, ValueError):  # its files were unusable too, so it has no trades to send
            out[cust] = CustodianLayout.canonical()
    return out


def write_custodian_trades(trades: pl.DataFrame, layouts: dict[str, CustodianLayout], folder: Path,
                           as_of: dt.date) -> list[Path]:
    """One order file per custodian: in its own shape when its mapping has a `trades` entry, else
    canonical (``custodians/<id>/trades.csv``). Every custodian with an account in the run gets a
    file, empty when it has no trades, so the desk can tell "nothing to do" from "missing"."""
    written = []
    for cust in sorted(layouts):
        part = trades.filter(pl.col("custodian_id") == cust)
        layout = layouts[cust]
        target = Path(folder) / "custodians" / cust
        target.mkdir(parents=True, exist_ok=True)
        if layout.format == "csv" and "trades" in layout.files:
            path = layout.path(target, "trades", as_of)
            text = from_canonical(part, layout, "trades").write_csv(separator=layout.delimiter)
            path.write_bytes(text.encode(layout.encoding))  # strict: a character the custodian cannot take fails loudly
        else:
            path = target / "trades.csv"
            part.write_csv(path)
        written.append(path)
    return written


@task(name="export", cache_policy=NO_CACHE)
def export(outputs: dict[str, pl.DataFrame], out_root: Path, as_of: dt.date, run_id: str,
           layouts: dict[str, CustodianLayout] | None = None) -> Path:
    """The run folder: every output file, and the desk's order file per custodian (``layouts``)."""
    final = run_folder(out_root, as_of, run_id)
    staging = final.with_name(f".{run_id}.writing-{uuid.uuid4().hex}")
    staging.mkdir(parents=True, mode=0o700)
    files = {name: to_contract(outputs[name], contract, {"run_id": run_id, "as_of_date": as_of})
             for name, contract in OUTPUT_FILES.items()}
    for name, contract in OUTPUT_FILES.items():
        files[name].write_csv(staging / contract.filename)
    write_custodian_trades(files["trades"], layouts or {}, staging, as_of)
    owner_only(staging)
    replace_dir_atomically(staging, final)
    return final


def owner_only(folder: Path) -> None:
    """Trade files and tax data are for the desk's service account alone: 0700 folders, 0600 files."""
    for path in [Path(folder), *Path(folder).rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)


@task(name="publish-summary", cache_policy=NO_CACHE)
def publish_summary(summary: dict, out_dir: Path, db_path: Path) -> Path:
    """run_summary.json (temp file + rename) and the run log row, once every stage has its time."""
    path = Path(out_dir) / "run_summary.json"
    tmp = path.with_name(f".run_summary.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    tmp.chmod(0o600)
    os.replace(tmp, path)
    with connect(db_path) as con:
        record_run(con, summary)
    return path
