"""exposure:  λ_F Σ_k (f⁺_k + f⁻_k), the cost of sector and factor exposures away from the model's."""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout
from optimizer.problem import HouseholdProblem, SolveParams


def exposure_term(p: HouseholdProblem, lay: Layout, params: SolveParams) -> np.ndarray:
    c = np.zeros(lay.n_vars)  # no f± with a risk model (Layout): its factors price exposures
    c[lay.f_plus] = c[lay.f_minus] = params.exposure_penalty
    return c
