"""tax:  Σ_l τ_l g_l u_l,  g_l = 1 − k_l / U_l: the tax on a dollar of lot l's proceeds.

τ_l is 0 in IRAs, otherwise the household's combined short- or long-term rate by the lot's
holding period on the as-of date. A loss lot has g_l < 0, so selling it lowers the objective by
the tax it saves. An older loss lot freed for a partial wash sale counts its loss × (1 − ω_g),
ω_g the share of its group's older loss the replacement shares would wash if all were sold whole
(optimizer.ledger.partial_wash); the budgets' rows use the same g_l.
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout
from optimizer.problem import HouseholdProblem, SolveParams


def lot_gain_per_dollar(p: HouseholdProblem) -> np.ndarray:
    """g_l as the LP counts it: the recognized gain per dollar of lot l sold."""
    if p.partial_wash_groups is None:
        return p.lot_gain_per_dollar
    return p.lot_gain_per_dollar * (1.0 - p.lot_wash_share)


def tax_term(p: HouseholdProblem, lay: Layout, params: SolveParams) -> np.ndarray:
    c = np.zeros(lay.n_vars)
    c[lay.u] = p.lot_tax_rate * lot_gain_per_dollar(p)
    return c
