"""Solve one household: build the LP, solve it, enforce the one-run wash-sale rule, read the answer.

See ``optimizer.problem`` for the formulation.
"""

from __future__ import annotations

import numpy as np

from optimizer.backends.ortools_lp import LpSolution, solve_lp
from optimizer.build import build_lp
from optimizer.errors import HouseholdInfeasible, SolverFailure
from optimizer.lp import Layout, LinearProgram
from optimizer.problem import HouseholdProblem, SolveParams
from optimizer.result import HouseholdSolution
from optimizer.terms.drift import drift_term
from optimizer.terms.tax import lot_gain_per_dollar


def solve_household(p: HouseholdProblem, params: SolveParams = SolveParams()) -> HouseholdSolution:
    lay, lp = build_lp(p, params)
    _check_cash_can_be_met(p, lay, lp)
    loss_lot = lot_gain_per_dollar(p) < 0
    x, objective, passes = _solve_with_priority(p, lay, lp, params)
    for _ in range(p.n_securities + 1):
        before = lp.ub.copy()
        if not _fix_wash_sale_directions(p, lay, lp, x, loss_lot, params.dust_usd, keep_larger=True):
            break
        try:
            x, objective, n = _solve_with_priority(p, lay, lp, params)
        except HouseholdInfeasible:
            # Keeping the buys took away sales the cash minimum needs; dropping the buys instead
            # is always feasible (a buy only ever spends cash).
            lp.ub[:] = before
            _fix_wash_sale_directions(p, lay, lp, x, loss_lot, params.dust_usd, keep_larger=False)
            x, objective, n = _solve_with_priority(p, lay, lp, params)
        passes += n
    u = _clean(x[lay.u], lp.ub[lay.u], params.dust_usd)
    v = _clean(x[lay.v], lp.ub[lay.v], params.dust_usd)
    bought = np.flatnonzero(v)
    return HouseholdSolution(p, u, lay.buy_account[bought], lay.buy_security[bought], v[bought], objective, passes)


def _check_cash_can_be_met(p: HouseholdProblem, lay: Layout, lp: LinearProgram) -> None:
    """Infeasibility is only possible through cash (drift has slacks): say so in plain words."""
    sellable = np.bincount(p.lot_account, weights=lp.ub[lay.u], minlength=p.n_accounts)
    floor = p.cash_floor_usd
    short = p.cash_usd + sellable < floor
    if short.any():
        reasons = [
            f"account {p.account_ids[a]}: cash ${p.cash_usd[a]:,.2f} plus sellable holdings ${sellable[a]:,.2f} "
            f"cannot reach its minimum cash ${p.min_cash_usd[a]:,.2f}"
            + (f" plus withdrawal ${p.withdrawal_usd[a]:,.2f}" if p.withdrawal_usd is not None and p.withdrawal_usd[a] else "")
            for a in np.flatnonzero(short)
        ]
        raise HouseholdInfeasible("; ".join(reasons))


def _solve_with_priority(
    p: HouseholdProblem, lay: Layout, lp: LinearProgram, params: SolveParams
) -> tuple[np.ndarray, float, int]:
    if params.priority == "weighted":
        sol = _checked(solve_lp(lp), p)
        return sol.x, sol.objective, 1
    # drift_first: least drift, then the whole objective without giving that drift back.
    weights = drift_term(p, lay, params)
    first = _checked(solve_lp(LinearProgram(weights, lp.A, lp.row_lb, lp.row_ub, lp.lb, lp.ub, lp.row_names)), p)
    # Slack of 1e-7 of the household's value (in penalty units): the solver's own tolerance, no more.
    cap = first.objective + 1e-7 * p.total_value_usd * weights.max(initial=0.0)
    second = _checked(solve_lp(lp.with_row(weights, -np.inf, cap, "drift_cap")), p)
    return second.x, second.objective, 2


def _checked(sol: LpSolution, p: HouseholdProblem) -> LpSolution:
    if sol.status == "infeasible":
        raise HouseholdInfeasible(f"household {p.household_id}: no trade list meets every constraint ({sol.message})")
    if sol.status != "optimal":
        raise SolverFailure(f"household {p.household_id}: solver stopped without an optimum ({sol.message})")
    return sol


def _fix_wash_sale_directions(
    p: HouseholdProblem, lay: Layout, lp: LinearProgram, x: np.ndarray, loss_lot: np.ndarray, dust_usd: float,
    keep_larger: bool,
) -> bool:
    """Per identical group bought and loss-sold in this run, keep one side (the larger, or the sales)
    and bound the other to zero; True if any bound moved."""
    groups = p.identical_group.max(initial=-1) + 1
    buy_usd = np.bincount(p.identical_group[lay.buy_security], weights=np.where(x[lay.v] > dust_usd, x[lay.v], 0), minlength=groups)
    loss_sold = np.where(loss_lot & (x[lay.u] > dust_usd), x[lay.u], 0)
    loss_usd = np.bincount(p.identical_group[p.lot_security], weights=loss_sold, minlength=groups)
    conflict = (buy_usd > 0) & (loss_usd > 0)
    if not conflict.any():
        return False
    keep_buys = buy_usd >= loss_usd if keep_larger else np.zeros_like(conflict)
    block_loss_lots = conflict[p.identical_group[p.lot_security]] & keep_buys[p.identical_group[p.lot_security]] & loss_lot
    block_buys = conflict[p.identical_group[lay.buy_security]] & ~keep_buys[p.identical_group[lay.buy_security]]
    lp.ub[lay.index(lay.u)[block_loss_lots]] = 0.0
    lp.ub[lay.index(lay.v)[block_buys]] = 0.0
    return True


def _clean(values: np.ndarray, upper: np.ndarray, dust_usd: float) -> np.ndarray:
    values = np.clip(values, 0.0, upper)
    return np.where(values < dust_usd, 0.0, values)
