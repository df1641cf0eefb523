"""Prefect deployments: the daily schedule and the cash-flow event trigger (``python -m deploy``)."""
