"""trading cost:  κ (Σ_l u_l + Σ_{a,s} v_{a,s}), κ per dollar traded (spread and commission)."""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout
from optimizer.problem import HouseholdProblem, SolveParams


def trading_cost_term(p: HouseholdProblem, lay: Layout, params: SolveParams) -> np.ndarray:
    c = np.zeros(lay.n_vars)
    c[lay.u] = c[lay.v] = params.trading_cost_rate
    return c
