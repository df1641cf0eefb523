"""drift:  λ_C Σ_c (d⁺_c + d⁻_c) + λ_S Σ_s (e⁺_s + e⁻_s), without a risk model.

With one, the risk cost (optimizer/terms/risk.py) is what tax is traded against: a per-dollar
penalty has no units of risk and does not grow with the size of a bet, so it is zero there.
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout
from optimizer.problem import HouseholdProblem, SolveParams


def drift_term(p: HouseholdProblem, lay: Layout, params: SolveParams) -> np.ndarray:
    c = np.zeros(lay.n_vars)
    if p.has_risk_model:
        return c
    c[lay.d_plus] = c[lay.d_minus] = params.class_drift_penalty
    c[lay.e_plus] = c[lay.e_minus] = params.security_drift_penalty
    return c
