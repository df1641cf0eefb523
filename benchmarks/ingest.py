"""Ingest and validate a generated firm: `python -m benchmarks.ingest [--households 100000]`.

Prints the time and the process's peak memory after each stage (generation, reading and parsing
every file against its contract, cross-file validation). Issue 5's target: 100,000 households in
at most 2 minutes with a peak of at most 8 GiB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from benchmarks.common import peak_rss_gib
from data_contracts.layout import read_day
from data_contracts.sample_firm import write_sample_firm
from data_contracts.validation import validate_day

AS_OF = dt.date(2026, 11, 20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--households", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="lotwise-bench-ingest-") as tmp:
        t0 = time.perf_counter()
        counts = write_sample_firm(args.households, 7, AS_OF, Path(tmp))
        t1 = time.perf_counter()
        print(f"generate  {t1 - t0:6.1f} s  (peak RSS {peak_rss_gib():.2f} GiB): {counts['lots']:,} lots", flush=True)
        day = read_day(Path(tmp))
        t2 = time.perf_counter()
        print(f"read      {t2 - t1:6.1f} s  (peak RSS {peak_rss_gib():.2f} GiB)", flush=True)
        checked = validate_day(day, AS_OF)
        t3 = time.perf_counter()
        print(f"validate  {t3 - t2:6.1f} s  (peak RSS {peak_rss_gib():.2f} GiB): {checked.ready_households.len():,} "
              f"households ready, {checked.exceptions.height:,} exceptions")
    print(f"ingest + validate: {t3 - t1:.1f} s for {args.households:,} households (target ≤ 120 s, ≤ 8 GiB)")


if __name__ == "__main__":
    main()
