"""verify: the independent re-check; a household whose trades break a rule is withheld, with the rule."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from optimizer.verify import verify
from tasks.outcomes import BatchResult, household_exception


def verify_solutions(batch: BatchResult) -> BatchResult:
    passed = []
    for sol in batch.solutions:
        problems = verify(sol)
        if problems:
            batch.failed_verification += 1
            batch.exceptions.append(household_exception(sol.problem.household_id, "verify", "; ".join(problems)))
        else:
            passed.append(sol)
    batch.solutions = passed
    return batch


@task(name="verify-batch", cache_policy=NO_CACHE)
def verify_batch(batch: BatchResult) -> BatchResult:
    return verify_solutions(batch)
