"""validate: cross-file and day-over-day checks; bad rows and held households become exceptions."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from data_contracts.config import RunConfig
from data_contracts.expectations import QualityRecorder, QualityReport
from data_contracts.layout import DayFiles
from data_contracts.validation import PreviousDay, ValidatedDay, ValidationConfig, validate_day
from warehouse.io import latest_partition


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
    """The run's Great Expectations Data Docs (HTML), replaced whole on a rerun of the same run id."""
    if folder.exists():
        shutil.rmtree(folder)
    return quality.write_docs(folder)
