"""OR-Tools backend: GLOP (LP) or SCIP (whole shares) through model_builder, filled from sparse
arrays in one call.

The only module of Lotwise that imports ortools.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
from ortools.linear_solver.python import model_builder_helper as mbh

from optimizer.lp import LinearProgram

Status = Literal["optimal", "feasible", "infeasible", "unbounded", "error"]

_STATUS: dict[object, Status] = {
    mbh.SolveStatus.OPTIMAL: "optimal",
    mbh.SolveStatus.FEASIBLE: "feasible",  # a MIP stopped by its time limit with an incumbent
    mbh.SolveStatus.INFEASIBLE: "infeasible",
    mbh.SolveStatus.UNBOUNDED: "unbounded",
}


@dataclass(frozen=True)
class LpSolution:
    status: Status
    x: np.ndarray
    objective: float
    message: str
    seconds: float = 0.0  # wall time inside the solver (model fill + solve)
    reduced_costs: np.ndarray | None = None  # an LP's (GLOP's) reduced costs; None for a MIP


GLOP_RETRY = "use_scaling: false"  # GlopParameters, text format
# The dual simplex: 2–3× faster than GLOP's default primal on large households' LPs with a risk model
# (their many bounded segment columns), measured; slower on small ones (an ETF household's few hundred
# columns), which keep the default.
GLOP_DUAL = "use_dual_simplex: true"
DUAL_MIN_COLUMNS = 3000


def solve_lp(lp: LinearProgram, time_limit_s: float = 30.0, mip_gap: float = 0.01,
             mip_abs_gap: float = 1.0) -> LpSolution:
    """GLOP for an LP; SCIP when ``lp.integer`` marks integer variables, stopping within ``mip_gap``
    (relative) or ``mip_abs_gap`` (objective units: dollars) of the bound, whichever comes first."""
    start = time.perf_counter()
    model = mbh.ModelBuilderHelper()
    model.fill_model_from_sparse_data(lp.lb, lp.ub, lp.c, lp.row_lb, lp.row_ub, lp.A)
    mip = lp.integer is not None and lp.integer.any()
    if mip:
        for j in np.flatnonzero(lp.integer):
            model.set_var_integrality(int(j), True)
    engine = mbh.ModelSolverHelper("scip" if mip else "glop")
    engine.set_time_limit_in_seconds(time_limit_s)
    if mip:
        engine.set_solver_specific_parameters(f"limits/gap = {mip_gap}\nlimits/absgap = {mip_abs_gap}")
    elif lp.A.shape[1] >= DUAL_MIN_COLUMNS:
        engine.set_solver_specific_parameters(GLOP_DUAL)
    engine.solve(model)
    if not mip and engine.status() == mbh.SolveStatus.ABNORMAL:
        # GLOP's scaling can stall on the nearly parallel rows the tracking-error cuts add (measured on
        # generated households): the same LP unscaled solves. Once, and only for an LP.
        engine = mbh.ModelSolverHelper("glop")
        engine.set_time_limit_in_seconds(time_limit_s)
        engine.set_solver_specific_parameters(GLOP_RETRY)
        engine.solve(model)
    status = _STATUS.get(engine.status(), "error")
    if status not in ("optimal", "feasible"):
        return LpSolution(status, np.zeros(0), float("nan"), f"{engine.status().name} {engine.status_string()}".strip(),
                          time.perf_counter() - start)
    x = np.asarray(engine.variable_values())
    reduced = None if mip else np.asarray(engine.reduced_costs())
    return LpSolution(status, x, float(engine.objective_value()), "", time.perf_counter() - start, reduced)
