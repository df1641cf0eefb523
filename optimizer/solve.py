"""Solve one household: build the LP, solve it, enforce the one-run wash-sale rule, read the answer.

See ``optimizer.problem`` for the formulation.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from optimizer.backends.ortools_lp import LpSolution, solve_lp
from optimizer.build import build_lp
from optimizer.errors import HouseholdInfeasible, SolverFailure
from optimizer.lp import Layout, LinearProgram
from optimizer.problem import HouseholdProblem, SolveParams
from optimizer.result import HouseholdSolution
from optimizer.rounding import round_trades
from optimizer.terms.drift import drift_term
from optimizer.terms.tax import lot_gain_per_dollar


def solve_household(p: HouseholdProblem, params: SolveParams = SolveParams()) -> HouseholdSolution:
    lay, lp = build_lp(p, params)
    _check_cash_can_be_met(p, lay, lp)
    loss_lot = lot_gain_per_dollar(p) < 0
    # Settle the likely same-run conflicts before the first solve, the way the loop below would:
    # groups worth harvesting are not bought (their substitutes fill them); in other buyable groups,
    # loss lots the LP would sell and buy back (τ|g| > 2κ: a wash sale) are kept.
    worth_harvesting = _worth_harvesting(p, params)
    base_ub = lp.ub.copy()
    _block(p, lay, lp.ub, worth_harvesting, loss_lot, keep_buys=False)
    _keep_rebuy_bait(p, lay, lp.ub, loss_lot, params)
    clock = _SolverClock()
    try:
        x, objective, passes = _solve_with_priority(p, lay, lp, params, clock)
    except HouseholdInfeasible:  # the cash floor needs those loss sales: let the loop decide instead
        lp.ub[:] = base_ub
        _block(p, lay, lp.ub, worth_harvesting, loss_lot, keep_buys=False)
        x, objective, passes = _solve_with_priority(p, lay, lp, params, clock)
    for _ in range(p.n_securities + 1):
        conflict = _wash_conflicts(p, lay, x, loss_lot, params.dust_usd)
        if not conflict.any():
            break
        # Each conflicted group keeps one side: its loss sales when they are worth harvesting into a
        # substitute (then no buys), else its buys (then no loss sales). Dropping buys is always
        # feasible (a buy only spends cash), so it is the fallback when keeping buys is not.
        harvest = conflict & worth_harvesting
        ub = lp.ub.copy()
        _block(p, lay, ub, harvest, loss_lot, keep_buys=False)
        _block(p, lay, ub, conflict & ~harvest, loss_lot, keep_buys=True)
        try:
            x, objective, n = _solve_with_priority(p, lay, lp.with_bounds(ub=ub), params, clock)
        except HouseholdInfeasible:
            ub = lp.ub.copy()
            _block(p, lay, ub, conflict, loss_lot, keep_buys=False)
            x, objective, n = _solve_with_priority(p, lay, lp.with_bounds(ub=ub), params, clock)
        lp.ub[:] = ub
        passes += n
    u = _clean(x[lay.u], lp.ub[lay.u], params.dust_usd)
    v = _clean(x[lay.v], lp.ub[lay.v], params.dust_usd)
    bought = np.flatnonzero(v)
    sol = HouseholdSolution(p, u, lay.buy_account[bought], lay.buy_security[bought], v[bought], objective, passes,
                            solver_seconds=clock.seconds)
    if params.shares == "mip":  # whole-share accounts are whole already: read their share counts exactly
        whole = p.account_whole_shares(params)
        sold, bought = u / p.price_usd[p.lot_security], sol.buy_usd / p.price_usd[sol.buy_security]
        sol = dataclasses.replace(sol, sold_shares=np.where(whole[p.lot_account], np.round(sold), sold),
                                  bought_shares=np.where(whole[sol.buy_account], np.round(bought), bought))
    return round_trades(sol, params)


def _check_cash_can_be_met(p: HouseholdProblem, lay: Layout, lp: LinearProgram) -> None:
    """Infeasibility is only possible through cash (drift has slacks): say so in plain words."""
    sellable = np.bincount(p.lot_account, weights=lp.ub[lay.u], minlength=p.n_accounts)
    floor = p.cash_floor_usd
    short = p.cash_usd + sellable < floor - 1e-6  # a millionth of a dollar is float noise (the LP's own tolerance is wider)
    if short.any():
        reasons = [
            f"account {p.account_ids[a]}: cash ${p.cash_usd[a]:,.2f} plus sellable holdings ${sellable[a]:,.2f} "
            f"cannot reach its minimum cash ${p.min_cash_usd[a]:,.2f}"
            + (f" plus withdrawal ${p.withdrawal_usd[a]:,.2f}" if p.withdrawal_usd is not None and p.withdrawal_usd[a] else "")
            for a in np.flatnonzero(short)
        ]
        raise HouseholdInfeasible("; ".join(reasons))


class _SolverClock:
    """Time spent inside the solver across every pass of one household."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, sol: LpSolution) -> LpSolution:
        self.seconds += sol.seconds
        return sol


