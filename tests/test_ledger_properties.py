"""Ledger invariants on random transaction streams (hypothesis)."""

import datetime as dt
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.ledger import Ledger, LedgerError, LedgerEvent

ACCOUNTS = [("T", "taxable_individual"), ("J", "taxable_joint"), ("IRA", "traditional_ira"), ("R", "roth_ira")]


@st.composite
def streams(draw):
    n = draw(st.integers(1, 60))
    date = dt.date(2023, 1, 2)
    events = []
    for row in range(n):
        date += dt.timedelta(days=draw(st.integers(0, 20)))
        account, kind = draw(st.sampled_from(ACCOUNTS))
        side = draw(st.sampled_from(["buy", "buy", "sell", "sell", "reinvest", "transfer_in"]))
        qty = draw(st.floats(0.5, 50, allow_nan=False).map(lambda x: round(x, 3)))
        price = draw(st.floats(1, 100, allow_nan=False).map(lambda x: round(x, 2)))
        method = draw(st.sampled_from(["fifo", "hifo"]))
        extra = {}
        if side == "transfer_in":
            extra = dict(basis_usd=round(qty * price * draw(st.floats(0.5, 1.5)), 2),
                         acquired=date - dt.timedelta(days=draw(st.integers(0, 800))))
        events.append(LedgerEvent(row + 2, date, draw(st.sampled_from(["a", "b"])), account, kind,
                                  draw(st.sampled_from(["X", "Y", "Z"])), side, qty, price,
                                  fees_usd=draw(st.sampled_from([0.0, 1.0])), lot_method=method, **extra))
    return events


def run(events):
    errors: list[LedgerError] = []
    ledger = Ledger({"Y": "XY", "X": "XY"}).replay(events, errors)
    return ledger, errors


@settings(max_examples=200, deadline=None)
@given(events=streams())
def test_ledger_invariants(events):
    ledger, errors = run(events)
    refused = {e.row for e in errors}
    applied = [e for e in events if e.row not in refused]

    # Shares are conserved per position; no lot is negative.
    held = defaultdict(float)
    for e in applied:
        held[(e.taxpayer, e.account, e.security)] += e.quantity if e.side != "sell" else -e.quantity
    open_qty = defaultdict(float)
    for lot in ledger.open_lots():
        assert lot.quantity > 0
        open_qty[(lot.taxpayer, lot.account, lot.security)] += lot.quantity
    for key, q in held.items():
        assert open_qty.get(key, 0.0) == pytest.approx(q, abs=1e-6)

    # Basis: open basis + deductible basis of sales + permanently disallowed losses = cost paid.
    paid = sum(e.basis_usd if e.side == "transfer_in" else e.quantity * e.price_usd + e.fees_usd
               for e in applied if e.side != "sell")
    open_basis = sum(lot.basis_usd for lot in ledger.open_lots())
    sold_basis = sum(s.basis_usd - s.disallowed_usd + s.disallowed_permanently_usd for s in ledger.sales)
    assert open_basis + sold_basis == pytest.approx(paid, rel=1e-9, abs=1e-6)

    # A wash sale only ever reduces a loss, never beyond it, and never touches a gain.
    for s in ledger.sales:
        assert 0 <= s.disallowed_usd <= max(0.0, -s.gain_usd) + 1e-9
        assert s.disallowed_permanently_usd <= s.disallowed_usd + 1e-9

    # Same stream, same answer.
    again, errors_again = run(events)
    assert again.sales == ledger.sales and again.open_lots() == ledger.open_lots()
    assert [str(e) for e in errors_again] == [str(e) for e in errors]
