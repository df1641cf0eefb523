"""A cash-flow request (the ``lotwise.cashflow`` event's payload), validated before anything runs.

The payload names the household and the amount: positive is a deposit to invest, negative a
withdrawal to raise. Optionally the account (else the household's largest taxable account, else
its largest account). Anything that is not exactly that is rejected with the reason: an unknown or
malformed household, a non-numeric, non-finite, zero, sub-cent or absurd amount. Amounts are
plain ASCII decimals, ``-?[0-9]+(.[0-9]{1,2})?``, parsed as decimals (never floats): "0.1" is ten
cents; "1e3", "12.345", "1,000", "25,50" (a decimal comma, or a thousands separator: which one is a
guess), "$100", "+100", and digits of other scripts ("١٠٠", fullwidth "１００") are refused.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# Larger than any single client cash flow a desk would automate; beyond it is a typo or an attack.
MAX_CASH_FLOW_USD = Decimal("1000000000")
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
AMOUNT_PATTERN = re.compile(r"-?[0-9]+(\.[0-9]{1,2})?", re.ASCII)  # [0-9], not \d: no other scripts' digits
EVENT_NAME = "lotwise.cashflow"


class CashFlowRejected(ValueError):
    """The request cannot be run; the message says why. Nothing was traded."""


class CashFlowRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    household_id: str = Field(description="Household whose cash moves.")
    amount_usd: Decimal = Field(description="Dollars: positive deposit to invest, negative withdrawal to raise.")
    account_id: Optional[str] = Field(None, description="Account of the cash flow (default: the largest taxable).")
    event_id: Optional[str] = Field(None, description="Id of the triggering event (the run's idempotency key).")
    occurred: Optional[dt.datetime] = Field(None, description="When the event occurred (orders same-day cash flows).")

    @field_validator("household_id", "account_id", "event_id", mode="before")
    @classmethod
    def _identifier(cls, v: Any, info) -> Any:
        if v is None or (info.field_name != "household_id" and str(v).strip() in ("", "None", "null")):
            return None  # an absent optional field renders as "" or "None" through an event template
        v = str(v).strip()
        if not ID_PATTERN.match(v):
            raise ValueError(f"{v[:80]!r} is not an identifier (letters, digits, '_', '.', '-'; at most 64)")
        return v

    @field_validator("amount_usd", mode="before")
    @classmethod
    def _amount(cls, v: Any) -> Decimal:
        if isinstance(v, float):
            raise ValueError("give the amount as text or a decimal, not a binary float")
        text = str(v).strip()
        if not AMOUNT_PATTERN.fullmatch(text):
            raise ValueError(f"{str(v)[:40]!r} is not an amount in dollars and cents written as plain digits "
                             "(e.g. 25000 or -1500.50: no sign but '-', no '$', no separators)")
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the pattern above admits only decimals
            raise ValueError(f"{v!r} is not a number") from exc
        if amount == 0:
            raise ValueError("the amount is zero: nothing to invest or raise")
        if abs(amount) > MAX_CASH_FLOW_USD:
            raise ValueError(f"${abs(amount):,} is more than the ${MAX_CASH_FLOW_USD:,} any single cash flow may be")
        return amount

    @property
    def kind(self) -> str:
        return "deposit" if self.amount_usd > 0 else "withdrawal"


def parse_request(**fields: Any) -> CashFlowRequest:
    """The request, or ``CashFlowRejected`` naming every field that is wrong."""
    try:
        return CashFlowRequest(**fields)
    except ValidationError as exc:
        why = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg'].removeprefix('Value error, ')}"
                        for e in exc.errors())
        raise CashFlowRejected(f"cash-flow request rejected: {why}") from None
