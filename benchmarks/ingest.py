"""Ingest and validate a generated firm: `python -m benchmarks.ingest [--households 100000]`.

The firm is generated once into ``var/bench/firm-<households>-<layouts>`` by a child process (so
generation's memory does not count), then this process reads and parses every file against its
contract (custodian layouts mapped), writes the raw layer, runs the cross-file validation and the
Great Expectations suites with their Data Docs, and prints the time and the peak memory after each
stage. Issue 5's target: 100,000 households in at most 2 minutes, peak at most 8 GiB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import peak_rss_gib

AS_OF = dt.date(2026, 11, 20)


def firm_dir(households: int, layouts: str) -> Path:
    folder = Path("var/bench") / f"firm-{households}-{layouts}"
    if not (folder / "firm" / "households.csv").exists():
        print(f"generating {households:,} households into {folder} (once) ...", flush=True)
        subprocess.run([sys.executable, "-m", "flows.cli", "sample-firm", "--households", str(households),
                        "--seed", "7", "--as-of", AS_OF.isoformat(), "--layouts", layouts, "--out", str(folder)],
                       check=True, stdout=subprocess.DEVNULL)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--households", type=int, default=100_000)
    ap.add_argument("--layouts", choices=["canonical", "custodian"], default="custodian")
    args = ap.parse_args()
    folder = firm_dir(args.households, args.layouts)

    from data_contracts.expectations import run_suites
    from data_contracts.layout import read_day
    from data_contracts.validation import validate_day
    from warehouse.io import write_partition

    with tempfile.TemporaryDirectory(prefix="lotwise-bench-ingest-") as tmp:
        def to_raw(name, label, text):
            write_partition(Path(tmp) / "parquet", f"raw_{name}", AS_OF, "bench", text, label.replace("/", "_"))

        print(f"{'stage':<10}{'seconds':>9}{'peak RSS GiB':>15}", flush=True)
        t0 = time.perf_counter()
        day = read_day(folder, AS_OF, to_raw)
        t1 = time.perf_counter()
        print(f"{'read':<10}{t1 - t0:9.1f}{peak_rss_gib():15.2f}", flush=True)
        checked = validate_day(day, AS_OF)
        t2 = time.perf_counter()
        print(f"{'validate':<10}{t2 - t1:9.1f}{peak_rss_gib():15.2f}", flush=True)
        quality = run_suites(day, checked, Path(tmp) / "data_docs", "bench")
        t3 = time.perf_counter()
        print(f"{'gx suites':<10}{t3 - t2:9.1f}{peak_rss_gib():15.2f}", flush=True)
    print(f"{checked.households.height:,} households, {checked.lots.height:,} lots: "
          f"{checked.ready_households.len():,} ready, {checked.exceptions.height:,} exceptions, "
          f"{quality.failed} of {quality.evaluated} expectations failed")
    print(f"ingest + validate: {t3 - t0:.1f} s, peak {peak_rss_gib():.2f} GiB "
          f"for {args.households:,} households (target ≤ 120 s, ≤ 8 GiB)")


if __name__ == "__main__":
    main()
