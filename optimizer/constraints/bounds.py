"""Variable bounds: lot sizes (no lot oversold, no short) and the wash-sale windows.

lots        0 ≤ u_l ≤ U_l = q_l p_{s(l)}
wash sales  v_{a,s} = 0 when s's identical group was sold at a loss in the last 30 days (any account);
            u_l = 0 when l is a loss lot and its group was bought in the last 30 days (any account)
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
    loss_lot = p.lot_basis_usd > p.lot_value_usd  # a break-even lot realizes no loss: not a wash sale
    u = ub[lay.u]
    u[loss_lot & p.lot_loss_sale_window] = 0.0
    ub[lay.u] = u
