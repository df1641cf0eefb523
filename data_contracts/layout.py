"""Reading one business day's drop: firm files in the canonical layout, each custodian's folder in
its own layout (``data_contracts.custodian_layout``: canonical CSV or Parquet, a mapped CSV shape,
or OFX statements)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import polars as pl

from data_contracts.custodian_layout import LAYOUT_FILE, CustodianLayout, load_layout, source_column, to_canonical
from data_contracts.expectations import QualityRecorder, file_check
from data_contracts.frames import ParsedFile, empty_good, parse_frame, read_and_parse
from data_contracts.ofx_statements import OFX_FILES, read_statement
from data_contracts.registry import CUSTODIAN_FILES, FIRM_FILES
from data_contracts.text_files import LINE, TextFrame, read_text_frame


@dataclass
class DayFiles:
    """Every input file of the day, parsed: firm files once (an optional one only when delivered: the
    risk model's), custodian files per custodian."""

    input_dir: Path
    firm: dict[str, ParsedFile]
    custodians: dict[str, dict[str, ParsedFile]]

    def all_files(self) -> list[ParsedFile]:
        return list(self.firm.values()) + [f for files in self.custodians.values() for f in files.values()]

    def combined(self, name: str) -> pl.DataFrame:
        """A custodian file's good rows across custodians, with custodian_id and the source file label.

        The per-custodian frames are released as they are combined (a firm's lots are the largest
        thing in memory; holding them twice is what would break the memory budget), so each file
        can be combined once. Labels are categorical: one small dictionary instead of a string per row.
        """
        parts = []
        for c, files in sorted(self.custodians.items()):
            parsed = files[name]
            parts.append(parsed.good.with_columns(
                pl.lit(c).cast(pl.Categorical).alias("custodian_id"), pl.lit(parsed.label).cast(pl.Categorical).alias("_file")))
            parsed.good = parsed.good.clear()
        if not parts:  # no custodian folder at all: an empty frame that still has every column
            contract = next(c for c in CUSTODIAN_FILES if c.name == name)
            return empty_good(contract.model).with_columns(
                pl.lit(None, pl.Categorical).alias("custodian_id"), pl.lit(None, pl.Categorical).alias("_file"))
        return pl.concat(parts, how="vertical_relaxed", rechunk=False)


def custodians_in(input_dir: Path) -> list[str]:
    root = Path(input_dir) / "custodians"
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


# Called with (file name, label, text frame as read) for the warehouse's raw layer, before parsing.
RawSink = Callable[[str, str, pl.DataFrame], None]


def read_day(input_dir: Path, as_of: dt.date, raw_sink: RawSink | None = None,
             quality: QualityRecorder | None = None) -> DayFiles:
    """Parse every file of the day. Custodian text goes to ``raw_sink`` and is not kept in memory;
    with a ``quality`` recorder every file's Great Expectations suite runs as it is parsed."""
    input_dir = Path(input_dir)
    firm = {c.name: read_and_parse(input_dir / "firm" / c.filename, c, f"firm/{c.filename}",
                                   on_typed=file_check(quality, c, f"firm/{c.filename}"))
            for c in FIRM_FILES if c.required or (input_dir / "firm" / c.filename).exists()}
    if raw_sink:
        for name, parsed in firm.items():
            if parsed.raw is not None:
                raw_sink(name, parsed.label, parsed.raw)
    custodians = {cust: read_custodian(input_dir, cust, as_of, raw_sink, quality) for cust in custodians_in(input_dir)}
    return DayFiles(input_dir, firm, custodians)


def read_custodian(input_dir: Path, custodian: str, as_of: dt.date, raw_sink: RawSink | None = None,
                   quality: QualityRecorder | None = None) -> dict[str, ParsedFile]:
    folder = Path(input_dir) / "custodians" / custodian
    prefix = f"custodians/{custodian}"
    try:
        layout = load_layout(folder, input_dir)
    except Exception as exc:  # noqa: BLE001 - a broken mapping file holds this custodian, with its message
        reason = f"{prefix}/{LAYOUT_FILE}: unusable layout ({' '.join(str(exc).split())[:300]})"
        return {c.name: ParsedFile(f"{prefix}/{LAYOUT_FILE}", empty_good(c.model), file_error=reason) for c in CUSTODIAN_FILES}
    statements: dict[str, TextFrame] = {}
    statement_error = None
    if layout.format == "ofx":
        try:
            statements = _ofx_frames(folder, layout, prefix)
        except Exception as exc:  # noqa: BLE001 - an unreadable statement holds this custodian, with its message
            statement_error = f"{prefix}/{layout.statements}: unreadable OFX ({' '.join(str(exc).split())[:300]})"
    out = {}
    for contract in CUSTODIAN_FILES:
        from_statements = layout.format == "ofx" and contract.name in OFX_FILES and contract.name not in layout.files
        if from_statements and statement_error:
            out[contract.name] = ParsedFile(f"{prefix}/{layout.statements}", empty_good(contract.model), file_error=statement_error)
            continue
        if from_statements:
            text, label = statements[contract.name], f"{prefix}/{layout.statements}"
        else:
            path = layout.path(folder, contract.name, as_of)
            label = f"{prefix}/{path.name}"
            try:
                text = read_text_frame(path, layout.delimiter, layout.encoding)
            except FileNotFoundError:
                out[contract.name] = ParsedFile(label, empty_good(contract.model), file_error=f"{label}: file missing")
                continue
            except Exception as exc:  # noqa: BLE001 - any parser failure holds the file, with its message
                out[contract.name] = ParsedFile(label, empty_good(contract.model),
                                                file_error=f"{label}: unreadable ({exc})".splitlines()[0])
                continue
        if raw_sink:
            raw_sink(contract.name, label, text.frame)
        canonical, error = to_canonical(text.frame, layout, contract.name, as_of)
        if error:
            out[contract.name] = ParsedFile(label, empty_good(contract.model), file_error=f"{label}: {error}",
                                            warnings=[f"{label}: {w}" for w in text.warnings])
            continue
        parsed = parse_frame(canonical, contract, label, text.row_problems, text.warnings,
                             file_check(quality, contract, label))
        renamed = {f: source_column(layout, contract.name, f) for f in layout.mapping(contract.name).columns}
        if renamed and parsed.errors.height:  # name the custodian's own column in errors
            parsed.errors = parsed.errors.with_columns(pl.col("field").replace(renamed))
        parsed.raw = None  # the raw layer already has it; a firm's lots are too big to keep twice
        out[contract.name] = parsed
    return out


def _ofx_frames(folder: Path, layout: CustodianLayout, prefix: str) -> dict[str, TextFrame]:
    """Every statement of the folder, merged per canonical file (rows renumbered across statements)."""
    parts: dict[str, list[pl.DataFrame]] = {n: [] for n in OFX_FILES}
    warnings: list[str] = []
    paths = sorted(folder.glob(layout.statements))
    if not paths:
        raise FileNotFoundError(f"{prefix}: no OFX statement matching {layout.statements}")
    for path in paths:
        frames, notes = read_statement(path)
        warnings += [f"{path.name}: {n}" for n in notes]
        for name, frame in frames.items():
            parts[name].append(frame)
    merged = {}
    for name, frames in parts.items():
        frame = pl.concat([f.drop(LINE) for f in frames if f.height], how="diagonal_relaxed") if any(f.height for f in frames) else pl.DataFrame()
        merged[name] = TextFrame(frame.with_row_index(LINE, offset=1).with_columns(pl.col(LINE).cast(pl.Int64)), warnings if name == "transactions" else [])
    return merged


def input_digest(input_dir: Path) -> str:
    """Digest of every input file's path and bytes: equal inputs give an equal run id."""
    h = hashlib.blake2b(digest_size=8)
    for path in sorted(p for p in Path(input_dir).rglob("*") if p.is_file()):
        h.update(str(path.relative_to(input_dir)).encode())
        with path.open("rb") as f:
            h.update(hashlib.file_digest(f, "blake2b").digest())
    return h.hexdigest()
