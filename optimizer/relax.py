"""Infeasibility that explains itself: a documented order in which soft limits give way.

When a household has no feasible trade list, the limits give way one at a time, in this order,
until it solves; each step is reported in plain words (the caller writes it to the exceptions and
so to the review queue), together with the diagnosis of the original failure:

1. the tax, gain and turnover budgets become soft: the LP may exceed them, at a price far above
   anything else in the objective (optimizer/constraints/budget.py), so by the least any feasible
   trade list needs (a withdrawal or minimum cash may need gains realized). A budget is never
   dropped: the words say which budget was exceeded and by how many dollars;
2. the maximum cash of each account (nothing may be buyable: wash-sale windows, restrictions);
3. the minimum cash of each account (down to zero; a withdrawal being raised stays).

Withdrawals, lot quantities and wash-sale windows never give way: if the household is still
infeasible, the exception names the account and the shortfall.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from optimizer.errors import HouseholdInfeasible
from optimizer.problem import HouseholdProblem, SolveParams
from optimizer.result import HouseholdSolution
from optimizer.solve import solve_household
from optimizer.verify import budget_overshoots


def _soft_budgets(p: HouseholdProblem) -> tuple[HouseholdProblem, str] | None:
    if p.budgets_soft or (p.gain_budget_usd is None and p.tax_budget_usd is None and p.turnover_budget_usd is None):
        return None
    return dataclasses.replace(p, budgets_soft=True), "let the budgets give way by the least the trades need"


def _without_max_cash(p: HouseholdProblem) -> tuple[HouseholdProblem, str] | None:
    if p.max_cash_usd is None or np.isinf(p.max_cash_usd).all():
        return None
    return dataclasses.replace(p, max_cash_usd=None), "relaxed the maximum cash of every account"


def _without_min_cash(p: HouseholdProblem) -> tuple[HouseholdProblem, str] | None:
    if not (p.min_cash_usd > 0).any():
        return None
    accounts = ", ".join(f"{a} (${m:,.2f})" for a, m in zip(p.account_ids, p.min_cash_usd) if m > 0)
    return dataclasses.replace(p, min_cash_usd=np.zeros(p.n_accounts)), f"relaxed the minimum cash of {accounts} to zero"


RELAXATION_ORDER = (_soft_budgets, _without_max_cash, _without_min_cash)


def _overshoot_words(sol: HouseholdSolution) -> str:
    over = budget_overshoots(sol, tolerance_usd=0.01)
    if not over:
        return "; the trades then stayed within every budget"
    return "; " + "; ".join(f"{what} exceeds the {budget} by ${amount:,.2f}" for what, budget, amount in over)


def solve_with_relaxation(p: HouseholdProblem, params: SolveParams) -> tuple[HouseholdSolution, list[str]]:
    """The solution and what gave way (empty when nothing did); raises when nothing suffices. Notes of
    the solve itself (a tracking-error cap not held) are returned with the relaxations."""
    try:
        sol = solve_household(p, params)
        return sol, list(sol.notes)
    except HouseholdInfeasible as first:
        diagnosis = str(first)
    relaxed: list[str] = []
    current = p
    for step in RELAXATION_ORDER:
        change = step(current)
        if change is None:
            continue
        current, words = change
        relaxed.append(words)
        try:
            sol = solve_household(current, params)
        except HouseholdInfeasible:
            continue
        tail = _overshoot_words(sol) if current.budgets_soft else ""
        return sol, [f"infeasible as mandated ({diagnosis}); {'; then '.join(relaxed)}{tail}", *sol.notes]
    raise HouseholdInfeasible(diagnosis + (f" (still infeasible after: {'; '.join(relaxed)})" if relaxed else ""))
