"""OR-Tools backend: GLOP through model_builder, filled from sparse arrays in one call.

The only module of Lotwise that imports ortools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from ortools.linear_solver.python import model_builder_helper as mbh

from optimizer.lp import LinearProgram

Status = Literal["optimal", "infeasible", "unbounded", "error"]

_STATUS: dict[object, Status] = {
    mbh.SolveStatus.OPTIMAL: "optimal",
    mbh.SolveStatus.INFEASIBLE: "infeasible",
    mbh.SolveStatus.UNBOUNDED: "unbounded",
}


@dataclass(frozen=True)
class LpSolution:
    status: Status
    x: np.ndarray
    objective: float
    message: str


def solve_lp(lp: LinearProgram, solver: str = "glop", time_limit_s: float = 30.0) -> LpSolution:
    model = mbh.ModelBuilderHelper()
    model.fill_model_from_sparse_data(lp.lb, lp.ub, lp.c, lp.row_lb, lp.row_ub, lp.A)
    engine = mbh.ModelSolverHelper(solver)
    engine.set_time_limit_in_seconds(time_limit_s)
    engine.solve(model)
    status = _STATUS.get(engine.status(), "error")
    if status != "optimal":
        return LpSolution(status, np.zeros(0), float("nan"), f"{engine.status().name} {engine.status_string()}".strip())
    return LpSolution(status, np.asarray(engine.variable_values()), float(engine.objective_value()), "")
