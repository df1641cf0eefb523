"""Infeasibility that explains itself: a documented order in which soft limits give way.

When a household has no feasible trade list, the limits are relaxed one at a time, in this order,
until it solves; each relaxation is reported in plain words (the caller writes it to the
exceptions output), together with the diagnosis of the original failure:

1. the tax, gain and turnover budgets (a withdrawal or minimum cash may need gains realized);
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


def _without_budgets(p: HouseholdProblem) -> tuple[HouseholdProblem, str] | None:
    if p.gain_budget_usd is None and p.tax_budget_usd is None and p.turnover_budget_usd is None:
        return None
    parts = []
    if p.gain_budget_usd is not None:
        parts.append(f"gain budget ${p.gain_budget_usd:,.2f}")
    if p.tax_budget_usd is not None:
        parts.append(f"tax budget ${p.tax_budget_usd:,.2f}")
    if p.turnover_budget_usd is not None:
        parts.append(f"turnover budget ${p.turnover_budget_usd:,.2f}")
    return (dataclasses.replace(p, gain_budget_usd=None, tax_budget_usd=None, turnover_budget_usd=None),
            f"relaxed the {' and '.join(parts)}")


def _without_max_cash(p: HouseholdProblem) -> tuple[HouseholdProblem, str] | None:
    if p.max_cash_usd is None or np.isinf(p.max_cash_usd).all():
        return None
    return dataclasses.replace(p, max_cash_usd=None), "relaxed the maximum cash of every account"


def _without_min_cash(p: HouseholdProblem) -> tuple[HouseholdProblem, str] | None:
    if not (p.min_cash_usd > 0).any():
        return None
    accounts = ", ".join(f"{a} (${m:,.2f})" for a, m in zip(p.account_ids, p.min_cash_usd) if m > 0)
    return dataclasses.replace(p, min_cash_usd=np.zeros(p.n_accounts)), f"relaxed the minimum cash of {accounts} to zero"


RELAXATION_ORDER = (_without_budgets, _without_max_cash, _without_min_cash)


def solve_with_relaxation(p: HouseholdProblem, params: SolveParams) -> tuple[HouseholdSolution, list[str]]:
    """The solution and the relaxations it needed (empty when none); raises when none suffice."""
    try:
        return solve_household(p, params), []
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
        return sol, [f"infeasible as mandated ({diagnosis}); {'; then '.join(relaxed)}"]
    raise HouseholdInfeasible(diagnosis + (f" (still infeasible after: {'; '.join(relaxed)})" if relaxed else ""))