def _solve_with_priority(
    p: HouseholdProblem, lay: Layout, lp: LinearProgram, params: SolveParams, clock: _SolverClock
) -> tuple[np.ndarray, float, int]:
    if params.priority == "weighted" and not p.drift_first:
        x, objective = _solve(p, lay, lp, params, clock)
        return x, objective, 1
    # drift_first: least drift, then the whole objective without giving that drift back.
    weights = drift_term(p, lay, params)
    first, least = _solve(p, lay, dataclasses.replace(lp, c=weights), params, clock)
    # Slack of 1e-7 of the household's value (in penalty units): the solver's own tolerance, no more;
    # a MIP's first answer is only within its gap of the least drift, so it gets that much room too.
    slack = 1e-7 * p.total_value_usd * weights.max(initial=0.0)
    if params.shares == "mip":
        slack += params.mip_gap * abs(least)
    try:
        x, objective = _solve(p, lay, lp.with_row(weights, -np.inf, least + slack, "drift_cap"), params, clock)
    except SolverFailure:
        if params.shares != "mip":
            raise
        x, objective = first, float(lp.c @ first)  # SCIP found no better point in time: keep the least drift
    return x, objective, 2


def _solve(p: HouseholdProblem, lay: Layout, lp: LinearProgram, params: SolveParams,
           clock: _SolverClock) -> tuple[np.ndarray, float]:
    """Solve in dollars; in "mip" mode, sales and buys become integer share counts (x = price × shares)."""
    if params.shares != "mip":
        sol = _checked(clock(solve_lp(lp)), p)
        return sol.x, sol.objective
    scale = np.ones(lay.n_vars)
    scale[lay.u] = p.price_usd[p.lot_security]
    scale[lay.v] = p.price_usd[lay.buy_security]
    integer = np.zeros(lay.n_vars, dtype=bool)
    whole = p.account_whole_shares(params)  # accounts that take fractional shares stay continuous
    integer[lay.u] = whole[p.lot_account]
    integer[lay.v] = whole[lay.buy_account]
    shares = lp.scaled(scale, integer)
    lot_ub = shares.ub[lay.u]  # whole shares of each lot in whole-share accounts
    shares.ub[lay.u] = np.where(whole[p.lot_account], np.floor(lot_ub + 1e-9), lot_ub)
    sol = _checked(clock(solve_lp(shares, time_limit_s=params.mip_time_limit_s, mip_gap=params.mip_gap,
                                       mip_abs_gap=params.mip_abs_gap)), p)
    return sol.x * scale, sol.objective


