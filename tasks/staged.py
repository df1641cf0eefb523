"""The day's staged rows (``stg_*`` Parquet) read back for some households: a batch on a Dask worker,
or the household of a cash-flow run.

``stage`` writes every household table sorted by household id, with Parquet statistics, so a
batch's filter on a contiguous range of ids skips the row groups of everyone else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from data_contracts.mandates import empty_mandates
from data_contracts.risk_model import RISK_FILES
from data_contracts.validation import EXCEPTION_SCHEMA, ValidatedDay
from warehouse.io import partition_dir

HOUSEHOLD_TABLES = ("households", "accounts", "positions", "lots", "transactions", "cash", "mandates")
FIRM_TABLES = ("securities", "prices", "models")


def scan_partition(parquet_root: Path, table: str, as_of: dt.date, run_id: str) -> pl.LazyFrame:
    return pl.scan_parquet(partition_dir(Path(parquet_root), table, as_of, run_id) / "*.parquet", hive_partitioning=False)


@dataclass(frozen=True)
class StagedDay:
    """Where a run's validated day is staged: small enough to send to a worker in place of the day."""

    parquet_root: Path
    as_of: dt.date
    run_id: str

    def households(self, household_ids: list[str]) -> ValidatedDay:
        """The day restricted to ``household_ids`` (firm tables whole); nothing held, no exceptions."""
        ids = sorted(household_ids)
        keep = pl.col("household_id").is_between(pl.lit(ids[0]), pl.lit(ids[-1])) & pl.col("household_id").is_in(ids) if ids \
            else pl.lit(False)
        mine = {t: self.scan(f"stg_{t}").filter(keep).collect() for t in HOUSEHOLD_TABLES if self.staged(f"stg_{t}")}
        mine.setdefault("mandates", empty_mandates())  # a day staged before mandates existed has none
        firm = {t: self.scan(f"stg_{t}").collect() for t in FIRM_TABLES}
        # The risk model's tables are staged only on a day that has one.
        risk = [self.scan(f"stg_{t}").collect() if self.staged(f"stg_{t}") else None for t in RISK_FILES]
        return ValidatedDay(self.as_of, firm["securities"], firm["prices"], firm["models"], mine["households"],
                            mine["accounts"], mine["positions"], mine["lots"], mine["transactions"], mine["cash"],
                            pl.DataFrame(schema=EXCEPTION_SCHEMA), pl.Series("household_id", [], pl.String),
                            mine["mandates"], *risk)

    def staged(self, table: str) -> bool:
        return partition_dir(Path(self.parquet_root), table, self.as_of, self.run_id).is_dir()

    def scan(self, table: str) -> pl.LazyFrame:
        return scan_partition(self.parquet_root, table, self.as_of, self.run_id)


def batch_day(source: ValidatedDay | StagedDay, household_ids: list[str]) -> ValidatedDay:
    """What a batch solves on: the day in memory (threads), or its households read from the stage (Dask)."""
    return source.households(household_ids) if isinstance(source, StagedDay) else source
