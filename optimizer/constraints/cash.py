"""cash:  m_a + r_a ≤ c⁰_a + Σ_{l∈a} u_l − Σ_s v_{a,s} ≤ M_a   for every account a.

Each account trades only with its own cash: no money moves between accounts. r_a is a withdrawal
to raise, M_a a maximum (a deposit beyond it must be invested).
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout, RowBlock
from optimizer.problem import HouseholdProblem


def cash_rows(p: HouseholdProblem, lay: Layout) -> RowBlock:
    return RowBlock(
        "cash",
        rows=np.concatenate([p.lot_account, lay.buy_account]),
        cols=np.concatenate([lay.index(lay.u), lay.index(lay.v)]),
        vals=np.concatenate([np.ones(lay.n_lots), -np.ones(lay.n_buys)]),
        lb=p.cash_floor_usd - p.cash_usd,
        ub=p.cash_ceiling_usd - p.cash_usd,
    )
