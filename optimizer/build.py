"""Registration of the LP's pieces: adding a family is one new file and one line here."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from optimizer.constraints.bounds import lot_bounds, wash_sale_bounds
from optimizer.constraints.budget import budget_rows
from optimizer.constraints.cash import cash_rows
from optimizer.constraints.drift import class_drift_rows, security_drift_rows
from optimizer.constraints.exposure import exposure_rows
from optimizer.constraints.mandates import holding_limit_rows, restriction_bounds
from optimizer.constraints.risk import risk_bounds, risk_rows
from optimizer.lp import Layout, LinearProgram, RowBlock, assemble
from optimizer.problem import HouseholdProblem, SolveParams
from optimizer.terms.deferral import deferral_term
from optimizer.terms.drift import drift_term
from optimizer.terms.exposure import exposure_term
from optimizer.terms.location import location_term
from optimizer.terms.overshoot import overshoot_term
from optimizer.terms.risk import risk_term
from optimizer.terms.substitute import substitute_term
from optimizer.terms.tax import tax_term
from optimizer.terms.trading_cost import trading_cost_term

RowFamily = Callable[[HouseholdProblem, Layout], RowBlock]
BoundFamily = Callable[[HouseholdProblem, Layout, np.ndarray, np.ndarray], None]
Term = Callable[[HouseholdProblem, Layout, SolveParams], np.ndarray]

ROW_FAMILIES: list[RowFamily] = [cash_rows, class_drift_rows, security_drift_rows, exposure_rows, budget_rows,
                                 holding_limit_rows, risk_rows]
BOUND_FAMILIES: list[BoundFamily] = [lot_bounds, wash_sale_bounds, restriction_bounds, risk_bounds]
TERMS: dict[str, Term] = {
    "drift": drift_term,
    "tax": tax_term,
    "deferral": deferral_term,
    "exposure": exposure_term,
    "trading_cost": trading_cost_term,
    "location": location_term,
    "substitute": substitute_term,
    "risk": risk_term,
    "overshoot": overshoot_term,
}


def build_lp(p: HouseholdProblem, params: SolveParams) -> tuple[Layout, LinearProgram]:
    lay = Layout.for_problem(p)
    lb, ub = np.zeros(lay.n_vars), np.full(lay.n_vars, np.inf)
    for family in BOUND_FAMILIES:
        family(p, lay, lb, ub)
    c = sum((term(p, lay, params) for term in TERMS.values()), np.zeros(lay.n_vars))
    return lay, assemble(lay.n_vars, c, lb, ub, [family(p, lay) for family in ROW_FAMILIES])
