"""overshoot:  CAP_SLACK_COST · t + BUDGET_OVERSHOOT_COST · Σ b — the price of a limit that gives way.

t is how far the tracking-error cap's cuts are exceeded (optimizer/constraints/risk.py) and b how far
a soft budget is (optimizer/constraints/budget.py; soft only after the relaxation). Both prices are
far above any tax, risk or drift gain per dollar, so a limit gives way only by what nothing else can
avoid; the solve reports it (HouseholdSolution.notes, the relaxation's words).
"""

from __future__ import annotations

import numpy as np

from optimizer.constraints.budget import BUDGET_OVERSHOOT_COST
from optimizer.constraints.risk import CAP_SLACK_COST
from optimizer.lp import Layout
from optimizer.problem import HouseholdProblem, SolveParams


def overshoot_term(p: HouseholdProblem, lay: Layout, params: SolveParams) -> np.ndarray:
    c = np.zeros(lay.n_vars)
    c[lay.cap_slack] = CAP_SLACK_COST
    c[lay.budget_slack] = BUDGET_OVERSHOOT_COST
    return c
