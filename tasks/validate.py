"""validate: cross-file checks; bad rows and held households become exceptions."""

from __future__ import annotations

import datetime as dt

from prefect import task
from prefect.cache_policies import NO_CACHE

from data_contracts.config import RunConfig
from data_contracts.layout import DayFiles
from data_contracts.validation import ValidatedDay, ValidationConfig, validate_day


@task(name="validate", cache_policy=NO_CACHE)
def validate(day: DayFiles, as_of: dt.date, config: RunConfig) -> ValidatedDay:
    return validate_day(day, as_of, ValidationConfig(stale_price_days=config.stale_price_days))
