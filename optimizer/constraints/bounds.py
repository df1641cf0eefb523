"""Variable bounds: lot sizes (no lot oversold, no short) and the wash-sale windows.

lots        0 ≤ u_l ≤ U_l = q_l p_{s(l)}
wash sales  v_{a,s} = 0 when s's identical group was sold at a loss in the last 30 days (any account);
            u_l = 0 when l is a taxable loss lot and its group was bought in the last 30 days (any
            account). A loss inside an IRA has no tax effect at all, so it is never frozen: selling it
            disallows nothing (Publication 550 concerns deductible losses). The solve may free
            the older loss lots of some groups (``partial_wash_groups``, optimizer.solve): their sale
            is then a partial wash sale, its loss credited × (1 − ω_g) (optimizer.terms.tax), and
            the groups' replacement lots (bought in the window) are not sold in the same run.
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout
from optimizer.problem import HouseholdProblem


def lot_bounds(p: HouseholdProblem, lay: Layout, lb: np.ndarray, ub: np.ndarray) -> None:
    ub[lay.u] = p.lot_value_usd


def wash_sale_bounds(p: HouseholdProblem, lay: Layout, lb: np.ndarray, ub: np.ndarray) -> None:
    blocked_group = np.zeros(p.identical_group.max(initial=-1) + 1, dtype=bool)
    blocked_group[p.identical_group[p.buy_blocked]] = True
    v = ub[lay.v]
    v[blocked_group[p.identical_group[lay.buy_security]]] = 0.0
    ub[lay.v] = v
    # A break-even lot realizes no loss, and an IRA's loss is no deductible loss: neither is a wash sale.
    loss_lot = (p.lot_basis_usd > p.lot_value_usd) & p.account_taxable[p.lot_account]
    u = ub[lay.u]
    frozen = loss_lot & p.lot_loss_sale_window
    if p.partial_wash_groups is not None:
        freed = p.partial_wash_groups[p.identical_group[p.lot_security]]
        frozen &= ~(p.lot_partly_washable & freed)
        # Their replacement lots stay through the run: sold today, they would carry the washed loss
        # in their basis straight back into this year, a chain the pricing does not follow.
        frozen |= freed & (p.lot_age_days <= 30)
    u[frozen] = 0.0
    ub[lay.u] = u
