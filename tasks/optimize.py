"""optimize: build and solve the LPs of one batch of households; a household's failure stays its own."""

from __future__ import annotations

from pathlib import Path


from data_contracts.config import RunConfig
from data_contracts.validation import ValidatedDay
from optimizer.errors import HouseholdInfeasible, OptimizerError
from optimizer.problem import HouseholdProblem, SolveParams
from optimizer.relax import solve_with_relaxation
from optimizer.snapshot import save_snapshot
from tasks.outcomes import BatchResult, household_exception
from tasks.problems import build_problems
from warehouse.io import private_dir


def solve_params(config: RunConfig) -> SolveParams:
    return SolveParams(
        class_drift_penalty=config.class_drift_penalty, security_drift_penalty=config.security_drift_penalty,
        trading_cost_rate=config.trading_cost_rate, priority=config.priority,
        deferral_horizon_days=config.deferral_horizon_days, exposure_penalty=config.exposure_penalty,
        substitute_cost=config.substitute_cost, shares=config.shares, min_trade_usd=config.min_trade_usd,
        mip_gap=config.mip_gap, mip_abs_gap=config.mip_abs_gap_usd, mip_time_limit_s=config.mip_time_limit_s,
        risk_aversion=config.risk_aversion, risk_horizon_years=config.risk_horizon_years,
        tracking_error_tolerance=config.tracking_error_tolerance,
    )


# Each Prefect task costs about 0.2 s of orchestration (its API calls, the result's trip back) next to
# about 3 ms of solving per household (benchmarks/daily_flow.py): 1,000 households keep that near 3 %.
# About 50 batches per worker keep the load balanced and the checkpoints fine-grained.
BATCHES_PER_WORKER, MIN_BATCH, MAX_BATCH = 50, 200, 2000


def auto_batch_size(households: int, workers: int) -> int:
    """Households per batch for ``households`` over ``workers``: about 50 batches each, within 200–2,000."""
    return max(MIN_BATCH, min(MAX_BATCH, -(-households // (workers * BATCHES_PER_WORKER))))


def plan_batches(household_ids: list[str], batch_size: int) -> list[list[str]]:
    return [household_ids[i:i + batch_size] for i in range(0, len(household_ids), batch_size)]


def batch_name(household_ids: list[str]) -> str:
    return f"optimize {household_ids[0]}..{household_ids[-1]} ({len(household_ids)} households)"


def snapshot_note(problem: HouseholdProblem, params: SolveParams, snapshot_dir: Path | None) -> str:
    """Write the household's solver input for `lotwise replay`; the words to add to its exception."""
    if snapshot_dir is None:
        return ""
    path = save_snapshot(problem, params, private_dir(Path(snapshot_dir)) / f"{problem.household_id}.npz")
    return f" [replay: lotwise replay {path}]"


def optimize_households(day: ValidatedDay, household_ids: list[str], config: RunConfig,
                        snapshot_dir: Path | None = None) -> BatchResult:
    result = BatchResult(household_ids)
    params = solve_params(config)
    keep_all = snapshot_dir if config.snapshots == "all" else None
    on_failure = snapshot_dir if config.snapshots != "none" else None
    for problem in build_problems(day, household_ids, config):
        if keep_all is not None:
            save_snapshot(problem, params, private_dir(Path(keep_all)) / f"{problem.household_id}.npz")
        try:
            solution, relaxations = solve_with_relaxation(problem, params)
            result.solutions.append(solution)
            if relaxations:
                result.relaxed += 1
                note = snapshot_note(problem, params, on_failure)
                result.exceptions += [household_exception(problem.household_id, "optimize", r + note, "warning")
                                      for r in relaxations]
        except HouseholdInfeasible as exc:
            result.infeasible += 1
            result.exceptions.append(household_exception(
                problem.household_id, "optimize", f"infeasible: {exc}" + snapshot_note(problem, params, on_failure)))
        except OptimizerError as exc:
            result.infeasible += 1
            result.exceptions.append(household_exception(
                problem.household_id, "optimize", str(exc) + snapshot_note(problem, params, on_failure)))
    return result
