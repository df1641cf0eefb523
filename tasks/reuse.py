"""reuse: a rerun of a day re-solves only the households whose inputs changed.

When a custodian's file arrives late or corrected, the day is run again. Every household's inputs
get a fingerprint: its rows in every custodian file and the households file (file positions
excluded, so a reordered file changes nothing), combined with a digest of the firm-wide inputs
(securities, prices, models, the risk model) and of the effective run configuration (its canonical
JSON, as in the run id: where the batches run is no part of it). A household whose
fingerprint equals that of the latest finished run of the same day, and which was solved there,
keeps that run's decisions (copied from its fct_* partitions); everyone else is solved again.
Fingerprints use polars row hashes, which are stable for one polars version: an upgrade only costs
one full re-solve.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from data_contracts.config import RunConfig
from data_contracts.risk_model import RISK_FILES
from data_contracts.validation import ValidatedDay
from warehouse.io import partition_dir

HOUSEHOLD_FILES = ("households", "accounts", "positions", "lots", "transactions", "cash", "mandates")
FIRM_FILES = ("securities", "prices", "models", *RISK_FILES)
REUSED_OUTPUTS = ("trades", "lot_sales", "realized_gains_by_account", "realized_gains_by_household", "drift", "tax_report")
SEED = 20261120


def _row_hashes(frame: pl.DataFrame) -> pl.Series:
    frame = frame.drop([c for c in ("_line", "_file") if c in frame.columns])
    frame = frame.with_columns(pl.col(c).cast(pl.String) for c, t in frame.schema.items() if t == pl.Categorical)
    return frame.select(sorted(frame.columns)).hash_rows(seed=SEED)


def household_fingerprints(day: ValidatedDay, config: RunConfig) -> pl.DataFrame:
    """household_id → fingerprint of everything that decides its rebalance."""
    firm = hashlib.blake2b(config.canonical_json().encode(), digest_size=8)  # what the run id folds in too
    for name in FIRM_FILES:
        frame = getattr(day, name)  # a risk file the day came without: None
        firm.update(b"none" if frame is None else int(_row_hashes(frame).sum()).to_bytes(8, "little"))
    parts = [getattr(day, name).select("household_id").with_columns(_row_hashes(getattr(day, name)).alias("h"))
             for name in HOUSEHOLD_FILES]
    summed = pl.concat(parts).group_by("household_id").agg(pl.col("h").sum())  # wraps mod 2^64: order-free
    return summed.select("household_id", pl.format("{}-{}", pl.lit(firm.hexdigest()), pl.col("h")).alias("fingerprint")).sort("household_id")


@dataclass
class Reused:
    """Decisions carried over from an earlier run of the same day."""

    from_run: str | None = None
    households: list[str] = field(default_factory=list)
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    exceptions: pl.DataFrame | None = None


def _latest_finished_run(parquet_root: Path, as_of: dt.date, run_id: str) -> str | None:
    runs = Path(parquet_root) / "fct_runs" / f"as_of_date={as_of.isoformat()}"
    done = [p.parent for p in runs.glob("run_id=*/part-0.parquet") if p.parent.name != f"run_id={run_id}"]
    with_prints = [d for d in done if (partition_dir(parquet_root, "stg_household_inputs", as_of, d.name.split("=", 1)[1])
                                       / "part-0.parquet").exists()]
    if not with_prints:
        return None
    return max(with_prints, key=lambda d: (d / "part-0.parquet").stat().st_mtime).name.split("=", 1)[1]


@task(name="reuse-unchanged", cache_policy=NO_CACHE)
def reuse_unchanged(parquet_root: Path, as_of: dt.date, run_id: str, fingerprints: pl.DataFrame,
                    ready: list[str]) -> Reused:
    previous = _latest_finished_run(parquet_root, as_of, run_id)
    if previous is None:
        return Reused()
    def part(table: str) -> pl.DataFrame:
        return pl.read_parquet(partition_dir(parquet_root, table, as_of, previous) / "*.parquet")
    before = part("stg_household_inputs")
    solved_before = set(part("fct_drift")["household_id"].to_list())  # one drift row per solved household
    same = fingerprints.join(before, on=["household_id", "fingerprint"]).filter(
        pl.col("household_id").is_in(ready) & pl.col("household_id").is_in(list(solved_before)))["household_id"]
    keep = pl.col("household_id").is_in(same.implode())
    frames = {name: part(f"fct_{name}").filter(keep) for name in REUSED_OUTPUTS}
    exceptions = part("fct_exceptions").filter(keep & (pl.col("stage") != "validate"))
    return Reused(previous, same.to_list(), frames, exceptions)
