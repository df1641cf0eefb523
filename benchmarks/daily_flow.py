"""The whole daily flow at firm scale: `python -m benchmarks.daily_flow [--households 100000]`.

Generates the firm once (``var/bench/firm-<households>-<layouts>-<generator version>``, custodian layouts by default),
then runs ``daily_rebalance`` on it exactly as the schedule would — ingest, validate, stage, solve,
persist, export, the desk files, the HTML report and the artifacts — on a local Prefect (temporary
server) in a fresh var folder. Prints the wall time per stage, the end-to-end wall time including
Prefect's start-up, the orchestration overhead share, and the peak memory of the whole process
tree (the flow and any Dask workers, sampled every 0.2 s). Issue 6's target: 100,000 households in
at most 10 minutes on this 2-core machine.
"""

from __future__ import annotations

import argparse
import shutil
import threading
import time
from pathlib import Path

import psutil

from benchmarks.ingest import AS_OF, firm_dir


class TreeMemory:
    """Peak resident memory of this process and its children, sampled in a background thread."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.peak_bytes, self._every, self._stop = 0, every_s, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:  # a child that just exited
                    pass
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop.wait(self._every)

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--households", type=int, default=100_000)
    ap.add_argument("--layouts", choices=["canonical", "custodian"], default="custodian")
    ap.add_argument("--task-runner", choices=["threads", "dask"], default="dask")  # firm scale: processes
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=None, help="Households per batch (default: sized by the run).")
    ap.add_argument("--var", type=Path, default=None, help="Run folder (default var/bench/run-<households>, emptied first).")
    args = ap.parse_args()
    folder = firm_dir(args.households, args.layouts)
    var = args.var or Path("var/bench") / f"run-{args.households}"
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)

    from flows.local import use_local_prefect

    use_local_prefect(var)
    from data_contracts.config import RunConfig
    from flows.daily_rebalance import daily_rebalance

    config = RunConfig(task_runner=args.task_runner, workers=args.workers, batch_size=args.batch_size)
    with TreeMemory() as memory:
        start = time.perf_counter()
        s = daily_rebalance(input_dir=folder, as_of=AS_OF, var_dir=var, config=config)
        wall = time.perf_counter() - start
    stages = sum(t["seconds"] for t in s["stage_timings"])
    print(f"daily flow, {args.households:,} households ({args.layouts} layouts), {s['task_runner']} × {args.workers}, "
          f"{s['batches']} batches")
    print(f"{'stage':<10}{'seconds':>9}")
    for t in s["stage_timings"]:
        print(f"{t['stage']:<10}{t['seconds']:9.1f}")
    print(f"{'stages':<10}{stages:9.1f}")
    print(f"end to end {wall:.1f} s ({wall / 60:.2f} min) including Prefect start-up and the artifacts; target ≤ 600 s")
    print(f"households solved {s['households_solved']:,}, held {s['households_quarantined']:,}, "
          f"infeasible {s['households_infeasible']:,}, trades {s['trades']:,}")
    print(f"solve: {s['batches']} batches, {s['batch_seconds']:.1f} s inside batches, task runner started in "
          f"{s['task_runner_start_seconds']:.1f} s; orchestration (Prefect) overhead "
          f"{100 * s['orchestration_overhead_share']:.2f}% of the run (target < 5%)")
    print(f"peak memory (process tree) {memory.peak_bytes / 1024**3:.2f} GiB")


if __name__ == "__main__":
    main()
