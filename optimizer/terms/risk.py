"""risk:  (γT / 2V) (Σ_j z_j² + Σ_s D_s d_s²) = (γT/2) · TE² · V dollars, piecewise linear in segments.

γ (SolveParams.risk_aversion) is the certainty-equivalent price of variance per dollar of wealth and
T (risk_horizon_years) how long an active position is assumed to be carried: carrying a 1 % TE for
a year at γ = 10 costs 5 bp of V; a 2 % TE costs 20 bp, four times as much, so a large bet costs
more than twice a half-size one. Segment i of x costs q (P_i + P_{i+1}) per dollar, with q = γT/2V
for z and γT D_s/2V for d_s (optimizer/constraints/risk.py).
"""

from __future__ import annotations

import numpy as np

from optimizer.constraints.risk import factor_breakpoints_usd, secant_sums, specific_breakpoints_usd
from optimizer.lp import Layout
from optimizer.problem import HouseholdProblem, SolveParams


def risk_term(p: HouseholdProblem, lay: Layout, params: SolveParams) -> np.ndarray:
    c = np.zeros(lay.n_vars)
    if not p.has_risk_model:
        return c
    q = 0.5 * params.risk_aversion * params.risk_horizon_years / p.total_value_usd  # γT/2V per dollar²
    c[lay.z_plus] = c[lay.z_minus] = (q * secant_sums(factor_breakpoints_usd(p))).ravel()
    specific = q * p.risk_specific_variance[:, None] * secant_sums(specific_breakpoints_usd(p))
    c[lay.s_plus] = c[lay.s_minus] = specific.ravel()
    return c
