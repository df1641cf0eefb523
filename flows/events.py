"""The ``lotwise.cashflow`` event: emitted by ``lotwise cashflow``, matched by the deployment trigger."""

from __future__ import annotations

from prefect.events import Event, emit_event

from data_contracts.cash_flow import EVENT_NAME, CashFlowRequest


def emit_cash_flow(request: CashFlowRequest) -> Event:
    """One event per request; its id becomes the cash-flow run's idempotency key."""
    event = emit_event(
        event=EVENT_NAME,
        resource={"prefect.resource.id": f"lotwise.household.{request.household_id}",
                  "prefect.resource.name": request.household_id},
        payload={"household_id": request.household_id, "amount_usd": str(request.amount_usd),
                 "account_id": request.account_id or ""},
    )
    if event is None:
        raise RuntimeError("Prefect did not emit the event: is PREFECT_API_URL pointing at a running server?")
    return event
