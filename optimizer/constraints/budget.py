"""Tax budgets for the rest of the year (year-to-date realizations already deducted):

gain budget   Σ_{l taxable} g_l u_l − b_G ≤ G      net realized gain; a harvested loss makes room
tax budget    Σ_l τ_l g_l u_l − b_T ≤ T            estimated tax at the household's marginal rates
turnover      Σ_l u_l [+ Σ v_{a,s}] − b_Θ ≤ Θ      a transition's dollars still to trade this period:
                                                   sells, or buys plus sells (turnover_counts_buys)
A budget already spent before the run arrives as 0 (tasks.problems): no trade that adds tax. The
slacks b ≥ 0 exist only when the relaxation made the budgets soft (HouseholdProblem.budgets_soft);
each costs BUDGET_OVERSHOOT_COST per dollar, so the LP exceeds a budget by the least any feasible
trade list needs, and the relaxation reports by how much. When binding, the LP spends a budget
where the objective gains most: the most risk (or drift) reduction per dollar of gain or tax.
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout, RowBlock
from optimizer.problem import HouseholdProblem
from optimizer.terms.tax import lot_gain_per_dollar

BUDGET_OVERSHOOT_COST = 10.0  # per dollar beyond a soft budget: above any tax, risk or drift gain per dollar


def budget_rows(p: HouseholdProblem, lay: Layout) -> RowBlock:
    g = lot_gain_per_dollar(p)
    taxable = p.account_taxable[p.lot_account]
    u, v = lay.index(lay.u), lay.index(lay.v)
    terms: list[tuple[np.ndarray, np.ndarray]] = []  # (columns, coefficients) per budget row
    caps: list[float] = []
    if p.gain_budget_usd is not None:
        terms.append((u, np.where(taxable, g, 0.0))), caps.append(p.gain_budget_usd)
    if p.tax_budget_usd is not None:
        terms.append((u, p.lot_tax_rate * g)), caps.append(p.tax_budget_usd)
    if p.turnover_budget_usd is not None:
        traded = np.concatenate([u, v]) if p.turnover_counts_buys else u
        terms.append((traded, np.ones(len(traded)))), caps.append(p.turnover_budget_usd)
    slack = lay.index(lay.budget_slack)  # soft budgets: one slack per row, in the same order
    rows = [np.full(len(c), k) for k, (c, _) in enumerate(terms)] + [np.arange(len(slack))]
    cols = [c for c, _ in terms] + [slack]
    vals = [x for _, x in terms] + [-np.ones(len(slack))]
    return RowBlock("budget", np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
                    np.full(len(caps), -np.inf), np.array(caps, dtype=float))
