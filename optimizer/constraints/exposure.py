"""exposure:  Σ_s x_{s,k} (H⁰_s − Σ_{l∈s} u_l + Σ_a v_{a,s}) − f⁺_k + f⁻_k = Σ_s x_{s,k} w_s V   ∀k.

Counterbalancing: when a lot is kept overweight for tax reasons, the household's sector and factor
exposures (dollar-weighted) still track the model's, by underweighting similar securities.
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout, RowBlock
from optimizer.problem import HouseholdProblem


def exposure_rows(p: HouseholdProblem, lay: Layout) -> RowBlock:
    K = lay.n_exposures
    if K == 0:
        return RowBlock("exposure", *(np.zeros(0, dtype=np.int64),) * 2, np.zeros(0), np.zeros(0), np.zeros(0))
    x = p.exposures
    held = np.bincount(p.lot_security, weights=p.lot_value_usd, minlength=p.n_securities)
    rhs = x.T @ (p.target_weight * p.total_value_usd) - x.T @ held
    # Each u_l and v_{a,s} enters every characteristic its security has (dense in k, sparse in s).
    lot_x, buy_x = x[p.lot_security], x[lay.buy_security]  # [L, K], [B, K]
    lot_l, lot_k = np.nonzero(lot_x)
    buy_b, buy_k = np.nonzero(buy_x)
    rows = np.concatenate([lot_k, buy_k, np.arange(K), np.arange(K)])
    cols = np.concatenate([lay.index(lay.u)[lot_l], lay.index(lay.v)[buy_b], lay.index(lay.f_plus), lay.index(lay.f_minus)])
    vals = np.concatenate([-lot_x[lot_l, lot_k], buy_x[buy_b, buy_k], -np.ones(K), np.ones(K)])
    return RowBlock("exposure", rows, cols, vals, rhs, rhs)
