"""validate: cross-file and day-over-day checks; bad rows and held households become exceptions."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from data_contracts.config import RunConfig
from data_contracts.expectations import QualityRecorder, QualityReport
from data_contracts.layout import DayFiles
from data_contracts.validation import PreviousDay, ValidatedDay, ValidationConfig, validate_day
from warehouse.io import latest_partition, make_private, private_dir


def previous_day(parquet_root: Path, as_of: dt.date) -> PreviousDay | None:
    """The last staged day before ``as_of``: its accounts and positions, or None on a first run."""
    accounts = latest_partition(parquet_root, "stg_accounts", as_of)
    positions = latest_partition(parquet_root, "stg_positions", as_of)
    if accounts is None or positions is None or accounts[0] != positions[0]:
        return None
    return PreviousDay(accounts[0], accounts[1].select("account_id", "household_id", "custodian_id"),
                       positions[1].select("account_id", "security_id", "quantity_shares"))


@task(name="validate", cache_policy=NO_CACHE)
def validate(day: DayFiles, as_of: dt.date, config: RunConfig, parquet_root: Path,
             quality: QualityRecorder | None = None) -> ValidatedDay:
    return validate_day(day, as_of, ValidationConfig(stale_price_days=config.stale_price_days),
                        previous_day(parquet_root, as_of), quality)


@task(name="data-docs", cache_policy=NO_CACHE)
def write_data_docs(quality: QualityRecorder, folder: Path) -> QualityReport:
    """The run's Great Expectations Data Docs (HTML), replaced whole on a rerun of the same run id;
    owner-only (they quote the day's values), like the run folders."""
    if folder.exists():
        shutil.rmtree(folder)
    private_dir(folder.parent)
    report = quality.write_docs(folder)
    if folder.exists():
        make_private(folder)
    return report


class NoUsableInput(RuntimeError):
    """The day has nothing to rebalance on: no drop, no readable households, or none solvable. The
    run fails with this reason and stages nothing, so it never becomes the data a cash flow uses."""


def unusable_reason(input_dir: Path, day: ValidatedDay) -> str | None:
    """Why the day cannot be run (None when at least one household can be solved): missing input is
    never success. The reason names the folder or the firm-level errors behind it."""
    if not input_dir.is_dir():
        return f"no drop for {day.as_of}: {input_dir} does not exist"
    if not any(p.is_file() for p in input_dir.rglob("*")):
        return f"the drop for {day.as_of} is empty: {input_dir} holds no file"
    errors = day.exceptions.filter(pl.col("severity") == "error")
    # Root causes first: a whole file missing or unreadable (no row, no field), then what it left orphaned.
    firm_level = errors.filter(pl.col("household_id").is_null()).sort(
        pl.col("row").is_not_null(), pl.col("field").is_not_null(), maintain_order=True)
    if day.households.height == 0:
        causes = firm_level["reason"].unique(maintain_order=True).to_list()
        why = "; ".join(causes[:3]) + (f" (and {len(causes) - 3:,} more)" if len(causes) > 3 else "") \
            if causes else "the households file has no row"
        return f"no household could be read for {day.as_of} from {input_dir}: {why}"
    if day.ready_households.len() == 0:
        reasons = errors.group_by("reason").len().sort("len", "reason", descending=[True, False]).head(3)
        why = "; ".join(f"{r} ({n:,} rows)" for r, n in reasons.iter_rows()) or "every household is held"
        return f"none of the {day.households.height:,} households for {day.as_of} can be solved: {why}"
    return None
