"""substitute:  ρ Σ_{s substitute} h_s = −ρ Σ_{l∈s} u_l + ρ Σ_a v_{a,s} + constant.

Holding a substitute instead of its primary costs ρ per dollar (its tracking gap): enough to make
a harvest pay for it and to swap back once the wash-sale window has passed.
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout
from optimizer.problem import HouseholdProblem, SolveParams


def substitute_term(p: HouseholdProblem, lay: Layout, params: SolveParams) -> np.ndarray:
    c = np.zeros(lay.n_vars)
    sub = p.is_substitute
    c[lay.u] = -params.substitute_cost * sub[p.lot_security]
    c[lay.v] = params.substitute_cost * sub[lay.buy_security]
    return c
