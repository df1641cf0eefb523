"""exposure:  Σ_t x_{t,k} (e⁺_t − e⁻_t) − f⁺_k + f⁻_k = 0   ∀k.

Counterbalancing: when a lot is kept overweight for tax reasons, the household's sector and factor
exposures (dollar-weighted) still track the model's, by underweighting similar securities.

After trading, slot t holds w_t V + e⁺_t − e⁻_t (security drift rows), so the household's exposure
Σ_t x_{t,k} h_t differs from the model's Σ_t x_{t,k} w_t V by exactly Σ_t x_{t,k} (e⁺_t − e⁻_t).
Writing the rows over the slack variables instead of every lot and buy keeps them as sparse as the
securities (not the lots), which makes large direct-index households several times faster. A
substitute carries its primary's characteristics (it is chosen to resemble it).
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout, RowBlock
from optimizer.problem import HouseholdProblem


def exposure_rows(p: HouseholdProblem, lay: Layout) -> RowBlock:
    K = lay.n_exposures
    if K == 0:
        return RowBlock("exposure", *(np.zeros(0, dtype=np.int64),) * 2, np.zeros(0), np.zeros(0), np.zeros(0))
    t, k = np.nonzero(p.exposures)  # slot t's characteristics (a substitute's slot is its primary's row)
    x = p.exposures[t, k]
    rows = np.concatenate([k, k, np.arange(K), np.arange(K)])
    cols = np.concatenate([lay.index(lay.e_plus)[t], lay.index(lay.e_minus)[t], lay.index(lay.f_plus), lay.index(lay.f_minus)])
    vals = np.concatenate([x, -x, -np.ones(K), np.ones(K)])
    return RowBlock("exposure", rows, cols, vals, np.zeros(K), np.zeros(K))
