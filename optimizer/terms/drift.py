"""drift:  λ_C Σ_c (d⁺_c + d⁻_c) + λ_S Σ_s (e⁺_s + e⁻_s).

With a risk model, the risk cost (optimizer/terms/risk.py) is what tax is traded against within an
asset class: the per-security penalty λ_S (no units of risk, no growth with the size of a bet) is
zero, and so is the cash class's λ_C (cash counts as an active position through the securities'
market loading). The asset-class penalty λ_C stays on the other classes: the household's asset
allocation is the portfolio manager's, and a harvest is not a reason to move money from municipal
bonds to high yield however close the risk model finds them.
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout
from optimizer.problem import HouseholdProblem, SolveParams


def drift_term(p: HouseholdProblem, lay: Layout, params: SolveParams) -> np.ndarray:
    c = np.zeros(lay.n_vars)
    c[lay.d_plus] = c[lay.d_minus] = params.class_drift_penalty
    if p.has_risk_model:
        c[lay.index(lay.d_plus)[p.cash_class]] = c[lay.index(lay.d_minus)[p.cash_class]] = 0.0
        return c
    c[lay.e_plus] = c[lay.e_minus] = params.security_drift_penalty
    return c
