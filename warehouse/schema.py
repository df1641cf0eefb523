"""The table registry: every warehouse table with its layer, grain and key, in one place.

Layers follow jaffle-shop: ``raw_*`` is each file as read (text, with its file and line),
``stg_*`` the typed rows that passed validation, joined to their household, ``fct_*`` what a run
decided. Every table is Parquet partitioned by ``as_of_date`` and ``run_id``, and a view of the
same name in the DuckDB file reads all of its partitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from data_contracts.registry import INPUT_FILES, OUTPUT_FILES

PARTITION_KEYS = ("as_of_date", "run_id")


@dataclass(frozen=True)
class Table:
    name: str
    layer: Literal["raw", "stg", "fct"]
    grain: str
    key: tuple[str, ...]


def _registry() -> dict[str, Table]:
    tables = []
    for c in INPUT_FILES.values():
        tables.append(Table(f"raw_{c.name}", "raw", f"one row per line of every {c.filename} read (text as received)",
                            ("_file", "_line")))
        tables.append(Table(f"stg_{c.name}", "stg", c.grain.replace(":", " (validated):", 1), c.key))
    for c in OUTPUT_FILES.values():
        tables.append(Table(f"fct_{c.name}", "fct", c.grain, c.key))
    tables.append(Table("fct_runs", "fct", "Runs: one row per run (its summary).", ("run_id",)))
    tables.append(Table("stg_household_inputs", "stg", "Household input fingerprints: one row per household "
                        "(what a rerun of the day compares to reuse decisions).", ("household_id",)))
    return {t.name: t for t in tables}


TABLES: dict[str, Table] = _registry()
