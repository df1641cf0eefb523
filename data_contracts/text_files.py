"""Reading a delivered file as text, surviving what custodians really send.

Every column is read as text and each row keeps its 1-based file line (``_line``; header = line 1)
so that a problem can always be named by file, line and field. What a file can get wrong and
what happens to it here:

- not UTF-8 (a cp1252 export, say): read with undecodable bytes replaced, and a warning;
  UTF-16 (detected by its byte-order mark) and declared encodings are decoded first;
- a UTF-8 byte-order mark or padded column names: cleaned;
- blank lines: skipped, line numbers stay true;
- a row with more fields than the header (an unquoted comma): that row is set aside;
- a last row cut short (a truncated transfer): that row is set aside;
- a column named twice: identical copies are merged with a warning; rows where they differ are
  set aside, since nobody can say which value is right.

Parquet files (the canonical layout may come as Parquet) are read and cast to text, so both go
through the same contract checks; their ``_line`` is the 1-based row number.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

LINE = "_line"
ROW_PROBLEM_SCHEMA = {LINE: pl.Int64, "field": pl.String, "value": pl.String, "reason": pl.String}
_DUPLICATE = "_duplicated_"


@dataclass
class TextFrame:
    frame: pl.DataFrame  # every column pl.String, plus _line
    warnings: list[str] = field(default_factory=list)
    row_problems: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ROW_PROBLEM_SCHEMA))


def read_text_frame(path: Path, delimiter: str = ",", encoding: str = "utf-8") -> TextFrame:
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        df = pl.read_parquet(path)
        df = df.select(pl.all().cast(pl.String)).with_row_index(LINE, offset=1).with_columns(pl.col(LINE).cast(pl.Int64))
        return TextFrame(df)
    return _read_csv(path, delimiter, encoding)


def _source(path: Path, encoding: str) -> Path | bytes:
    """The file itself, or its bytes re-encoded as UTF-8 when it is declared or marked otherwise."""
    with path.open("rb") as f:
        head = f.read(4)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or encoding == "utf-16":
        return path.read_bytes().decode("utf-16").encode("utf-8")
    if encoding in ("cp1252", "latin-1"):
        return path.read_bytes().decode(encoding, errors="replace").encode("utf-8")
    return path


def _read_csv(path: Path, delimiter: str, encoding: str) -> TextFrame:
    source = _source(path, encoding)
    warnings: list[str] = []
    encodings = ["utf8", "utf8-lossy"]
    ragged = False
    while True:
        try:  # strict UTF-8 and whole rows first; each failure relaxes one thing and says so
            df = pl.read_csv(source, infer_schema=False, raise_if_empty=False, separator=delimiter,
                             encoding=encodings[0], truncate_ragged_lines=ragged)
            break
        except pl.exceptions.ComputeError as exc:
            message = str(exc).lower()
            if "utf-8" in message and len(encodings) > 1:
                encodings.pop(0)
                warnings.append("not valid UTF-8; undecodable bytes were replaced (is it another encoding?)")
            elif "more fields" in message and not ragged:
                ragged = True
            else:
                raise
    df = df.rename({c: c.lstrip("\ufeff").strip() for c in df.columns})
    df = df.with_row_index(LINE, offset=2).with_columns(pl.col(LINE).cast(pl.Int64))
    header_fields = df.width - 1
    problems = [_ragged_rows(source, delimiter, header_fields) if ragged else pl.DataFrame(schema=ROW_PROBLEM_SCHEMA),
                _short_last_row(source, delimiter, header_fields, df)]
    df, dup_warnings, dup_problems = _merge_duplicate_columns(df)
    warnings += dup_warnings
    problems.append(dup_problems)
    # A blank line reads as a row of nulls; dropping it keeps every other row's line number.
    blank = pl.all_horizontal(pl.exclude(LINE).is_null()) if df.width > 1 else pl.lit(False)
    df = df.filter(~blank)
    problems = [p for p in problems if p.height]
    return TextFrame(df, warnings, pl.concat(problems) if problems else pl.DataFrame(schema=ROW_PROBLEM_SCHEMA))


def _lines(source: Path | bytes) -> pl.Series:
    """The file's physical lines after the header (for the rare checks that need them)."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    return pl.Series("text", data.decode("utf-8", errors="replace").splitlines()[1:], pl.String)


def _ragged_rows(source: Path | bytes, delimiter: str, header_fields: int) -> pl.DataFrame:
    """Rows with more fields than the header; only looked for when the parser found some."""
    lines = _lines(source)
    # A quote can hide a delimiter, so quoted lines are counted with the csv module (few in practice).
    counts = lines.str.count_matches(delimiter, literal=True) + 1
    idx = [i for i, (n, text) in enumerate(zip(counts, lines))
           if n > header_fields and (('"' not in text) or len(next(csv.reader([text], delimiter=delimiter))) > header_fields)]
    return pl.DataFrame({
        LINE: [i + 2 for i in idx], "field": ["(row)"] * len(idx), "value": [lines[i][:80] for i in idx],
        "reason": [f"row has more fields than the header's {header_fields}" for _ in idx],
    }, schema=ROW_PROBLEM_SCHEMA)


def _short_last_row(source: Path | bytes, delimiter: str, header_fields: int, df: pl.DataFrame) -> pl.DataFrame:
    """A last row with fewer fields than the header: the file was most likely cut off in transfer."""
    if isinstance(source, bytes):
        tail = source[-65536:]
    else:
        with Path(source).open("rb") as f:
            f.seek(0, io.SEEK_END)
            f.seek(max(0, f.tell() - 65536))
            tail = f.read()
    text = tail.decode("utf-8", errors="replace").rstrip("\r\n")
    last = text.rsplit("\n", 1)[-1]
    if not last.strip() or df.height == 0:
        return pl.DataFrame(schema=ROW_PROBLEM_SCHEMA)
    n = len(next(csv.reader([last], delimiter=delimiter), []))
    if n >= header_fields:
        return pl.DataFrame(schema=ROW_PROBLEM_SCHEMA)
    return pl.DataFrame({LINE: [df[LINE].max()], "field": ["(row)"], "value": [last[:80]],
                         "reason": [f"last row has {n} of {header_fields} fields: the file looks truncated"]},
                        schema=ROW_PROBLEM_SCHEMA)


def _merge_duplicate_columns(df: pl.DataFrame) -> tuple[pl.DataFrame, list[str], pl.DataFrame]:
    dups = [c for c in df.columns if _DUPLICATE in c and c.split(_DUPLICATE)[0] in df.columns]
    warnings, problems = [], []
    for dup in dups:
        name = dup.split(_DUPLICATE)[0]
        differs = df.filter(pl.col(name).fill_null("") != pl.col(dup).fill_null(""))
        if differs.height:
            problems.append(differs.select(
                LINE, pl.lit(name).alias("field"), pl.format("{} / {}", pl.col(name), pl.col(dup)).alias("value"),
                pl.lit(f"column {name} appears twice with different values").alias("reason")))
        warnings.append(f"column {name} appears more than once; the first copy is used")
    df = df.drop(dups)
    return df, warnings, pl.concat(problems) if problems else pl.DataFrame(schema=ROW_PROBLEM_SCHEMA)
