"""Frame-wise parsing of a file against its contract (no pydantic object per row).

Each column's type, nullability, range and allowed values are read off the pydantic model, so
the model stays the one source of truth. A file is read with every column as text, then cast
column by column; a value that does not fit becomes an error row naming the file, the 1-based
line (header = line 1), the field and the reason, and its whole row is set aside.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import annotated_types as at
import polars as pl

from data_contracts.registry import FileContract
from data_contracts.text_files import LINE, read_text_frame

ERROR_SCHEMA = {"file": pl.String, "row": pl.Int64, "field": pl.String, "value": pl.String, "reason": pl.String}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    dtype: type
    required: bool
    allowed: tuple[str, ...] | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    min_length: int | None = None

    @property
    def polars_dtype(self) -> pl.DataType:
        return {str: pl.String, float: pl.Float64, int: pl.Int64, bool: pl.Boolean, dt.date: pl.Date}[self.dtype]


def column_specs(model: type) -> list[ColumnSpec]:
    specs = []
    for name, info in model.model_fields.items():
        annotation, required, metadata = info.annotation, info.is_required(), list(info.metadata)
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):  # Optional[X]
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation, required = args[0], False
            origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            base, *extra = typing.get_args(annotation)
            metadata += [m for e in extra for m in (e.metadata if hasattr(e, "metadata") else [e])]
            annotation, origin = base, typing.get_origin(base)
        allowed = None
        if origin is typing.Literal:
            allowed, annotation = tuple(typing.get_args(annotation)), str
        bounds = {k: None for k in ("ge", "gt", "le", "min_length")}
        for m in metadata:
            if isinstance(m, at.Ge):
                bounds["ge"] = m.ge
            elif isinstance(m, at.Gt):
                bounds["gt"] = m.gt
            elif isinstance(m, at.Le):
                bounds["le"] = m.le
            elif isinstance(m, at.MinLen):
                bounds["min_length"] = m.min_length
        specs.append(ColumnSpec(name, annotation, required, allowed, **bounds))
    return specs


def polars_schema(model: type) -> dict[str, pl.DataType]:
    return {s.name: s.polars_dtype for s in column_specs(model)}


def empty_good(model: type) -> pl.DataFrame:
    """The typed frame of a file that could not be used: no rows, every column."""
    return pl.DataFrame(schema={LINE: pl.Int64, **polars_schema(model)})


@dataclass
class ParsedFile:
    """A file checked against its contract: typed good rows, error rows, and file-level problems."""

    label: str
    good: pl.DataFrame
    errors: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ERROR_SCHEMA))
    # Rows set aside, with the raw text of their columns (and _line), for attribution to households.
    bad_rows: pl.DataFrame | None = None
    file_error: str | None = None
    warnings: list[str] = field(default_factory=list)
    raw: pl.DataFrame | None = None  # the text as read; kept for firm files only (custodian text is streamed out)

    def __post_init__(self) -> None:
        if self.bad_rows is None:
            self.bad_rows = pl.DataFrame(schema={LINE: pl.Int64, **{c: pl.String for c in self.good.columns if c != LINE}})


def _typed(spec: ColumnSpec) -> pl.Expr:
    text = pl.col(spec.name).str.strip_chars()
    text = pl.when(text.str.len_chars() == 0).then(None).otherwise(text)
    if spec.dtype is float:
        return text.cast(pl.Float64, strict=False)
    if spec.dtype is int:
        return text.cast(pl.Int64, strict=False)
    if spec.dtype is bool:
        low = text.str.to_lowercase()
        return pl.when(low.is_in(["true", "1", "yes", "y"])).then(True).when(
            low.is_in(["false", "0", "no", "n"])
        ).then(False).otherwise(None)
    if spec.dtype is dt.date:
        return text.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    return text


def _problems(spec: ColumnSpec) -> list[tuple[pl.Expr, str | pl.Expr]]:
    """(condition on raw text + typed value, reason) pairs; typed value is column '<name>__t'."""
    raw, typed = pl.col(spec.name), pl.col(f"{spec.name}__t")
    present = raw.str.strip_chars().str.len_chars() > 0
    kind = {float: "a number", int: "a whole number", bool: "true/false", dt.date: "a date (YYYY-MM-DD)"}
    out: list[tuple[pl.Expr, str | pl.Expr]] = []
    if spec.required:
        out.append((raw.is_null() | ~present, "missing value"))
    if spec.dtype in kind:
        out.append((present & typed.is_null(), f"not {kind[spec.dtype]}"))
    if spec.dtype is float:
        out.append((typed.is_not_null() & ~typed.is_finite(), "not a finite number"))
    if spec.allowed:
        out.append((typed.is_not_null() & ~typed.is_in(list(spec.allowed)), f"must be one of {', '.join(spec.allowed)}"))
    if spec.ge is not None:
        out.append((typed < spec.ge, f"must be ≥ {spec.ge:g}"))
    if spec.gt is not None:
        out.append((typed <= spec.gt, f"must be > {spec.gt:g}"))
    if spec.le is not None:
        out.append((typed > spec.le, f"must be ≤ {spec.le:g}"))
    return out


def parse_frame(raw: pl.DataFrame, contract: FileContract, label: str,
                row_problems: pl.DataFrame | None = None, warnings: list[str] | None = None,
                on_typed: Callable[[pl.DataFrame], object] | None = None) -> ParsedFile:
    """Check a text frame (see ``text_files``) against its contract.

    ``row_problems`` are rows the reader already found wrong (ragged, truncated, ...): they are set
    aside with the rest. ``warnings`` are carried into the result. ``on_typed`` sees the file's
    typed values before anything is set aside (the Great Expectations suites run there).
    """
    specs = column_specs(contract.model)
    warnings = [f"{label}: {w}" if not w.startswith(label) else w for w in (warnings or [])]
    missing = [s.name for s in specs if s.required and s.name not in raw.columns]
    if missing:
        return ParsedFile(
            label, empty_good(contract.model),
            file_error=f"{label}: missing column(s) {', '.join(missing)}", warnings=warnings,
        )
    extra = [c for c in raw.columns if c != LINE and c not in contract.model.model_fields]
    if extra:
        warnings.append(f"{label}: ignored unexpected column(s) {', '.join(extra)}")
    present = [s.name for s in specs if s.name in raw.columns]
    raw = raw.with_columns(pl.lit(None, pl.String).alias(s.name) for s in specs if s.name not in raw.columns)
    frame = raw.with_columns(_typed(s).alias(f"{s.name}__t") for s in specs)

    error_parts = []
    if row_problems is not None and row_problems.height:
        error_parts.append(row_problems.select(
            pl.lit(label).alias("file"), pl.col(LINE).alias("row"), "field", "value", "reason"))
    for spec in specs:
        for condition, reason in _problems(spec):
            hit = frame.filter(condition.fill_null(False))
            if hit.height:
                error_parts.append(
                    hit.select(
                        pl.lit(label).alias("file"), pl.col(LINE).alias("row"), pl.lit(spec.name).alias("field"),
                        pl.col(spec.name).alias("value"), pl.lit(reason).alias("reason"),
                    )
                )
    typed = frame.select(LINE, *[pl.col(f"{s.name}__t").alias(s.name) for s in specs])
    if on_typed is not None:
        on_typed(typed.select(present))
    del frame
    bad_lines = pl.concat(error_parts).get_column("row").unique() if error_parts else pl.Series("row", [], pl.Int64)
    good = typed.filter(~pl.col(LINE).is_in(bad_lines.implode())) if bad_lines.len() else typed  # no copy when clean

    if contract.key:  # key uniqueness among otherwise good rows: keep the first, set aside the rest
        first = pl.col(LINE).min().over(list(contract.key))
        dup = good.with_columns(first.alias("_first")).filter(pl.col(LINE) != pl.col("_first"))
        if dup.height:
            error_parts.append(
                dup.select(
                    pl.lit(label).alias("file"), pl.col(LINE).alias("row"), pl.lit(",".join(contract.key)).alias("field"),
                    pl.concat_str([pl.col(k).cast(pl.String) for k in contract.key], separator="|").alias("value"),
                    pl.format("duplicate key, first seen on line {}", pl.col("_first")).alias("reason"),
                )
            )
            good = good.filter(pl.col(LINE) == first)
            bad_lines = pl.concat([bad_lines, dup.get_column(LINE).alias("row")])
    errors = pl.concat(error_parts) if error_parts else pl.DataFrame(schema=ERROR_SCHEMA)
    bad_rows = raw.filter(pl.col(LINE).is_in(bad_lines.implode()))
    return ParsedFile(label, good, errors.sort("row", "field"), bad_rows, warnings=warnings, raw=raw)


def read_and_parse(path: Path, contract: FileContract, label: str, delimiter: str = ",",
                   encoding: str = "utf-8", on_typed: Callable[[pl.DataFrame], object] | None = None) -> ParsedFile:
    """Read one file and check it; a file that cannot be read at all becomes a file-level error."""
    try:
        text = read_text_frame(path, delimiter, encoding)
    except FileNotFoundError:
        return ParsedFile(label, empty_good(contract.model), file_error=f"{label}: file missing")
    except Exception as exc:  # noqa: BLE001 - any parser failure holds the file, with its message
        return ParsedFile(
            label, empty_good(contract.model), file_error=f"{label}: unreadable ({exc})".splitlines()[0]
        )
    return parse_frame(text.frame, contract, label, text.row_problems, text.warnings, on_typed)

