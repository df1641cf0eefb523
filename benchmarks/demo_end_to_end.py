"""The demo's end-to-end time by stage: `python -m benchmarks.demo_end_to_end [--households 500]`.

Generates the demo firm and runs the daily flow on a local Prefect (temporary server), printing
the flow's own stage timings and the wall time including Prefect's start-up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from benchmarks.common import peak_rss_gib
from flows.local import use_local_prefect

AS_OF = dt.date(2026, 11, 20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--households", type=int, default=500)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="lotwise-bench-demo-") as tmp:
        var = Path(tmp)
        use_local_prefect(var)
        from data_contracts.sample_firm import write_sample_firm
        from flows.daily_rebalance import daily_rebalance

        t0 = time.perf_counter()
        write_sample_firm(args.households, 7, AS_OF, var / "input")
        t1 = time.perf_counter()
        summary = daily_rebalance(input_dir=var / "input", as_of=AS_OF, var_dir=var)
        t2 = time.perf_counter()
    flow_stages = sum(t["seconds"] for t in summary["stage_timings"])
    print(f"demo, {args.households:,} households: sample firm {t1 - t0:.2f} s, flow {t2 - t1:.2f} s wall "
          f"(stages {flow_stages:.2f} s; the rest is Prefect start-up and run bookkeeping), peak RSS {peak_rss_gib():.2f} GiB")
    for t in summary["stage_timings"]:
        print(f"  {t['stage']:<9} {t['seconds']:7.2f} s")
    print(f"  solved {summary['households_solved']:,}, trades {summary['trades']:,}")


if __name__ == "__main__":
    main()
