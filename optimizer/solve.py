"""Solve one household: build the LP, solve it, hold the tracking-error cap, enforce the one-run
wash-sale rule, read the answer.

See ``optimizer.problem`` for the formulation.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from optimizer.backends.ortools_lp import LpSolution, solve_lp
from optimizer.build import build_lp
from optimizer.constraints.risk import active_usd, cap_cut, conservative_cap_row
from optimizer.errors import HouseholdInfeasible, SolverFailure
from optimizer.ledger.partial_wash import disallowed_loss_usd, priced_disallowed_usd
from optimizer.lp import Layout, LinearProgram
from optimizer.problem import HouseholdProblem, SolveParams
from optimizer.result import HouseholdSolution, active_after_usd
from optimizer.rounding import round_trades
from optimizer.terms.drift import drift_term
from optimizer.terms.overshoot import overshoot_term
from optimizer.terms.risk import risk_term
from optimizer.terms.tax import lot_gain_per_dollar
from optimizer.verify import budget_overshoots


MIP_CUTS = 3  # cuts SCIP's own solutions may still add after those of the LP relaxation
SLACK_TOLERANCE_USD = 1e-6  # the cap's slack above this means the cuts could not all be met
IDLE_SWAP_MIN_GAIN_USD = 1.0  # estimated objective dollars a swap of harvest sides must bring to cost a re-solve
# Partial wash sales: the least a group's could bring (τ × the loss left allowed, less 2κ) for its
# older loss lots to be freed (smaller ones wait the few days until the window closes), and the most
# the LP's price of one may be off before the household is solved again with the group frozen.
PARTIAL_WASH_MIN_GAIN_USD = 25.0


def solve_household(p: HouseholdProblem, params: SolveParams = SolveParams()) -> HouseholdSolution:
    # Older loss lots of groups bought in the last 30 days, worth a partial wash sale: freed, priced.
    washable = _partial_wash_groups(p, params)
    if washable.any():
        p = p.with_partial_wash_groups(washable)
    lay, lp = build_lp(p, params)
    _check_cash_can_be_met(p, lay, lp)
    # A loss sold inside an IRA has no tax effect, so it is no wash sale: only taxable loss lots count.
    loss_lot = (lot_gain_per_dollar(p) < 0) & p.account_taxable[p.lot_account]
    # Settle the likely same-run conflicts before the first solve, the way the loop below would:
    # groups worth harvesting are not bought (their stand-ins fill them); without a risk model, in
    # other buyable groups, loss lots the LP would sell and buy back (τ|g| > 2κ: a wash sale) are kept.
    worth_harvesting = _worth_harvesting(p, params) | washable
    base_ub = lp.ub.copy()
    _block(p, lay, lp.ub, worth_harvesting, loss_lot, keep_buys=False)
    if not p.has_risk_model:
        _keep_rebuy_bait(p, lay, lp.ub, loss_lot, params)
    run = _Run(p, lay, params)
    try:
        x, objective, passes = _solve_with_priority(run, lp)
    except HouseholdInfeasible:  # the cash floor needs those loss sales: let the loop decide instead
        lp.ub[:] = base_ub
        _block(p, lay, lp.ub, worth_harvesting, loss_lot, keep_buys=False)
        x, objective, passes = _solve_with_priority(run, lp)
    swapped = np.zeros_like(worth_harvesting)
    for _ in range(2 * p.n_securities + 2):
        conflict = _wash_conflicts(p, lay, x, loss_lot, params.dust_usd)
        idle = _idle_harvests(p, lay, x, lp.ub, base_ub, worth_harvesting & ~swapped, loss_lot, params.dust_usd,
                              run.reduced_costs)
        if not conflict.any() and not idle.any():
            break
        # Each conflicted group keeps one side: its loss sales when they are worth harvesting (then no
        # buys), else its buys (then no loss sales). Dropping buys is always feasible (a buy only
        # spends cash), so it is the fallback when keeping buys is not. A group whose buys were closed
        # for a harvest the LP then did not make, and which is short of its target, gets its buys
        # back and keeps its loss lots instead (once: each group swaps at most once, so this ends).
        harvest = conflict & worth_harvesting
        ub = lp.ub.copy()
        _reopen_buys(p, lay, ub, base_ub, idle)
        swapped |= idle
        _block(p, lay, ub, harvest, loss_lot, keep_buys=False)
        _block(p, lay, ub, (conflict & ~harvest) | idle, loss_lot, keep_buys=True)
        try:
            x, objective, n = _solve_with_priority(run, lp.with_bounds(ub=ub))
        except HouseholdInfeasible:
            ub = lp.ub.copy()
            _block(p, lay, ub, conflict, loss_lot, keep_buys=False)
            x, objective, n = _solve_with_priority(run, lp.with_bounds(ub=ub))
        lp.ub[:] = ub
        passes += n
    if params.risk_polish and p.has_risk_model and not run.conservative:
        x, objective = _polished(run, lp, x, objective, loss_lot)
        passes += 1
    x, objective, n = _settle_partial_washes(run, lp, x, objective, loss_lot, base_ub)
    passes += n
    u = _clean(x[lay.u], lp.ub[lay.u], params.dust_usd)
    v = _clean(x[lay.v], lp.ub[lay.v], params.dust_usd)
    bought = np.flatnonzero(v)
    cap_notes = run.cap_notes(x)
    sol = HouseholdSolution(p, u, lay.buy_account[bought], lay.buy_security[bought], v[bought], objective, passes,
                            solver_seconds=run.seconds, cuts=len(run.cuts), notes=p.notes + tuple(cap_notes),
                            cap_given_way=bool(cap_notes), tracking_error_tolerance=params.tracking_error_tolerance)
    if params.shares == "mip":  # whole-share accounts are whole already: read their share counts exactly
        whole = p.account_whole_shares(params)
        sold, bought = u / p.price_usd[p.lot_security], sol.buy_usd / p.price_usd[sol.buy_security]
        sol = dataclasses.replace(sol, sold_shares=np.where(whole[p.lot_account], np.round(sold), sold),
                                  bought_shares=np.where(whole[sol.buy_account], np.round(bought), bought))
    rounded = round_trades(sol, params)
    if p.has_risk_model and rounded is not sol:  # what rounding to trade sizes moved, in TE (verify allows it)
        moved = active_after_usd(rounded) - active_after_usd(sol)
        rounded = dataclasses.replace(rounded, rounding_tracking_error=p.tracking_error_of(moved))
    return rounded


def _polished(run: _Run, lp: LinearProgram, x: np.ndarray, objective: float,
              loss_lot: np.ndarray) -> tuple[np.ndarray, float]:
    """One more solve with the risk segments' breakpoints around this solution (exact there), under the
    same bounds and cuts; the better of the two by the exact objective (the square itself, not its
    secants), and the first if the second would break the one-run wash-sale rule."""
    p, lay, params = run.p, run.lay, run.params
    d = active_usd(lay, x)
    b, root = p.risk_lp_factors
    centred = dataclasses.replace(p, risk_centre_usd=d, risk_factor_centre_usd=root.T @ (b.T @ d))
    _, lp2 = build_lp(centred, params)
    ub = lp2.ub.copy()
    ub[lay.u], ub[lay.v] = lp.ub[lay.u], lp.ub[lay.v]  # the wash-sale directions already decided
    polish = _Run(centred, lay, params)
    polish.cuts = list(run.cuts)
    try:
        x2, objective2, _ = _solve_with_priority(polish, lp2.with_bounds(ub=ub))
    except (HouseholdInfeasible, SolverFailure):
        return x, objective
    finally:
        run.seconds += polish.seconds
    if _wash_conflicts(p, lay, x2, loss_lot, params.dust_usd).any() or polish.cap_broken(x2):
        return x, objective
    return (x2, objective2) if _exact_objective(run, lp, x2) < _exact_objective(run, lp, x) else (x, objective)


def _partial_wash_groups(p: HouseholdProblem, params: SolveParams) -> np.ndarray:
    """Groups (bool per group) whose frozen older loss lots could bring at least
    PARTIAL_WASH_MIN_GAIN_USD if all were sold: τ_l × the loss left allowed after the first R_g
    shares are washed, less 2κ of their value (sell, and buy stand-ins)."""
    groups = p.identical_group.max(initial=-1) + 1
    lots = p.lot_partly_washable
    if not lots.any():
        return np.zeros(groups, dtype=bool)
    washed = disallowed_loss_usd(p, np.where(lots, p.lot_quantity_shares, 0.0))
    allowed = p.lot_basis_usd - p.lot_value_usd - washed
    worth = p.lot_tax_rate * allowed - 2 * params.trading_cost_rate * p.lot_value_usd
    by_group = np.bincount(p.identical_group[p.lot_security[lots]], weights=worth[lots], minlength=groups)
    return by_group >= PARTIAL_WASH_MIN_GAIN_USD


def _settle_partial_washes(run: _Run, lp: LinearProgram, x: np.ndarray, objective: float, loss_lot: np.ndarray,
                           base_ub: np.ndarray) -> tuple[np.ndarray, float, int]:
    """Check the LP's price of its partial wash sales against the exact one. The LP credits a freed
    lot's loss × (1 − ω_g), exact when its group's older loss lots are sold whole; when it sold part
    of a group and the exact disallowed loss costs more than PARTIAL_WASH_MIN_GAIN_USD above that
    price, or the recognized gains break a budget, those groups are frozen again (their buys
    reopened) and the household solved once more; the better of the two by the exact objective is
    kept (within the budgets, the cap and, for drift-first households, the drift). Returns
    (x, objective, solves)."""
    p, lay, params = run.p, run.lay, run.params
    if p.partial_wash_groups is None:
        return x, objective, 0
    mispriced = _mispriced_groups(p, x[lay.u] / p.price_usd[p.lot_security])
    # Only a gain or tax budget sees a washed loss (the turnover budget counts dollars traded).
    has_budget = p.gain_budget_usd is not None or p.tax_budget_usd is not None
    broken = has_budget and _budget_broken(p, lay, x, lp.ub, params)
    if broken:
        mispriced |= _groups_where(p, p.lot_partly_washable & (x[lay.u] > params.dust_usd))
    mispriced &= p.partial_wash_groups
    if not mispriced.any():
        return x, objective, 0
    ub = lp.ub.copy()
    ub[lay.index(lay.u)[p.lot_partly_washable & mispriced[p.identical_group[p.lot_security]]]] = 0.0
    _reopen_buys(p, lay, ub, base_ub, mispriced)
    try:
        x2, objective2, solves = _solve_with_priority(run, lp.with_bounds(ub=ub))
    except (HouseholdInfeasible, SolverFailure):
        return x, objective, 0
    weights = drift_term(p, lay, params) + risk_term(p, lay, params) + overshoot_term(p, lay, params)
    drift_ok = not (p.drift_first or params.priority == "drift_first") or \
        float(weights @ x2) <= float(weights @ x) + 1e-7 * p.total_value_usd * weights.max(initial=0.0)
    usable = not _wash_conflicts(p, lay, x2, loss_lot, params.dust_usd).any() and drift_ok \
        and (run.cap_broken(x) or not run.cap_broken(x2))
    broken2 = has_budget and _budget_broken(p, lay, x2, ub, params)
    better = (broken and not broken2) or (broken == broken2 and _washed_cost(run, lp, x2) < _washed_cost(run, lp, x))
    if usable and better:
        lp.ub[:] = ub
        return x2, objective2, solves
    return x, objective, solves


def _mispriced_groups(p: HouseholdProblem, sold_shares: np.ndarray) -> np.ndarray:
    """Groups (bool per group) whose exact disallowed loss costs more than PARTIAL_WASH_MIN_GAIN_USD
    above what the LP priced (τ_l × the difference, summed over the group's lots)."""
    extra = p.lot_tax_rate * (disallowed_loss_usd(p, sold_shares) - priced_disallowed_usd(p, sold_shares))
    by_group = np.bincount(p.identical_group[p.lot_security], weights=extra,
                           minlength=p.identical_group.max(initial=-1) + 1)
    return by_group > PARTIAL_WASH_MIN_GAIN_USD


def _groups_where(p: HouseholdProblem, lots: np.ndarray) -> np.ndarray:
    """bool per identical group: some lot of ``lots`` (bool[L]) is in it."""
    out = np.zeros(p.identical_group.max(initial=-1) + 1, dtype=bool)
    out[p.identical_group[p.lot_security[lots]]] = True
    return out


def _washed_cost(run: _Run, lp: LinearProgram, x: np.ndarray) -> float:
    """The objective of ``x`` with its partial wash sales' exact disallowed loss in place of the LP's
    price of it (at τ_l), and the risk cost as the square it stands for."""
    p, lay = run.p, run.lay
    sold = x[lay.u] / p.price_usd[p.lot_security]
    extra = disallowed_loss_usd(p, sold) - priced_disallowed_usd(p, sold)
    base = _exact_objective(run, lp, x) if p.has_risk_model else float(lp.c @ x)
    return base + float(p.lot_tax_rate @ extra)


def _budget_broken(p: HouseholdProblem, lay: Layout, x: np.ndarray, ub: np.ndarray, params: SolveParams) -> bool:
    """The trades of ``x`` exceed a budget by more than a cent on their recognized gain (a washed
    loss is no loss this year)."""
    u = _clean(x[lay.u], ub[lay.u], params.dust_usd)
    v = _clean(x[lay.v], ub[lay.v], params.dust_usd)
    bought = np.flatnonzero(v)
    sol = HouseholdSolution(p, u, lay.buy_account[bought], lay.buy_security[bought], v[bought], 0.0, 0)
    return bool(budget_overshoots(sol, tolerance_usd=0.01))


def _exact_objective(run: _Run, lp: LinearProgram, x: np.ndarray) -> float:
    """The objective with the risk cost as the square it stands for: (γT/2)·TE²·V instead of its secants."""
    p, params = run.p, run.params
    linear = float((lp.c - risk_term(p, run.lay, params)) @ x)
    return linear + 0.5 * params.risk_aversion * params.risk_horizon_years * run.tracking_error(x) ** 2 * p.total_value_usd


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


class _Run:
    """One household's solves: the time inside the solver, and the tracking-error cap's cuts (valid
    for every pass, so they are kept and carried into each later solve)."""

    def __init__(self, p: HouseholdProblem, lay: Layout, params: SolveParams) -> None:
        self.p, self.lay, self.params = p, lay, params
        self.seconds = 0.0
        self.reduced_costs: np.ndarray | None = None  # of the last solve (an LP's), in its own variables
        self.cuts: list[tuple[np.ndarray, float]] = []
        self.capped = p.has_risk_model and p.max_tracking_error is not None
        self.conservative = False  # the secant row was added after the cuts ran out

    def __call__(self, sol: LpSolution) -> LpSolution:
        self.seconds += sol.seconds
        self.reduced_costs = sol.reduced_costs
        return sol

    def tracking_error(self, x: np.ndarray) -> float:
        return self.p.tracking_error_of(active_usd(self.lay, x))

    def cap_broken(self, x: np.ndarray) -> bool:
        return self.capped and \
            self.tracking_error(x) > self.p.max_tracking_error * (1 + self.params.tracking_error_tolerance)

    def with_cuts(self, lp: LinearProgram) -> LinearProgram:
        if not self.cuts:
            return lp
        return lp.with_rows(np.array([row for row, _ in self.cuts]), np.full(len(self.cuts), -np.inf),
                            np.array([bound for _, bound in self.cuts]), "tracking_error_cuts")

    def cap_notes(self, x: np.ndarray) -> list[str]:
        """Why the cap was not held, in words (empty when it was, or there is none)."""
        if not self.cap_broken(x):
            return []
        te, cap = self.tracking_error(x), self.p.max_tracking_error
        why = "the household's other limits (cash, budgets, mandates, wash-sale windows) allow no closer trade list"
        return [f"tracking error cap not met: {te:.2%} after trading against a cap of {cap:.2%}: {why}"]


def _solve_with_priority(run: _Run, lp: LinearProgram) -> tuple[np.ndarray, float, int]:
    p, lay, params = run.p, run.lay, run.params
    if params.priority == "weighted" and not p.drift_first:
        x, objective = _solve_capped(run, lp)
        return x, objective, 1
    # drift_first: least drift (or risk), then the whole objective without giving that back.
    weights = drift_term(p, lay, params) + risk_term(p, lay, params) + overshoot_term(p, lay, params)
    first, least = _solve_capped(run, dataclasses.replace(lp, c=weights))
    # Slack of 1e-7 of the household's value (in penalty units): the solver's own tolerance, no more;
    # a MIP's first answer is only within its gap of the least drift, so it gets that much room too.
    slack = 1e-7 * p.total_value_usd * weights.max(initial=0.0)
    if params.shares == "mip":
        slack += params.mip_gap * abs(least)
    try:
        x, objective = _solve_capped(run, lp.with_row(weights, -np.inf, least + slack, "drift_cap"))
    except SolverFailure:
        if params.shares != "mip":
            raise
        x, objective = first, float(lp.c @ first)  # SCIP found no better point in time: keep the least drift
    return x, objective, 2


def _solve_capped(run: _Run, lp: LinearProgram) -> tuple[np.ndarray, float]:
    """Solve with the cap's cuts so far; while the answer breaks the cap by more than the tolerance,
    add the tangent cut at it and solve again (Kelley's cutting planes), up to the cut limit; then,
    if the cap is still broken, the conservative secant row. A solution that needs the cuts' slack
    cannot meet the cap under these bounds (the cuts are outer approximations): more cuts would not
    help, so the pass stops there. In "mip" mode the cuts are first found on the LP relaxation (a
    cut is valid for every trade list, whole shares or not), so SCIP solves a few times, not forty."""
    if run.capped and run.params.shares == "mip":
        _cut_loop(run, lp, dataclasses.replace(run.params, shares="fractional"), run.params.tracking_error_max_cuts)
        return _cut_loop(run, lp, run.params, min(len(run.cuts) + MIP_CUTS, run.params.tracking_error_max_cuts))
    return _cut_loop(run, lp, run.params, run.params.tracking_error_max_cuts)


def _cut_loop(run: _Run, lp: LinearProgram, params: SolveParams, max_cuts: int) -> tuple[np.ndarray, float]:
    x, objective = _solve(run.p, run.lay, run.with_cuts(lp), params, run)
    while run.cap_broken(x) and len(run.cuts) < max_cuts and \
            not (run.cuts and x[run.lay.cap_slack].sum() > SLACK_TOLERANCE_USD):
        cut = cap_cut(run.p, run.lay, active_usd(run.lay, x))
        if cut is None:
            break
        run.cuts.append(cut)
        x, objective = _solve(run.p, run.lay, run.with_cuts(lp), params, run)
    if run.cap_broken(x) and len(run.cuts) >= max_cuts and not run.conservative and \
            x[run.lay.cap_slack].sum() <= SLACK_TOLERANCE_USD:
        run.cuts.append(conservative_cap_row(run.p, run.lay))  # the cuts ran out: the secant row ends it
        run.conservative = True
        x, objective = _solve(run.p, run.lay, run.with_cuts(lp), params, run)
    return x, objective


def _solve(p: HouseholdProblem, lay: Layout, lp: LinearProgram, params: SolveParams,
           clock: _Run) -> tuple[np.ndarray, float]:
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
    """Identical groups (bool per group) holding a taxable loss lot, outside a wash-sale window, whose
    loss pays for a round trip into a stand-in: τ|g| > 2κ + ρ. With a risk model any buyable security
    can stand in and the model prices how well (ρ = 0 here); without one, only a configured
    substitute can (ρ of the cheapest)."""
    groups = p.identical_group.max(initial=-1) + 1
    if p.has_risk_model:
        cheapest = np.zeros(p.n_securities)
    else:
        rho = p.substitute_cost_rate(params.substitute_cost)
        cheapest = np.full(p.n_securities, np.inf)  # per primary: its cheapest substitute's ρ
        np.minimum.at(cheapest, p.slot[p.is_substitute], rho[p.is_substitute])
    g = lot_gain_per_dollar(p)
    worth = (p.lot_tax_rate * -g > 2 * params.trading_cost_rate + cheapest[p.lot_security]) & (g < 0)
    worth &= p.account_taxable[p.lot_account] & ~p.lot_loss_sale_window
    harvest = np.zeros(groups, dtype=bool)
    harvest[p.identical_group[p.lot_security[worth]]] = True
    return harvest


def _idle_harvests(p: HouseholdProblem, lay: Layout, x: np.ndarray, ub: np.ndarray, base_ub: np.ndarray,
                   candidates: np.ndarray, loss_lot: np.ndarray, dust_usd: float,
                   reduced_costs: np.ndarray | None) -> np.ndarray:
    """Groups (bool per group) whose buys were closed for a harvest the solution did not make, that are
    short of their target after trading, and that would buy if they could (risk model only: without
    one, the substitute fills the slot): a closed buy with a negative reduced cost (the objective
    falls as it opens). Without reduced costs (a MIP), or when the solution needs a limit's slack
    (its reduced costs then price the slack), being short is enough. Reopening their buys is the
    better side of the one-run rule for them."""
    groups = len(candidates)
    if not p.has_risk_model or not candidates.any():
        return np.zeros(groups, dtype=bool)
    closed = np.zeros(groups, dtype=bool)
    v = lay.index(lay.v)
    closed[p.identical_group[lay.buy_security[(ub[v] == 0) & (base_ub[v] > 0)]]] = True
    harvested = np.zeros(groups, dtype=bool)
    harvested[p.identical_group[p.lot_security[loss_lot & (x[lay.u] > dust_usd)]]] = True
    shortfall_usd = -np.bincount(p.identical_group, weights=active_usd(lay, x), minlength=groups)
    short = shortfall_usd > dust_usd
    slack = x[lay.cap_slack].sum() + x[lay.budget_slack].sum()
    if reduced_costs is not None and len(reduced_costs) == lay.n_vars and slack <= SLACK_TOLERANCE_USD:
        # First-order gain of reopening: the steepest closed buy's reduced cost over the shortfall. A
        # re-solve for less than IDLE_SWAP_MIN_GAIN_USD is not worth its time (the next run decides again).
        steepest = np.zeros(groups)
        closed_buy = (ub[v] == 0) & (base_ub[v] > 0)
        np.minimum.at(steepest, p.identical_group[lay.buy_security[closed_buy]], reduced_costs[v][closed_buy])
        short &= -steepest * np.maximum(shortfall_usd, 0.0) >= IDLE_SWAP_MIN_GAIN_USD
    return candidates & closed & ~harvested & short


def _reopen_buys(p: HouseholdProblem, lay: Layout, ub: np.ndarray, base_ub: np.ndarray, groups: np.ndarray) -> None:
    """Buys of ``groups`` back to their bounds before any harvest decision (wash-sale windows and
    mandates still hold: they are in ``base_ub``)."""
    v = lay.index(lay.v)[groups[p.identical_group[lay.buy_security]]]
    ub[v] = base_ub[v]


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
