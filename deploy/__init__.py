"""Prefect deployments (schedules, event triggers, work pools) live here; the daily flow runs locally without them."""
