"""Proof through the ledger that a household's proposed trades create no wash sale.

The household's lots and its recent history are replayed into a ``Ledger`` as of the day before
the run, then the run's trades are applied on the as-of date. A wash sale created by the run
shows up as a disallowed loss that was not there before the trades:
- lots held more than 30 days arrive as transfers (never replacements); lots bought within the
  last 30 days as buys on their dates, so they can wash a loss sale of the run;
- a group bought within 30 days where the lots do not show it all (``lot_loss_sale_blocked``,
  ``group_replacement_shares`` infinite) gets a stand-in buy of 1e-6 shares in an IRA the day before;
- a security sold at a loss within 30 days (``buy_blocked``) gets an open loss window of one share
  (``Ledger.add_loss_window``), so any buy of the run would wash it; it changes no real lot.
The run's sales are booked in the order the sold lots were acquired (Treas. Reg. §1.1091-1(b):
shares disposed of together), then its buys. Each sale's disallowed loss must be the one the
solution states for it (``HouseholdSolution.lot_disallowed_usd``, a partial wash sale priced by
``optimizer.ledger.partial_wash``, to 1e-6 relative); any other increase of a disallowed amount
counts, however small: the ledger's arithmetic only adds disallowed losses when shares are matched.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np

from optimizer.ledger.engine import WINDOW_DAYS, Ledger
from optimizer.ledger.model import LedgerEvent
from optimizer.result import HouseholdSolution

_TP = "household"


def wash_sales_created(sol: HouseholdSolution) -> list[str]:
    p = sol.problem
    as_of = p.as_of
    groups = {str(s): f"g{g}" for s, g in zip(p.security_ids, p.identical_group)}
    kind = ["taxable_individual" if t else "traditional_ira" for t in p.account_taxable]
    ledger = Ledger(groups)
    recent_from = as_of - dt.timedelta(days=WINDOW_DAYS)
    setup: list[LedgerEvent] = []
    acquired = p.lot_acquired.astype(dt.date)
    sold = sol.lot_sold_shares
    # Wash sales only link trades within one identical group: replay just the groups the run trades.
    traded = np.zeros(p.identical_group.max(initial=-1) + 1, dtype=bool)
    traded[p.identical_group[p.lot_security[sold > 0]]] = True
    traded[p.identical_group[sol.buy_security]] = True
    in_play = traded[p.identical_group]
    for i in np.flatnonzero(in_play[p.lot_security]):
        a, s = p.lot_account[i], p.lot_security[i]
        common = (_TP, str(p.account_ids[a]), kind[a], str(p.security_ids[s]))
        if acquired[i] >= recent_from:
            setup.append(LedgerEvent(None, acquired[i], *common, "buy", float(p.lot_quantity_shares[i]),
                                     float(p.lot_basis_usd[i] / p.lot_quantity_shares[i]), new_lot_id=str(p.lot_ids[i])))
        else:
            setup.append(LedgerEvent(None, recent_from - dt.timedelta(days=1), *common, "transfer_in",
                                     float(p.lot_quantity_shares[i]), 0.0, new_lot_id=str(p.lot_ids[i]),
                                     basis_usd=float(p.lot_basis_usd[i]), acquired=acquired[i]))
    unknown = ~np.isfinite(p.group_replacement_shares)  # their loss lots are frozen whole (verify's rule above)
    flagged = {int(p.lot_security[i]) for i in np.flatnonzero(p.lot_loss_sale_blocked & in_play[p.lot_security])}
    for s in sorted(flagged):
        if unknown[p.identical_group[s]]:
            setup.append(LedgerEvent(None, as_of - dt.timedelta(days=1), _TP, "~ira", "traditional_ira",
                                     str(p.security_ids[s]), "buy", 1e-6, float(p.price_usd[s])))
    setup.sort(key=lambda e: (e.trade_date, e.side != "transfer_in"))
    ledger.replay(setup)
    for s in np.flatnonzero(p.buy_blocked & in_play):  # stand-in: an open window of one share's loss
        ledger.add_loss_window(_TP, "~loss", str(p.security_ids[s]), as_of, 1.0, float(p.price_usd[s]))
    before = [s.disallowed_usd for s in ledger.sales]
    # A wash sale may have split a lot (the stand-ins before the run, or the run's own partial wash
    # sales): its "<lot>.wN" parts sell with it. A lot of the problem whose own id ends in ".wN",
    # split by an earlier wash sale, is a lot in its own right.
    own = set(p.lot_ids.astype(str).tolist())

    def parts(lot_id: str) -> tuple[tuple[str, None], ...]:
        split = re.compile(re.escape(lot_id) + r"(\.w\d+)+")
        return tuple((k, None) for k in sorted(ledger.lots) if k == lot_id or (k not in own and split.fullmatch(k)))

    selling = np.flatnonzero(sold > 0)
    run_lines: dict[int, list] = {}
    for i in selling[np.lexsort((p.lot_ids[selling].astype(str), p.lot_acquired[selling]))]:
        a, s = p.lot_account[i], p.lot_security[i]
        run_lines[int(i)] = ledger.apply(LedgerEvent(
            None, as_of, _TP, str(p.account_ids[a]), kind[a], str(p.security_ids[s]), "sell", float(sold[i]),
            float(p.price_usd[s]), lot_method="specific", lot_ids=parts(str(p.lot_ids[i]))))
    for k, (a, s, q) in enumerate(zip(sol.buy_account, sol.buy_security, sol.buy_shares)):  # ids no real lot has
        ledger.apply(LedgerEvent(None, as_of, _TP, str(p.account_ids[a]), kind[a], str(p.security_ids[s]), "buy",
                                 float(q), float(p.price_usd[s]), new_lot_id=f"~buy:{k}"))

    problems = []
    for k, line in enumerate(ledger.sales[:len(before)]):  # windows the run found open: its buys must not wash them
        if line.disallowed_usd - before[k] > 1e-9:
            problems.append(f"ledger: the run's trades wash ${line.disallowed_usd - before[k]:,.2f} of loss on a "
                            f"stand-in for a recent loss sale ({line.security})")
    stated = sol.lot_disallowed_usd
    for i, lines in sorted(run_lines.items()):
        washed = sum(line.disallowed_usd for line in lines)
        if abs(washed - stated[i]) > 1e-9 + 1e-6 * stated[i]:
            said = f"the solution states ${stated[i]:,.2f}" if stated[i] else "the solution states none"
            problems.append(f"ledger: the run's trades wash ${washed:,.2f} of loss on lot {p.lot_ids[i]} "
                            f"({p.security_ids[p.lot_security[i]]}); {said}")
    return problems
