"""Atomic, idempotent partition writes: a run replaces its own partition and nothing else."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path

import polars as pl

from warehouse.schema import PARTITION_KEYS, TABLES


def partition_dir(root: Path, table: str, as_of: dt.date, run_id: str) -> Path:
    return Path(root) / table / f"as_of_date={as_of.isoformat()}" / f"run_id={run_id}"


def write_partition(root: Path, table: str, as_of: dt.date, run_id: str, frame: pl.DataFrame,
                    part: str = "part-0") -> Path:
    """Write one table's partition (or one named part of it): temp file, then rename over the old
    file, so readers never see half and a rerun replaces rather than adds."""
    if table not in TABLES:
        raise KeyError(f"table {table!r} is not in warehouse.schema.TABLES")
    target = partition_dir(root, table, as_of, run_id)
    target.mkdir(parents=True, exist_ok=True, mode=0o700)  # client holdings: the service account's alone
    tmp = target / f".part-{uuid.uuid4().hex}.parquet.tmp"
    frame.drop([k for k in PARTITION_KEYS if k in frame.columns]).write_parquet(tmp, statistics=True)
    tmp.chmod(0o600)
    os.replace(tmp, target / f"{part}.parquet")
    return target / f"{part}.parquet"


def private_dir(path: Path) -> Path:
    """``path`` as a folder, every component it creates owner-only (0700): client data below it."""
    target = Path(path)
    missing, up = [], target
    while not up.exists() and up != up.parent:
        missing.append(up)
        up = up.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode passes through the umask
    return target


def make_private(root: Path) -> None:
    """Every folder under ``root`` (itself included) 0700 and every file 0600: written by a library
    that knows no modes (Great Expectations' Data Docs)."""
    root = Path(root)
    root.chmod(0o700)
    for folder, dirs, files in os.walk(root):
        for d in dirs:
            os.chmod(os.path.join(folder, d), 0o700)
        for f in files:
            os.chmod(os.path.join(folder, f), 0o600)


def replace_dir_atomically(staging: Path, final: Path) -> None:
    """Publish a fully written folder under its final name; an earlier copy is swapped out whole."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        trash = final.with_name(f".{final.name}.old-{uuid.uuid4().hex}")
        os.replace(final, trash)
        os.replace(staging, final)
        shutil.rmtree(trash)
    else:
        os.replace(staging, final)


def latest_partition(root: Path, table: str, before: dt.date) -> tuple[dt.date, pl.DataFrame] | None:
    """The newest partition of ``table`` dated before ``before``: the latest as-of date, and within
    it the run written last (a corrected file makes a later run of the same date)."""
    folder = Path(root) / table
    dated = sorted((d for d in folder.glob("as_of_date=*") if dt.date.fromisoformat(d.name.split("=", 1)[1]) < before),
                   key=lambda d: d.name) if folder.is_dir() else []
    if not dated:
        return None
    runs = sorted(dated[-1].glob("run_id=*/*.parquet"), key=lambda p: p.stat().st_mtime)
    if not runs:
        return None
    newest = runs[-1].parent
    return dt.date.fromisoformat(dated[-1].name.split("=", 1)[1]), pl.read_parquet(newest / "*.parquet")
