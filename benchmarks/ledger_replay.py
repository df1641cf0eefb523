"""Ledger replay speed: `python -m benchmarks.ledger_replay [--transactions 1000000 --households 10000]`.

Writes a synthetic transactions CSV (buys, reinvested dividends and FIFO/HIFO sales, many at a
loss, across taxable and IRA accounts), then times `lotwise lots replay`'s pieces: parsing and
validating the file, replaying it through the ledger, and writing sales/open lots/netting.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from benchmarks.common import peak_rss_gib
from data_contracts.frames import read_and_parse
from data_contracts.registry import LEDGER_FILES
from optimizer.ledger import Ledger
from tasks.lots_replay import ReplayResult, events_from_frame, write_replay


def synthetic_transactions(target: int, households: int, seed: int = 7) -> pl.DataFrame:
    """About ``target`` transactions (sells larger than the position are trimmed away)."""
    rng = np.random.default_rng(seed)
    n = int(target * 1.3)
    hh = np.sort(rng.integers(0, households, n))
    account_kind = rng.choice(["taxable_individual", "traditional_ira", "roth_ira"], n, p=[0.6, 0.25, 0.15])
    security = rng.integers(0, 12, n)
    # Per household, dates rise; sells only after a few buys of the same account and security.
    day = np.zeros(n, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, hh[1:] != hh[:-1]])
    steps = rng.integers(0, 12, n)
    steps[starts] = 0
    day = np.cumsum(steps) - np.repeat(np.cumsum(steps)[starts], np.diff(np.r_[starts, n]))
    side = rng.choice(["buy", "reinvest", "sell"], n, p=[0.55, 0.1, 0.35])
    price = np.round(50 * np.exp(rng.normal(0, 0.25, n)), 2)
    qty = np.round(rng.uniform(1, 20, n), 3)
    frame = pl.DataFrame({
        "trade_date": pl.Series(np.datetime64("2020-01-02") + day.astype("timedelta64[D]")).cast(pl.Date),
        "taxpayer": pl.Series(hh).cast(pl.String),
        "account": pl.Series(account_kind).str.slice(0, 3),
        "account_type": account_kind,
        "security": pl.Series(security).cast(pl.String).str.zfill(2),
        "side": side, "quantity": qty, "price": price, "fees": 0.0,
        "lot_method": rng.choice(["fifo", "hifo"], n),
    })
    # Sell no more than what the position holds: cap each sale at the running position.
    frame = frame.with_columns(
        pl.when(pl.col("side") == "sell").then(-pl.col("quantity")).otherwise(pl.col("quantity")).alias("delta"))
    held_before = frame.with_columns(
        (pl.col("delta").cum_sum().over("taxpayer", "account", "security") - pl.col("delta")).alias("held"))
    return held_before.with_columns(
        pl.when(pl.col("side") == "sell").then(pl.min_horizontal(pl.col("quantity"), pl.col("held") * 0.9).round(3))
        .otherwise(pl.col("quantity")).alias("quantity"),
    ).filter(pl.col("quantity") > 0).drop("delta", "held").head(target)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--transactions", type=int, default=1_000_000)
    ap.add_argument("--households", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="lotwise-bench-ledger-") as tmp:
        path = Path(tmp) / "transactions.csv"
        synthetic_transactions(args.transactions, args.households).write_csv(path)
        t0 = time.perf_counter()
        parsed = read_and_parse(path, LEDGER_FILES["transactions"], path.name)
        events = events_from_frame(parsed.good)
        t1 = time.perf_counter()
        errors: list = []
        ledger = Ledger().replay(events, errors)
        t2 = time.perf_counter()
        counts = write_replay(ReplayResult(ledger, {}, [dict(row=e.row, field=e.field, reason=e.reason) for e in errors]),
                              Path(tmp) / "out")
        t3 = time.perf_counter()
    washed = sum(1 for s in ledger.sales if s.disallowed_usd > 0)
    print(f"ledger replay: {len(events):,} transactions over {args.households:,} households in {t3 - t0:.1f} s "
          f"(target < 30 s), peak RSS {peak_rss_gib():.2f} GiB")
    print(f"  parse + validate + events {t1 - t0:6.1f} s")
    print(f"  replay (ledger)           {t2 - t1:6.1f} s  ({(t2 - t1) / max(len(events), 1) * 1e6:.1f} µs per transaction)")
    print(f"  write outputs             {t3 - t2:6.1f} s")
    print(f"  {counts['sales']:,} lot sales ({washed:,} with a wash-sale adjustment), {counts['open_lots']:,} open lots, "
          f"{counts['netting']:,} taxpayer-years, {len(errors):,} refused rows")


if __name__ == "__main__":
    main()
