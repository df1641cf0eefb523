"""tax:  Σ_l τ_l g_l u_l,  g_l = 1 − k_l / U_l: the tax on a dollar of lot l's proceeds.

τ_l is 0 in IRAs, otherwise the household's combined short- or long-term rate by the lot's
holding period on the as-of date. A loss lot has g_l < 0, so selling it lowers the objective by
the tax it saves.
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout
from optimizer.problem import HouseholdProblem, SolveParams


def lot_gain_per_dollar(p: HouseholdProblem) -> np.ndarray:
    return p.lot_gain_per_dollar


def tax_term(p: HouseholdProblem, lay: Layout, params: SolveParams) -> np.ndarray:
    c = np.zeros(lay.n_vars)
    c[lay.u] = p.lot_tax_rate * lot_gain_per_dollar(p)
    return c
