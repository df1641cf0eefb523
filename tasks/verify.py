"""verify: the independent re-check; a household whose trades break a rule is withheld, with the rule."""

from __future__ import annotations

from pathlib import Path


from optimizer.problem import SolveParams
from optimizer.verify import verify
from tasks.optimize import snapshot_note
from tasks.outcomes import BatchResult, household_exception


def verify_solutions(batch: BatchResult, params: SolveParams | None = None, snapshot_dir: Path | None = None) -> BatchResult:
    passed = []
    for sol in batch.solutions:
        problems = verify(sol)
        if problems:
            batch.failed_verification += 1
            note = snapshot_note(sol.problem, params, snapshot_dir) if params is not None else ""
            batch.exceptions.append(household_exception(sol.problem.household_id, "verify", "; ".join(problems) + note))
        else:
            passed.append(sol)
    batch.solutions = passed
    return batch
