"""``python -m deploy``: serve the daily schedule and the cash-flow trigger against PREFECT_API_URL."""

from __future__ import annotations

import argparse
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

    serve(*build_deployments(args.var, args.drop, args.cron, args.time_zone, args.reports_url))


if __name__ == "__main__":
    main()
