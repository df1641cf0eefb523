"""ingest: read every file of the day and name the run after its inputs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from data_contracts.layout import DayFiles, input_digest, read_day


def run_id_for(input_dir: Path, as_of: dt.date) -> str:
    """Same as-of date and same bytes in → same run id, so a rerun replaces rather than duplicates."""
    return f"{as_of:%Y%m%d}-{input_digest(input_dir)}"


@task(name="ingest", cache_policy=NO_CACHE)
def ingest(input_dir: Path, as_of: dt.date) -> tuple[DayFiles, str]:
    return read_day(input_dir), run_id_for(input_dir, as_of)
