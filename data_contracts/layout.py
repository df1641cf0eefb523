"""Reading one business day's drop in the canonical layout (see ``data_contracts.inputs``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from data_contracts.frames import ParsedFile, read_and_parse
from data_contracts.registry import CUSTODIAN_FILES, FIRM_FILES


@dataclass
class DayFiles:
    """Every input file of the day, parsed: firm files once, custodian files per custodian."""

    input_dir: Path
    firm: dict[str, ParsedFile]
    custodians: dict[str, dict[str, ParsedFile]]

    def all_files(self) -> list[ParsedFile]:
        return list(self.firm.values()) + [f for files in self.custodians.values() for f in files.values()]

    def combined(self, name: str) -> pl.DataFrame:
        """A custodian file's good rows across custodians, with custodian_id and the source file label."""
        parts = [
            files[name].good.with_columns(pl.lit(c).alias("custodian_id"), pl.lit(files[name].label).alias("_file"))
            for c, files in sorted(self.custodians.items())
        ]
        return pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame()


def custodians_in(input_dir: Path) -> list[str]:
    root = Path(input_dir) / "custodians"
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def read_day(input_dir: Path) -> DayFiles:
    input_dir = Path(input_dir)
    firm = {c.name: read_and_parse(input_dir / "firm" / c.filename, c, f"firm/{c.filename}") for c in FIRM_FILES}
    custodians = {
        cust: {
            c.name: read_and_parse(
                input_dir / "custodians" / cust / c.filename, c, f"custodians/{cust}/{c.filename}"
            )
            for c in CUSTODIAN_FILES
        }
        for cust in custodians_in(input_dir)
    }
    return DayFiles(input_dir, firm, custodians)


def input_digest(input_dir: Path) -> str:
    """Digest of every input file's path and bytes: equal inputs give an equal run id."""
    h = hashlib.blake2b(digest_size=8)
    for path in sorted(p for p in Path(input_dir).rglob("*") if p.is_file()):
        h.update(str(path.relative_to(input_dir)).encode())
        with path.open("rb") as f:
            h.update(hashlib.file_digest(f, "blake2b").digest())
    return h.hexdigest()
