"""deferral:  Σ_l δ_l u_l,  δ_l = (τ_ST − τ_LT) g_l for a taxable short-term gain lot within H days of
turning long-term, else 0.

Selling such a lot now forfeits the rate difference a short wait would save, so on top of its
short-term tax it must buy that much more drift reduction to be sold.
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout
from optimizer.problem import HouseholdProblem, SolveParams
from optimizer.terms.tax import lot_gain_per_dollar


def deferral_premium(p: HouseholdProblem, params: SolveParams) -> np.ndarray:
    g = lot_gain_per_dollar(p)
    days = p.lot_days_to_long_term
    near = (days > 0) & (days <= params.deferral_horizon_days) & (g > 0) & p.account_taxable[p.lot_account]
    return np.where(near, max(p.short_term_rate - p.long_term_rate, 0.0) * g, 0.0)


def deferral_term(p: HouseholdProblem, lay: Layout, params: SolveParams) -> np.ndarray:
    c = np.zeros(lay.n_vars)
    c[lay.u] = deferral_premium(p, params)
    return c
