"""The loss a run's sales would have disallowed by a partial wash sale (IRS Publication 550).

A loss sale is a wash sale only to the extent that substantially identical shares were acquired
within 30 days before or after it: "If the number of shares of substantially identical stock or
securities you buy within 30 days before or after the sale is less than the number of shares you
sold, only the loss on the number of shares matched is disallowed" (Publication 550, "Wash Sales").
Which sold shares are matched follows Treas. Reg. §1.1091-1: losses are taken in the order the
shares were disposed of, shares disposed of at the same time in the order they were originally
acquired (earliest first), and the acquired shares are matched to them in the order of their own
acquisition, each once. The disallowed loss is not lost: it is added to the replacement shares'
basis (§1091(d)) — except that a replacement bought in an IRA disallows it for good (Rev. Rul.
2008-5) — and the ledger (``optimizer.ledger.engine``) does that when the trades are booked.

Here every sale of a run is on the as-of date, the run buys nothing of a group it sells at a loss
(the one-run rule), and the replacement shares are R_g, the shares of the group acquired in the
last 30 days (``HouseholdProblem.group_replacement_shares``). Only taxable lots held more than 30
days are priced (``HouseholdProblem.lot_partly_washable``): a recent lot is itself a replacement,
and stays unsold in the run that sells its group at a loss (sold the same day, it would carry the
washed loss in its basis straight back into this year). ``optimizer.ledger.proof`` replays the same
sales through the ledger and checks the amounts agree.
"""

from __future__ import annotations

import numpy as np

from optimizer.problem import HouseholdProblem


def disallowed_loss_usd(p: HouseholdProblem, sold_shares: np.ndarray) -> np.ndarray:
    """float[L]: the loss each lot's sale of ``sold_shares`` has disallowed, in dollars (0 for a
    lot sold at a gain, in an IRA, or outside a wash-sale window)."""
    out = np.zeros(p.n_lots)
    sold = (sold_shares > 0) & p.lot_partly_washable
    if not sold.any():
        return out
    lots = np.flatnonzero(sold)
    group = p.identical_group[p.lot_security[lots]]
    # Disposed of together: matched in the order of original acquisition, then lot id (a fixed order).
    order = np.lexsort((p.lot_ids[lots].astype(str), p.lot_acquired[lots], group))
    lots, group = lots[order], group[order]
    shares = sold_shares[lots]
    running = np.cumsum(shares)
    first = np.r_[True, group[1:] != group[:-1]]
    before = running - shares - np.maximum.accumulate(np.where(first, running - shares, 0.0))
    matched = np.clip(p.group_replacement_shares[group] - before, 0.0, shares)
    loss_per_share = p.lot_basis_usd[lots] / p.lot_quantity_shares[lots] - p.price_usd[p.lot_security[lots]]
    out[lots] = matched * loss_per_share
    return out


def lot_wash_share(p: HouseholdProblem) -> np.ndarray:
    """float[L]: ω_g of each older loss lot of a group freed for partial wash sales
    (``HouseholdProblem.partial_wash_groups``), 0 for every other lot: the share of the group's
    older loss that would be disallowed if all of them were sold whole — the LP credits each such
    lot's loss × (1 − ω_g), exact for the usual harvest (the group's loss lots sold whole)."""
    out = np.zeros(p.n_lots)
    if p.partial_wash_groups is None:
        return out
    lots = p.lot_partly_washable & p.partial_wash_groups[p.identical_group[p.lot_security]]
    if not lots.any():
        return out
    groups = len(p.partial_wash_groups)
    group = p.identical_group[p.lot_security]
    washed = np.bincount(group[lots], weights=disallowed_loss_usd(p, np.where(lots, p.lot_quantity_shares, 0.0))[lots],
                         minlength=groups)
    loss = np.bincount(group[lots], weights=(p.lot_basis_usd - p.lot_value_usd)[lots], minlength=groups)
    share = np.divide(washed, loss, out=np.zeros(groups), where=loss > 0)
    out[lots] = share[group[lots]]
    return out


def priced_disallowed_usd(p: HouseholdProblem, sold_shares: np.ndarray) -> np.ndarray:
    """float[L]: the disallowed loss the LP priced for ``sold_shares``: ω_g × each freed lot's loss sold."""
    loss_per_share = p.lot_basis_usd / p.lot_quantity_shares - p.price_usd[p.lot_security]
    return p.lot_wash_share * np.maximum(loss_per_share, 0.0) * sold_shares
