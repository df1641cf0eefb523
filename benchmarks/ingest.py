"""Ingest and validate a generated firm: `python -m benchmarks.ingest [--households 100000]`.

The firm is generated once into ``var/bench/firm-<households>-<layouts>-<generator version>`` by a child process (so
generation's memory does not count), then this process reads and parses every file against its
contract (custodian layouts mapped), writes the raw layer, runs the cross-file validation and the
Great Expectations suites with their Data Docs, and prints the time and the peak memory after each
stage. Issue 5's target: 100,000 households in at most 2 minutes, peak at most 8 GiB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import peak_rss_gib
from data_contracts import sample_firm, sample_mandates

AS_OF = dt.date(2026, 11, 20)


def firm_dir(households: int, layouts: str) -> Path:
    """The generated firm, once per version of the generator (a changed mix is a new firm, not a stale one)."""
    version = hashlib.sha256(b"".join(Path(m.__file__).read_bytes() for m in (sample_firm, sample_mandates))).hexdigest()[:8]
    folder = Path("var/bench") / f"firm-{households}-{layouts}-{version}"
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

    from data_contracts.expectations import QualityRecorder
    from data_contracts.layout import read_day
    from data_contracts.validation import validate_day
    from warehouse.io import write_partition

    with tempfile.TemporaryDirectory(prefix="lotwise-bench-ingest-") as tmp:
        def to_raw(name, label, text):
            write_partition(Path(tmp) / "parquet", f"raw_{name}", AS_OF, "bench", text, label.replace("/", "_"))

        print(f"{'stage':<30}{'seconds':>9}{'peak RSS GiB':>15}", flush=True)
        t0 = time.perf_counter()
        quality = QualityRecorder("bench", AS_OF)
        t1 = time.perf_counter()
        print(f"{'start Great Expectations':<30}{t1 - t0:9.1f}{peak_rss_gib():15.2f}", flush=True)
        day = read_day(folder, AS_OF, to_raw, quality)
        t2 = time.perf_counter()
        gx_read = quality.report.seconds
        print(f"{'read + parse + raw layer':<30}{t2 - t1 - gx_read:9.1f}{peak_rss_gib():15.2f}", flush=True)
        print(f"{'  file suites (GX)':<30}{gx_read:9.1f}", flush=True)
        checked = validate_day(day, AS_OF, quality=quality)
        t3 = time.perf_counter()
        gx_recon = quality.report.seconds - gx_read
        print(f"{'cross-file validation':<30}{t3 - t2 - gx_recon:9.1f}{peak_rss_gib():15.2f}", flush=True)
        print(f"{'  reconciliation suites (GX)':<30}{gx_recon:9.1f}", flush=True)
        report = quality.write_docs(Path(tmp) / "data_docs")
        t4 = time.perf_counter()
        print(f"{'Data Docs (HTML)':<30}{t4 - t3:9.1f}{peak_rss_gib():15.2f}", flush=True)
    print(f"{checked.households.height:,} households, {checked.lots.height:,} lots: "
          f"{checked.ready_households.len():,} ready, {checked.exceptions.height:,} exceptions, "
          f"{report.failed} of {report.evaluated} expectations failed")
    print(f"ingest + validate: {t4 - t0:.1f} s, peak {peak_rss_gib():.2f} GiB "
          f"for {args.households:,} households (target ≤ 120 s, ≤ 8 GiB)")


if __name__ == "__main__":
    main()
