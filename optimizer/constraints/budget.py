"""Tax budgets for the rest of the year (year-to-date realizations already deducted):

gain budget   Σ_{l taxable} g_l u_l ≤ G      net realized gain; a harvested loss makes room
tax budget    Σ_l τ_l g_l u_l ≤ T            estimated tax at the household's marginal rates
turnover      Σ_l u_l ≤ Θ                    a transition's dollars still to sell this period
When binding, the LP spends the budget where the objective gains most: the most drift reduction
per dollar of gain or tax.
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout, RowBlock
from optimizer.problem import HouseholdProblem
from optimizer.terms.tax import lot_gain_per_dollar


def budget_rows(p: HouseholdProblem, lay: Layout) -> RowBlock:
    g = lot_gain_per_dollar(p)
    taxable = p.account_taxable[p.lot_account]
    coefficients, caps = [], []
    if p.gain_budget_usd is not None:
        coefficients.append(np.where(taxable, g, 0.0))
        caps.append(p.gain_budget_usd)
    if p.tax_budget_usd is not None:
        coefficients.append(p.lot_tax_rate * g)
        caps.append(p.tax_budget_usd)
    if p.turnover_budget_usd is not None:
        coefficients.append(np.ones(lay.n_lots))
        caps.append(p.turnover_budget_usd)
    rows = [np.full(lay.n_lots, i) for i in range(len(caps))]
    return RowBlock(
        "budget",
        rows=np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64),
        cols=np.tile(lay.index(lay.u), len(caps)),
        vals=np.concatenate(coefficients) if coefficients else np.zeros(0),
        lb=np.full(len(caps), -np.inf),
        ub=np.array(caps, dtype=float),
    )
