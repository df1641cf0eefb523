"""The two deployments the desk runs, served by one long-lived process (``python -m deploy``).

- ``daily-rebalance``: a cron schedule on business days in the firm's time zone (default 06:30
  America/New_York, Monday to Friday). A scheduled run has no date: the flow takes the business day
  before today in that zone and reads ``<drop>/<date>/``. At most one runs at a time (the deployment's
  concurrency limit queues the next), and the flow's own day lock stops a manual run of the same date
  from publishing alongside it.
- ``cash-flow-rebalance``: started by a Prefect deployment trigger on every ``lotwise.cashflow``
  event; the event's payload (household, amount, optional account) and its id and time become the
  flow's parameters. ``lotwise cashflow --household H --amount A`` emits such an event.

Served deployments run their flows as subprocesses of the serving process, on this machine, with
no work pool to set up; a firm that wants workers elsewhere deploys the same flows to a work pool.
"""

from __future__ import annotations

from pathlib import Path

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger
from prefect.schedules import Cron

from data_contracts.cash_flow import EVENT_NAME
from data_contracts.config import DEFAULT_REPORTS_BASE_URL, RunConfig
from flows.cash_flow_rebalance import cash_flow_rebalance
from flows.daily_rebalance import daily_rebalance

DAILY = "daily-rebalance"
CASH_FLOW = "cash-flow-rebalance"
DEFAULT_CRON = "30 6 * * 1-5"
DEFAULT_TIME_ZONE = "America/New_York"

# Jinja over the triggering event. Every value goes through `string`: Prefect renders a lone
# expression through `tojson`, which cannot encode the event's UUID or datetime, and a number in a
# payload must reach the flow as text to be parsed as an exact decimal. A missing field renders as
# "" and is then rejected (or, for the account, read as "none given") by the flow's validation.
CASH_FLOW_PARAMETERS = {
    "household_id": "{{ event.payload.household_id | string }}",
    "amount_usd": "{{ event.payload.amount_usd | string }}",
    "account_id": "{{ event.payload.account_id | string }}",
    "event_id": "{{ event.id | string }}",
    "occurred": "{{ event.occurred.isoformat() }}",
}


def build_deployments(var_dir: Path = Path("var"), drop_root: Path | None = None, cron: str = DEFAULT_CRON,
                      time_zone: str = DEFAULT_TIME_ZONE,
                      reports_base_url: str = DEFAULT_REPORTS_BASE_URL) -> list[RunnerDeployment]:
    var = str(Path(var_dir).resolve())  # served runs start in their own working directory
    drop = str(Path(drop_root).resolve()) if drop_root is not None else None
    RunConfig(reports_base_url=reports_base_url)  # a malformed address is refused here, not at 06:30
    daily = daily_rebalance.to_deployment(
        name=DAILY, schedules=[Cron(cron, timezone=time_zone)],
        parameters={"var_dir": var, "drop_root": drop,
                    "config": {"time_zone": time_zone, "reports_base_url": reports_base_url}},
        concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
        description=f"The firm's daily rebalance, {cron} {time_zone}: the previous business day's drop.",
        tags=["lotwise", "daily"], entrypoint_type=EntrypointType.MODULE_PATH)
    cash = cash_flow_rebalance.to_deployment(
        name=CASH_FLOW, parameters={"var_dir": var, "config": {"reports_base_url": reports_base_url}},
        triggers=[DeploymentEventTrigger(name=f"on {EVENT_NAME}", expect={EVENT_NAME},
                                         match={"prefect.resource.id": "lotwise.household.*"},
                                         parameters=CASH_FLOW_PARAMETERS)],
        description="One household re-optimized when cash arrives or must be raised (event lotwise.cashflow).",
        tags=["lotwise", "cash-flow"], entrypoint_type=EntrypointType.MODULE_PATH)
    return [daily, cash]