def _checked(sol: LpSolution, p: HouseholdProblem) -> LpSolution:
    if sol.status == "infeasible":
        raise HouseholdInfeasible(f"household {p.household_id}: no trade list meets every constraint ({sol.message})")
    if sol.status not in ("optimal", "feasible"):
        raise SolverFailure(f"household {p.household_id}: solver stopped without an optimum ({sol.message})")
    return sol


def _worth_harvesting(p: HouseholdProblem, params: SolveParams) -> np.ndarray:
    """Identical groups (bool per group) holding a loss lot worth harvesting (τ|g| > 2κ + ρ of its
    cheapest substitute) that a substitute can stand in for."""
    groups = p.identical_group.max(initial=-1) + 1
    rho = p.substitute_cost_rate(params.substitute_cost)
    cheapest = np.full(p.n_securities, np.inf)  # per primary: its cheapest substitute's ρ
    np.minimum.at(cheapest, p.slot[p.is_substitute], rho[p.is_substitute])
    g = lot_gain_per_dollar(p)
    worth = (p.lot_tax_rate * -g > 2 * params.trading_cost_rate + cheapest[p.lot_security]) & (g < 0)
    worth &= p.account_taxable[p.lot_account] & ~p.lot_loss_sale_window
    harvest = np.zeros(groups, dtype=bool)
    harvest[p.identical_group[p.lot_security[worth]]] = True
    return harvest


def _keep_rebuy_bait(p: HouseholdProblem, lay: Layout, ub: np.ndarray, loss_lot: np.ndarray, params: SolveParams) -> None:
    """Bound to zero the loss lots whose loss pays for selling and buying back (τ|g| > 2κ) in groups
    this run can still buy and that are not overweight: the LP would otherwise wash-trade them. (In
    an overweight group, selling the loss lot without buying back may be exactly right: the loop
    decides there.)"""
    groups = p.identical_group.max(initial=-1) + 1
    buyable = np.zeros(groups, dtype=bool)
    open_buys = ub[lay.v] > 0
    buyable[p.identical_group[lay.buy_security[open_buys]]] = True
    held = np.bincount(p.identical_group[p.lot_security], weights=p.lot_value_usd, minlength=groups)
    target = np.bincount(p.identical_group, weights=p.target_weight, minlength=groups) * p.total_value_usd
    not_over = held - target <= 0.01 * p.total_value_usd
    bait = loss_lot & (p.lot_tax_rate * -lot_gain_per_dollar(p) > 2 * params.trading_cost_rate)
    bait &= (buyable & not_over)[p.identical_group[p.lot_security]]
    ub[lay.index(lay.u)[bait]] = 0.0


def _wash_conflicts(p: HouseholdProblem, lay: Layout, x: np.ndarray, loss_lot: np.ndarray, dust_usd: float) -> np.ndarray:
    """Identical groups both bought and sold at a loss in this solution (bool per group)."""
    groups = p.identical_group.max(initial=-1) + 1
    bought = np.bincount(p.identical_group[lay.buy_security], weights=(x[lay.v] > dust_usd).astype(float), minlength=groups)
    loss_sold = np.bincount(p.identical_group[p.lot_security], weights=(loss_lot & (x[lay.u] > dust_usd)).astype(float),
                            minlength=groups)
    return (bought > 0) & (loss_sold > 0)


def _block(p: HouseholdProblem, lay: Layout, ub: np.ndarray, conflict: np.ndarray, loss_lot: np.ndarray,
           keep_buys: bool) -> None:
    """Bound to zero, in every conflicted group, the loss sales (keep_buys) or the buys."""
    if keep_buys:
        ub[lay.index(lay.u)[conflict[p.identical_group[p.lot_security]] & loss_lot]] = 0.0
    else:
        ub[lay.index(lay.v)[conflict[p.identical_group[lay.buy_security]]]] = 0.0


def _clean(values: np.ndarray, upper: np.ndarray, dust_usd: float) -> np.ndarray:
    values = np.clip(values, 0.0, upper)
    return np.where(values < dust_usd, 0.0, values)
