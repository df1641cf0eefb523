"""The DuckDB file: one view per registered table over its Parquet partitions, and the run log."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from warehouse.schema import TABLES


def connect(db_path: Path) -> duckdb.DuckDBPyConnection:
    Path(db_path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    con = duckdb.connect(str(db_path))
    Path(db_path).chmod(0o600)  # the warehouse holds every client's lots: owner-only, like the run folders
    return con


def refresh_views(con: duckdb.DuckDBPyConnection, parquet_root: Path) -> list[str]:
    """(Re)create a view per table that has data; returns their names."""
    made = []
    for name in TABLES:
        folder = Path(parquet_root) / name
        if not any(folder.glob("*/*/*.parquet")):
            continue
        pattern = str(folder / "*" / "*" / "*.parquet").replace("'", "''")
        con.execute(
            f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{pattern}', "
            "hive_partitioning = true, union_by_name = true)"
        )
        made.append(name)
    return made


def record_run(con: duckdb.DuckDBPyConnection, summary: dict) -> None:
    """Upsert the run into run_log (a rerun of the same inputs replaces its row)."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS run_log (run_id VARCHAR PRIMARY KEY, as_of_date DATE, summary JSON)"
    )
    con.execute("DELETE FROM run_log WHERE run_id = ?", [summary["run_id"]])
    con.execute("INSERT INTO run_log VALUES (?, ?, ?)", [summary["run_id"], summary["as_of_date"], json.dumps(summary)])
