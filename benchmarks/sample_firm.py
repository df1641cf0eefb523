"""Sample-firm generation time: `python -m benchmarks.sample_firm [--households 100000]`."""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.common import peak_rss_gib
from data_contracts.sample_firm import write_sample_firm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--households", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="lotwise-bench-firm-"))
    try:
        start = time.perf_counter()
        counts = write_sample_firm(args.households, args.seed, dt.date(2026, 11, 20), out)
        elapsed = time.perf_counter() - start
        size = sum(p.stat().st_size for p in out.rglob("*.csv")) / 1024**3
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print(f"sample firm: {args.households:,} households in {elapsed:.1f} s (target ≤ 120 s), "
          f"{size:.2f} GiB of CSV, peak RSS {peak_rss_gib():.2f} GiB")
    print("  " + ", ".join(f"{n:,} {k}" for k, n in counts.items()))


if __name__ == "__main__":
    main()
