"""Price history for the simulator: a wide CSV of daily adjusted closes.

The file has a ``Date`` column (ISO dates, any order) and one column per ticker; any such export
works (Yahoo, a vendor, ``lotwise simulate``'s own generator). A blank or unreadable cell is a
missing price: the ticker's last close is carried forward and each carried cell is reported with
its file, row and ticker. A ticker with no close on or before a day it is needed has no price that
day. A bad date, a duplicate date or a price that is not positive is an error naming file, row and
field; nothing is guessed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

DATE_COLUMN = "Date"


class PriceFileError(ValueError):
    """The price file cannot be used; ``problems`` names every bad cell (file, row, field, reason)."""

    def __init__(self, problems: list[dict]) -> None:
        shown = "; ".join(p["reason"] for p in problems[:10])
        super().__init__(f"{len(problems)} problem(s) in the price file: {shown}")
        self.problems = problems


@dataclass(frozen=True)
class PriceHistory:
    """Closes [day, ticker] with gaps carried forward (NaN before a ticker's first close)."""

    dates: np.ndarray  # datetime64[D][T], ascending
    tickers: tuple[str, ...]
    close_usd: np.ndarray  # float[T, N]
    carried: pl.DataFrame  # file, row, field (ticker), date: cells filled from the day before

    def index_on_or_before(self, day: dt.date) -> int:
        """Row of the last trading day on or before ``day`` (−1 if none)."""
        return int(np.searchsorted(self.dates, np.datetime64(day, "D"), side="right")) - 1

    def log_returns(self, end: int, window: int) -> np.ndarray:
        """float[window', N]: daily log returns of the ``window`` days up to row ``end`` (fewer at the start)."""
        start = max(end - window, 0)
        closes = self.close_usd[start:end + 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.diff(np.log(closes), axis=0)

    def to_csv(self, path: Path) -> Path:
        frame = pl.DataFrame({DATE_COLUMN: pl.Series(self.dates.astype("datetime64[D]"), dtype=pl.Date)}).with_columns(
            [pl.Series(t, self.close_usd[:, i]).round(6) for i, t in enumerate(self.tickers)])
        frame.write_csv(path)
        return path


def read_price_history(path: Path) -> PriceHistory:
    """The history in ``path`` (see the module docstring); raises ``PriceFileError``."""
    label = Path(path).name
    raw = pl.read_csv(path, infer_schema=False)
    if DATE_COLUMN not in raw.columns:
        raise PriceFileError([_problem(label, 1, DATE_COLUMN, f"no {DATE_COLUMN} column (columns: "
                                                               f"{', '.join(raw.columns[:8])})")])
    tickers = tuple(c for c in raw.columns if c != DATE_COLUMN)
    if not tickers:
        raise PriceFileError([_problem(label, 1, DATE_COLUMN, "no ticker columns besides Date")])
    rows = pl.int_range(2, raw.height + 2, eager=True).alias("_row")  # line 1 is the header
    typed = raw.with_columns(rows, pl.col(DATE_COLUMN).str.strip_chars().str.to_date("%Y-%m-%d", strict=False).alias("_date"),
                             *(pl.col(t).str.strip_chars().cast(pl.Float64, strict=False).alias(t) for t in tickers))
    problems = [_problem(label, r, DATE_COLUMN, f"date {v!r} is not YYYY-MM-DD")
                for r, v in typed.filter(pl.col("_date").is_null()).select("_row", DATE_COLUMN).iter_rows()]
    dupes = typed.filter(pl.col("_date").is_not_null() & pl.col("_date").is_duplicated())
    problems += [_problem(label, r, DATE_COLUMN, f"date {d} appears more than once") for r, d in
                 dupes.select("_row", "_date").iter_rows()]
    for t in tickers:
        bad = typed.filter(pl.col(t) <= 0)
        problems += [_problem(label, r, t, f"close {v} is not positive") for r, v in bad.select("_row", t).iter_rows()]
        unreadable = raw.with_columns(rows).filter(pl.col(t).str.strip_chars().str.len_chars() > 0).join(
            typed.filter(pl.col(t).is_null()).select("_row"), on="_row")
        problems += [_problem(label, r, t, f"close {v!r} is not a number") for r, v in unreadable.select("_row", t).iter_rows()]
    if problems:
        raise PriceFileError(sorted(problems, key=lambda p: (p["row"], p["field"])))
    typed = typed.sort("_date")
    closes = typed.select(tickers).to_numpy().astype(float)
    # Carried forward: a gap after a ticker's first close takes the close before it.
    seen = np.maximum.accumulate(~np.isnan(closes), axis=0)
    gap = np.isnan(closes) & seen
    last_seen = np.maximum.accumulate(np.where(np.isnan(closes), 0, np.arange(len(closes))[:, None]), axis=0)
    filled = np.take_along_axis(closes, last_seen, axis=0)  # NaN stays NaN before a ticker's first close
    line, day = typed["_row"].to_list(), typed["_date"].to_list()
    carried = [dict(file=label, row=line[i], field=tickers[j], date=day[i]) for i, j in zip(*np.nonzero(gap))]
    return PriceHistory(typed["_date"].to_numpy().astype("datetime64[D]"), tickers, filled.astype(float),
                        pl.DataFrame(carried, schema={"file": pl.String, "row": pl.Int64, "field": pl.String,
                                                      "date": pl.Date}))


def _problem(label: str, row: int, field: str, reason: str) -> dict:
    return dict(file=label, row=row, field=field, reason=f"{label} row {row}, {field}: {reason}")
