"""``python -m deploy``: serve the daily schedule and the cash-flow trigger against PREFECT_API_URL."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from data_contracts.config import DEFAULT_REPORTS_BASE_URL
from deploy.deployments import DEFAULT_CRON, DEFAULT_TIME_ZONE, build_deployments


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m deploy", description=__doc__)
    ap.add_argument("--var", type=Path, default=Path("var"), help="Warehouse and run outputs (default ./var).")
    ap.add_argument("--drop", type=Path, default=None, help="Folder of daily drops <drop>/<date>/ (default <var>/input).")
    ap.add_argument("--cron", default=DEFAULT_CRON, help=f"Daily schedule (default '{DEFAULT_CRON}': 06:30 Mon-Fri).")
    ap.add_argument("--time-zone", default=DEFAULT_TIME_ZONE, help=f"The firm's time zone (default {DEFAULT_TIME_ZONE}).")
    ap.add_argument("--reports-url", default=DEFAULT_REPORTS_BASE_URL,
                    help=f"Where the dashboard's browsers reach `lotwise reports serve` (default {DEFAULT_REPORTS_BASE_URL}).")
    args = ap.parse_args()
    from prefect import serve

    _stop_on_interrupt()
    serve(*build_deployments(args.var, args.drop, args.cron, args.time_zone, args.reports_url))


STOP_GRACE_SECONDS = 10.0


def _stop_on_interrupt() -> None:
    """Ctrl-C (SIGINT to the whole process group) or SIGTERM stops the server within
    ``STOP_GRACE_SECONDS``: Prefect's own shutdown is tried first, but when the signal has also reached
    what it talks to it can wait on a connection for good; a second signal stops at once. Flow runs
    already started are their own processes and are not waited for."""

    def stop(signum: int, frame) -> None:
        if getattr(stop, "asked", False):
            os._exit(128 + signum)
        stop.asked = True
        print(f"python -m deploy: stopping (signal {signum}); again to stop at once", file=sys.stderr, flush=True)
        timer = threading.Timer(STOP_GRACE_SECONDS, lambda: os._exit(128 + signum))
        timer.daemon = True
        timer.start()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


if __name__ == "__main__":
    main()
