"""Records of the tax-lot ledger: events in, lots and sale lines out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

EventSide = Literal["buy", "sell", "transfer_in", "reinvest"]
LotMethod = Literal["fifo", "hifo", "specific"]
IRA_ACCOUNT_TYPES = frozenset({"traditional_ira", "roth_ira"})


class LedgerError(ValueError):
    """An event the ledger cannot apply (oversell, unknown lot, out of order); names the event's row."""

    def __init__(self, row: int | None, field: str, reason: str) -> None:
        super().__init__(f"row {row}: {field}: {reason}")
        self.row, self.field, self.reason = row, field, reason


class LedgerEvent(NamedTuple):
    """One transaction of a taxpayer (a person or a married couple filing jointly).

    buy / reinvest: ``quantity`` shares at ``price_usd`` plus ``fees_usd``; a new lot.
    transfer_in: a lot arriving with carried ``basis_usd`` and ``acquired`` date (fees ignored).
    sell: ``quantity`` shares at ``price_usd`` less ``fees_usd``, relieved by ``lot_method``; for
    ``specific``, ``lot_ids`` lists (lot id, shares or None for "as many as needed") in order.
    """

    row: int | None
    trade_date: dt.date
    taxpayer: str
    account: str
    account_type: str
    security: str
    side: EventSide
    quantity: float
    price_usd: float
    fees_usd: float = 0.0
    lot_method: LotMethod = "fifo"
    lot_ids: tuple[tuple[str, float | None], ...] = ()
    new_lot_id: str | None = None
    basis_usd: float | None = None  # transfer_in only
    acquired: dt.date | None = None  # transfer_in only


@dataclass(slots=True)
class Lot:
    lot_id: str
    taxpayer: str
    account: str
    account_type: str
    security: str
    group: str
    quantity: float
    basis_usd: float  # adjusted basis of the open shares (wash-sale adjustments included)
    acquired: dt.date  # trade date of the acquisition
    holding_start: dt.date  # adjusted: the acquisition date the holding period counts from (tacking)
    seq: int  # acquisition order
    wash_adjustment_usd: float = 0.0
    replacement_capacity: float = 0.0  # shares of this acquisition not yet used as wash-sale replacements
    in_window_from: dt.date | None = None  # acquisition date for window tests (the real trade date)

    @property
    def is_ira(self) -> bool:
        return self.account_type in IRA_ACCOUNT_TYPES


@dataclass(slots=True)
class SaleLine:
    """One lot relieved by one sale."""

    row: int | None
    taxpayer: str
    account: str
    account_type: str
    security: str
    lot_id: str
    trade_date: dt.date
    acquired: dt.date
    holding_start: dt.date
    quantity: float
    proceeds_usd: float
    basis_usd: float
    term: Literal["short", "long"]
    taxable: bool
    disallowed_usd: float = 0.0  # loss disallowed as a wash sale (added to replacement basis)
    disallowed_permanently_usd: float = 0.0  # part of it whose replacement was in an IRA (lost)
    replacements: list[str] = field(default_factory=list)

    @property
    def gain_usd(self) -> float:
        return self.proceeds_usd - self.basis_usd

    @property
    def recognized_gain_usd(self) -> float:
        """What goes on Form 8949: the gain, or the loss less what the wash-sale rule disallowed."""
        return self.gain_usd + self.disallowed_usd if self.taxable else 0.0
