"""substitute:  Σ_{s substitute} ρ_s h_s = −Σ ρ_s Σ_{l∈s} u_l + Σ ρ_s Σ_a v_{a,s} + constant.

Holding a substitute instead of its primary costs ρ_s per dollar (its tracking gap, i.e. its
quality): a harvest must pay for it, and it makes the household swap back once the wash-sale
window has passed. With a risk model it is zero: the model prices how well any stand-in tracks
(a configured substitute is then only a hint: it is buyable).
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout
from optimizer.problem import HouseholdProblem, SolveParams


def substitute_term(p: HouseholdProblem, lay: Layout, params: SolveParams) -> np.ndarray:
    c = np.zeros(lay.n_vars)
    if p.has_risk_model:
        return c
    rho = p.substitute_cost_rate(params.substitute_cost)
    c[lay.u] = -rho[p.lot_security]
    c[lay.v] = rho[lay.buy_security]
    return c
