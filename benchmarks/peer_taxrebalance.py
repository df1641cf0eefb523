"""Lotwise against the peer ``taxrebalance==0.2.0`` on the peer's own scale workload.

    make bench-peer      # builds .venv-peer (the project + benchmarks/peer/requirements.txt), then runs:
    .venv-peer/bin/python -m benchmarks.peer_taxrebalance [--assets 250 500] [--lots 3] [--seed 19]
                                                          [--repeats 5] [--methods tax_aware ...]
                                                          [--max-tracking-error 0.005]

The peer is a benchmark-only dependency (MIT, PyPI): it is never installed in the project's .venv.
Nothing is downloaded when this runs.

The instances
-------------
The peer's README reproduces its scale table with ``python tools/benchmark_scale.py --assets N
--lots 3 --seed 19`` (N = 100, 250, 500). That script is in the peer's repository
(garroshub/taxrebalance, commit 59aec3e6), not in the wheel or the sdist, so ``peer_instance``
regenerates its instance here: ``numpy.random.default_rng(seed)`` drawn in the same order (checked
identical, bit for bit, to what that script hands ``rebalance`` at 30, 250 and 500 assets) —

    prices p_s ~ U(45, 170); for each asset s, for each lot j: shares ~ U(5, 40),
    basis per share = p_s · U(0.72, 1.30), days held ∈ {150, 210, 420, 750} (uniform choice),
    prior_30d_replacement = (j == 0 and s % 17 == 0);
    target weights = current weights · U(0.5, 1.6), renormalized to sum 1 (no cash target);
    covariance C = B Bᵀ + diag(D), B ~ N(0, 0.045²) (assets × 4), √D ~ U(0.10, 0.17); no cash;
    RebalanceConfig(max_tracking_error=0.03, trading_cost_bps=15, max_turnover_fraction=0.35,
                    restricted_tickers=(last asset,)), UnitedStatesLots() (35 % short, 20 % long),
    the config's defaults otherwise: risk_aversion 1.0, loss_utilization 0.8,
    future_recapture_fraction 0.2, direction_search_budget None (17 candidates ≤ 250 assets, 9 ≤ 500).

The peer's model (tax_rebalancing/optimizer.py, ``evaluate``)
-------------------------------------------------------------
Shares bought b_s ≥ 0 per asset, shares sold z_l ≥ 0 per lot; E = cash⁰ + Σ_l p q_l the equity
*before* trading (also the denominator after it); w_s = p_s (N_s + b_s − Σ_{l∈s} z_l) / E;
δ = w − w* (weights of E; cash is the remainder, with no risk):

    TE        = √(δᵀ C δ)                          annualized fraction; feasible if TE ≤ cap + 0.00002
    fees      = (bps / 10⁴) · (Σ p b + Σ p z)      both sides
    tax now   = Σ_l c_l z_l     c_l = (p − k_l) r_l for a gain, (p − k_l) r_l φ for a loss, 0 for a
                                loss lot flagged prior_30d_replacement (the loss is taken as unusable)
    recapture = Σ_l f_l z_l     f_l = −(p − k_l) r_l ψ for an unflagged loss, else 0
    risk      = γ_p · E · δᵀ C δ
    objective = tax now + recapture + fees + risk   (dollars; lower is better; negative = a net gain)

r_l = long-term rate if days_held ≥ 365 else short-term; φ = loss_utilization, ψ =
future_recapture_fraction, γ_p = risk_aversion. A plan is feasible when, besides the TE cap: cash
after trades *and fees* ≥ −0.002, no short, no lot oversold, no asset both bought and sold (any
lot, not only losses), gross traded ≤ turnover cap · E, restricted assets untouched.

The peer's methods (what ``rebalance(method=...)`` offers; benchmark_scale runs only the default,
tax_aware): ``tax_aware`` — the SOCP relaxation (CVXPY + Clarabel) with free directions, its
per-asset directions, then that direction vector and single-asset flips (ranked by drift and
relaxed trade size, up to the search budget) each solved with fixed directions, the best feasible
by ``evaluate``; ``risk_only`` — the same without the tax terms; ``greedy`` — risk_only's net
trades with the sales moved to the lots cheapest in tax; ``hold`` — no trade. (``small_exact``
enumerates 3^N directions for at most 4 assets: not applicable.) The relaxation's value is a lower
bound on the objective of every feasible plan, Lotwise's included; it is printed.

The mapping to Lotwise (``lotwise_problem``, ``lotwise_params``)
-----------------------------------------------------------------
One taxable account, securities = the assets (one class plus cash; identical groups = themselves),
lots in the peer's order with basis k_l = basis per share · shares, acquired ``days_held`` days
before the as-of date (short/long term checked to agree with the peer's 365-day rule), target
weights = the peer's, no cash and cash target 0, restricted asset: never buy and never sell.

- Tax: Lotwise's term is Σ τ_l g_l u_l with u_l dollars sold and g_l = 1 − k_l/U_l, i.e. per share
  (p − k) τ_l: the gain rates are the peer's; the loss rates are r (φ − ψ) (the peer's now and
  later parts together): 0.35 · 0.6 = 0.21 short, 0.20 · 0.6 = 0.12 long. A flagged loss lot has
  no tax effect in the peer, so its basis is set to its market value here (tax-neutral, sellable);
  Lotwise's own treatment (blocking loss sales of a security bought within 30 days) would also
  freeze the security's other loss lots, which the peer does not.
- Trading cost κ = bps / 10⁴ on Σu + Σv (the peer's fees exactly).
- Risk: Lotwise's cost (γ T / 2) · dᵀΣd / V with d = δ E and V = E equals γ_p E δᵀCδ when
  γ T / 2 = γ_p: risk_aversion γ = 2 γ_p = 2.0 with risk_horizon_years T = 1.
- Σ: the instance *is* a factor model, so risk_loadings = B (assets × 4), F = I₄ (risk_factor_root
  = optimizer.risk.factor_root(I₄)), risk_specific_variance = D; the largest entry of
  |B F Bᵀ + D − C| against the matrix the peer was given is printed (0 up to rounding).
- risk_polish: one more solve with the risk segments' breakpoints around the first solution (exact
  there): the peer prices the square exactly, Lotwise's secants over-estimate it between breakpoints
  (without the polish it was $0.06 short of the peer at 500 assets).
- Cap: both annualized fractions. The peer's solver holds TE ≤ cap (its evaluate accepts up to
  cap + 0.00002); Lotwise meets its cap to a relative tolerance t, so it gets max_tracking_error =
  cap / (1 + t), t = TE_TOLERANCE: TE ≤ cap, no slack the peer's own solver does not take.
- No linear drift penalties (λ_C = λ_S = λ_F = 0) and no deferral premium (H = 0): the peer's only
  drift term is the quadratic risk; no lot is within 30 days of long-term anyway.
- Turnover: the peer caps buys + sells at 35 % of E: Θ = 35 % E with ``turnover_counts_buys``
  where HouseholdProblem has that field (exact). Without it Θ counts sales only: exact for a plan
  that buys nothing (the peer's best plans here sell 35 % of E and buy nothing), looser for one
  that also buys — the peer's evaluate then says so (gross_turnover_limit).
- Cash: the peer pays its fees from cash, Lotwise's cash rows do not see them; the account keeps a
  minimum m = κ × (the most Lotwise may trade: Θ, or 2Θ when Θ counts sales only), the most the
  fees can be, so the peer's cash check holds (it makes Lotwise sell at least m, which every plan
  worth having here does many times over).
- ``--max-tracking-error`` replaces the cap for both: the README's 3 % never binds here (every
  plan within the 35 % turnover cap stays below 0.6 %), so the cap's cuts are exercised only by a
  tighter one (0.5 % binds at 250 assets).

Timing: CPU seconds (``time.process_time``, every thread of the process) and wall seconds. The
peer: ``rebalance(Portfolio.from_tax_lots(...), ...)`` per method — the region benchmark_scale
times — each with the peer's caches emptied first (they key on the scenario's value, so a second
method on one instance would otherwise reuse the first one's compiled CVXPY model), once. Lotwise:
building the ``HouseholdProblem`` from the same instance and ``solve_household``, the median of
``--repeats`` runs. Both are warmed up once on a small instance first, and each timed region
starts after a garbage collection with the harness's objects frozen out of later ones (the
instance's covariance as tuples of floats, the peer's caches: neither side's cost). The ratio
printed is the peer's best method's CPU time over Lotwise's. Nothing is asserted: it prints figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import statistics
import sys
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from optimizer.problem import HouseholdProblem, SolveParams
from optimizer.result import HouseholdSolution
from optimizer.risk import factor_root, tracking_error
from optimizer.solve import solve_household
from optimizer.tax import long_term_from

try:
    from tax_rebalancing import optimizer as peer_optimizer
    from tax_rebalancing.models import Scenario
    from taxrebalance import Portfolio, RebalanceConfig, TaxLot, UnitedStatesLots, rebalance
except ImportError:  # pragma: no cover - the project's own .venv has no peer
    sys.exit("taxrebalance is not installed here: run `make bench-peer` (it builds .venv-peer).")

AS_OF = dt.date(2026, 11, 20)
SEED = 19  # the peer README's
TE_TOLERANCE = 0.001  # Lotwise's relative tolerance on the cap (SolveParams.tracking_error_tolerance)
# "At least as good" allows one cent on the household: both solvers stop at relative tolerances near
# 1e-8–1e-7 of a $2–4M objective scale (Clarabel's and GLOP's), so smaller gaps are solver noise. The
# exact gap is always printed beside the verdict.
OBJECTIVE_TOLERANCE_USD = 0.01
PEER_METHODS = ("tax_aware", "risk_only", "greedy", "hold")
CONFIG = RebalanceConfig(max_tracking_error=0.03, trading_cost_bps=15, max_turnover_fraction=0.35)
TAX = UnitedStatesLots()
# Lotwise can cap buys + sells (else Θ counts sales only)
GROSS_TURNOVER = "turnover_counts_buys" in {f.name for f in dataclasses.fields(HouseholdProblem)}
T = TypeVar("T")


def timed(call: Callable[[], T]) -> tuple[T, float, float]:
    """(result, CPU s, wall s) of one call, with what exists before it frozen out of the collector."""
    gc.collect()
    gc.freeze()
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        result = call()
        return result, time.process_time() - cpu, time.perf_counter() - wall
    finally:
        gc.unfreeze()


@dataclasses.dataclass(frozen=True)
class Instance:
    """One instance of the peer's tools/benchmark_scale.py."""

    assets: int
    lots_per_asset: int
    seed: int
    tickers: tuple[str, ...]
    price: np.ndarray  # [S]
    lots: tuple[TaxLot, ...]  # the peer's lots, asset by asset
    target: np.ndarray  # [S], sums to 1
    loadings: np.ndarray  # [S, 4] B (factor covariance I₄)
    specific_variance: np.ndarray  # [S] D
    config: RebalanceConfig

    @property
    def covariance(self) -> np.ndarray:
        return self.loadings @ self.loadings.T + np.diag(self.specific_variance)

    @property
    def name(self) -> str:
        return f"{self.assets}×{self.lots_per_asset}"


def peer_instance(assets: int, lots_per_asset: int, seed: int, max_tracking_error: float | None = None) -> Instance:
    """The instance tools/benchmark_scale.py builds for these arguments (same draws, same order);
    ``max_tracking_error`` replaces its cap."""
    rng = np.random.default_rng(seed)
    tickers = tuple(f"S{i:04d}" for i in range(assets))
    price = rng.uniform(45.0, 170.0, assets)
    lots = []
    for i, ticker in enumerate(tickers):
        for j in range(lots_per_asset):
            shares = float(rng.uniform(5, 40))
            basis = float(price[i] * rng.uniform(0.72, 1.3))
            days = int(rng.choice([150, 210, 420, 750]))
            lots.append(TaxLot(f"{ticker}-{j}", ticker, shares, basis, days, j == 0 and i % 17 == 0))
    shares_of = [sum(z.shares for z in lots[i * lots_per_asset:(i + 1) * lots_per_asset]) for i in range(assets)]
    value = np.array([price[i] * shares_of[i] for i in range(assets)])
    target = value / value.sum() * rng.uniform(0.50, 1.60, assets)
    target /= target.sum()
    loadings = rng.normal(0, 0.045, (assets, 4))
    specific = rng.uniform(0.10, 0.17, assets) ** 2
    config = dataclasses.replace(CONFIG, restricted_tickers=(tickers[-1],))
    if max_tracking_error is not None:
        config = dataclasses.replace(config, max_tracking_error=max_tracking_error)
    return Instance(assets, lots_per_asset, seed, tickers, price, tuple(lots), target, loadings, specific, config)


# ---------------------------------------------------------------------------------------------- peer


def peer_scenario(inst: Instance) -> Scenario:
    """The Scenario ``taxrebalance.rebalance`` builds for a U.S. portfolio (the input of ``evaluate``)."""
    c = inst.config
    return Scenario(
        name="Portfolio", tickers=inst.tickers, prices=tuple(float(x) for x in inst.price),
        target_weights=tuple(float(x) for x in inst.target), lots=inst.lots,
        annual_covariance=tuple(tuple(float(x) for x in row) for row in inst.covariance), starting_cash=0.0,
        max_tracking_error=c.max_tracking_error, trading_cost_bps=c.trading_cost_bps,
        short_term_tax_rate=TAX.short_term_rate, long_term_tax_rate=TAX.long_term_rate,
        loss_utilization=c.loss_utilization, future_recapture_fraction=c.future_recapture_fraction,
        risk_aversion=c.risk_aversion, max_turnover_fraction=c.max_turnover_fraction,
        restricted_tickers=tuple(c.restricted_tickers),
    )


def _clear_peer_caches() -> None:
    peer_optimizer._arrays.cache_clear()
    peer_optimizer._covariance_root.cache_clear()
    peer_optimizer._thread_models.__dict__.pop("cache", None)


def run_peer(inst: Instance, method: str) -> tuple[dict, float, float]:
    """(the peer's decision, CPU s, wall s) of one method, timed as benchmark_scale times it."""
    _clear_peer_caches()
    prices = dict(zip(inst.tickers, inst.price))
    targets = dict(zip(inst.tickers, inst.target.tolist()))
    covariance = inst.covariance
    result, cpu, wall = timed(lambda: rebalance(Portfolio.from_tax_lots(inst.lots, prices=prices),
                                                target_weights=targets, covariance=covariance, tax_policy=TAX,
                                                config=inst.config, method=method))
    return result.decision, cpu, wall


def peer_trades(inst: Instance, decision: dict) -> tuple[np.ndarray, np.ndarray]:
    """(shares bought per asset, shares sold per lot) of a peer decision's trade list."""
    buy, sell = np.zeros(inst.assets), np.zeros(len(inst.lots))
    asset = {t: i for i, t in enumerate(inst.tickers)}
    lot = {z.lot_id: j for j, z in enumerate(inst.lots)}
    for t in decision["trades"]:
        if t["side"] == "BUY":
            buy[asset[t["ticker"]]] += t["shares"]
        else:
            sell[lot[t["lot_id"]]] += t["shares"]
    return buy, sell


def evaluate(scenario: Scenario, buy: np.ndarray, sell: np.ndarray, method: str) -> dict:
    """The peer's own scoring of a plan."""
    return peer_optimizer.evaluate(scenario, buy, sell, method).as_dict()


# ------------------------------------------------------------------------------------------- lotwise


def lotwise_problem(inst: Instance, as_of: dt.date = AS_OF) -> HouseholdProblem:
    """The instance as one Lotwise household (see the module docstring for each choice)."""
    n, c = inst.assets, inst.config
    index = {t: i for i, t in enumerate(inst.tickers)}
    security = np.array([index[z.ticker] for z in inst.lots])
    shares = np.array([z.shares for z in inst.lots])
    basis = np.array([z.basis_per_share for z in inst.lots]) * shares
    value = shares * inst.price[security]
    unusable_loss = np.array([z.prior_30d_replacement for z in inst.lots]) & (basis > value)
    basis = np.where(unusable_loss, value, basis)
    acquired = np.datetime64(as_of, "D") - np.array([z.days_held for z in inst.lots])
    peer_long = np.array([z.days_held >= 365 for z in inst.lots])
    if not np.array_equal(long_term_from(acquired) <= np.datetime64(as_of, "D"), peer_long):
        raise ValueError("short/long term of some lot differs from the peer's 365-day rule")
    equity = float(value.sum())
    budget = c.max_turnover_fraction * equity
    turnover = {"turnover_budget_usd": budget} | ({"turnover_counts_buys": True} if GROSS_TURNOVER else {})
    most_traded = budget if GROSS_TURNOVER else 2 * budget
    restricted = np.isin(np.array(inst.tickers), c.restricted_tickers)[None, :]
    return HouseholdProblem(
        household_id=f"peer-{inst.name}", as_of=as_of,
        account_ids=np.array(["taxable"]), account_taxable=np.array([True]),
        cash_usd=np.array([0.0]),
        min_cash_usd=np.array([c.trading_cost_bps / 1e4 * most_traded]),
        security_ids=np.array(inst.tickers), price_usd=inst.price.copy(),
        security_class=np.zeros(n, dtype=np.int64), identical_group=np.arange(n),
        target_weight=inst.target.copy(), buy_blocked=np.zeros(n, dtype=bool),
        class_names=("equity", "cash"), class_target_weight=np.array([1.0, 0.0]),
        lot_ids=np.array([z.lot_id for z in inst.lots]), lot_account=np.zeros(len(inst.lots), dtype=np.int64),
        lot_security=security, lot_quantity_shares=shares, lot_basis_usd=basis, lot_acquired=acquired,
        lot_loss_sale_blocked=np.zeros(len(inst.lots), dtype=bool),
        short_term_rate=TAX.short_term_rate, long_term_rate=TAX.long_term_rate,
        short_term_loss_rate=TAX.short_term_rate * (c.loss_utilization - c.future_recapture_fraction),
        long_term_loss_rate=TAX.long_term_rate * (c.loss_utilization - c.future_recapture_fraction),
        buy_forbidden=restricted, sell_forbidden=restricted,
        risk_loadings=inst.loadings, risk_factor_root=factor_root(np.eye(inst.loadings.shape[1])),
        risk_specific_variance=inst.specific_variance, max_tracking_error=c.max_tracking_error / (1 + TE_TOLERANCE),
        **turnover,
    )


def lotwise_params(config: RebalanceConfig, horizon_years: float = 1.0) -> SolveParams:
    return SolveParams(
        shares="fractional", trading_cost_rate=config.trading_cost_bps / 1e4,
        risk_aversion=2 * config.risk_aversion / horizon_years, risk_horizon_years=horizon_years,
        class_drift_penalty=0.0, security_drift_penalty=0.0, exposure_penalty=0.0, deferral_horizon_days=0,
        tracking_error_tolerance=TE_TOLERANCE, risk_polish=True,
    )


def run_lotwise(inst: Instance, repeats: int) -> tuple[HouseholdSolution, float, float]:
    """(the solution, median CPU s, median wall s) of problem build + solve_household."""
    params = lotwise_params(inst.config)
    runs = [timed(lambda: solve_household(lotwise_problem(inst), params)) for _ in range(max(repeats, 1))]
    return runs[-1][0], statistics.median(r[1] for r in runs), statistics.median(r[2] for r in runs)


def lotwise_trades(inst: Instance, sol: HouseholdSolution) -> tuple[np.ndarray, np.ndarray]:
    """(shares bought per asset, shares sold per lot): the peer's decision format."""
    buy = np.zeros(inst.assets)
    np.add.at(buy, sol.buy_security, sol.buy_shares)
    return buy, sol.lot_sold_shares


def lotwise_te(sol: HouseholdSolution) -> float:
    """Lotwise's own TE of its plan (optimizer.risk), to set beside the peer's."""
    p = sol.problem
    active = sol.holdings_after_usd.sum(axis=0) - p.target_weight * p.total_value_usd
    return tracking_error(active, p.total_value_usd, p.risk_loadings, p.risk_factor_root, p.risk_specific_variance)


# ------------------------------------------------------------------------------------------- report

HEADER = (f"{'instance':<9} {'method':<10} {'CPU s':>9} {'wall s':>9} {'CPU/lotwise':>11} {'objective $':>12} "
          f"{'tax now $':>11} {'recapture $':>11} {'fees $':>9} {'risk $':>9} {'turnover':>8} "
          f"{'TE':>7} {'cap':>6} {'feasible':<8} violations")


def _times(ratio: float) -> str:
    return f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.2f}×"


def row(inst: Instance, method: str, d: dict, cpu: float, wall: float, lotwise_cpu: float) -> str:
    def cell(key: str, width: int, spec: str = ",.2f") -> str:  # an infeasible peer decision has no figures
        return f"{d[key]:>{width}{spec}}" if d.get(key) is not None else f"{'—':>{width}}"

    return (f"{inst.name:<9} {method:<10} {cpu:>9.3f} {wall:>9.3f} {_times(cpu / lotwise_cpu):>11} "
            f"{cell('objective_dollars', 12)} {cell('estimated_tax_current', 11)} "
            f"{cell('estimated_future_recapture', 11)} {cell('transaction_cost', 9)} {cell('risk_penalty', 9)} "
            f"{cell('gross_turnover_fraction', 8, '.1%')} {cell('tracking_error', 7, '.3%')} "
            f"{inst.config.max_tracking_error:>6.2%} {'yes' if d['feasible'] else 'NO':<8} "
            f"{', '.join(d['violations']) or '-'}")


def compare(inst: Instance, methods: tuple[str, ...], repeats: int) -> None:
    scenario = peer_scenario(inst)
    error = np.abs(inst.covariance - np.asarray(scenario.annual_covariance)).max()
    print(f"\n{inst.name}: {inst.assets} assets, {len(inst.lots)} lots, seed {inst.seed}, "
          f"equity ${scenario.equity:,.2f}, TE cap {inst.config.max_tracking_error:.2%}, "
          f"|BFBᵀ + D − C| ≤ {error:.1e}")

    sol, l_cpu, l_wall = run_lotwise(inst, repeats)
    ours = evaluate(scenario, *lotwise_trades(inst, sol), "lotwise")

    peers: dict[str, tuple[dict, float, float]] = {}
    rescore = 0.0
    for m in methods:
        decision, cpu, wall = run_peer(inst, m)
        peers[m] = (decision, cpu, wall)
        if decision["feasible"]:  # the rebuilt Scenario scores the peer's own plan as the peer did
            again = evaluate(scenario, *peer_trades(inst, decision), m)
            rescore = max(rescore, abs(again["objective_dollars"] - decision["objective_dollars"]))

    print(HEADER)
    for m, (d, cpu, wall) in peers.items():
        print(row(inst, m, d, cpu, wall, l_cpu))
    print(row(inst, "lotwise", ours, l_cpu, l_wall, l_cpu))

    feasible = {m: v for m, v in peers.items() if v[0]["feasible"]}
    bound = peers.get("tax_aware", ({},))[0].get("relaxed_lower_bound")
    if bound is not None:
        print(f"  the peer's relaxation (directions free): lower bound ${bound:,.2f} on any feasible plan's objective")
    print(f"  peer plans re-scored by evaluate on the rebuilt Scenario: largest difference ${rescore:.5f}; "
          f"Lotwise's own TE of its plan {lotwise_te(sol):.3%} (the peer's evaluate: {ours['tracking_error']:.3%}); "
          f"{sol.passes} solver pass(es)")
    if not feasible:
        print("  no peer method found a feasible plan")
        return
    best, (bd, b_cpu, _) = min(feasible.items(), key=lambda kv: kv[1][0]["objective_dollars"])
    gap = ours["objective_dollars"] - bd["objective_dollars"]
    print(f"  best peer method: {best}, objective ${bd['objective_dollars']:,.2f} in {b_cpu:.2f} CPU s")
    bound_gap = "" if bound is None else f", {ours['objective_dollars'] - bound:+,.5f} vs the bound"
    print(f"  lotwise: TE {ours['tracking_error']:.3%} vs cap {inst.config.max_tracking_error:.2%} "
          f"({'met' if 'tracking_error' not in ours['violations'] else 'BROKEN'}), feasible: "
          f"{'yes' if ours['feasible'] else 'NO (' + ', '.join(ours['violations']) + ')'}; objective "
          f"${ours['objective_dollars']:,.5f}, {gap:+,.5f} vs {best} ({_verdict(gap)})"
          f"{bound_gap}; CPU {l_cpu * 1e3:.1f} ms: {best} took {_times(b_cpu / l_cpu)} as much")


def _verdict(gap_usd: float) -> str:
    if gap_usd <= 0:
        return "at least as good"
    return f"as good within ${OBJECTIVE_TOLERANCE_USD:.2f}" if gap_usd <= OBJECTIVE_TOLERANCE_USD else "worse"


def warm_up() -> None:
    """One small instance through both (imports, first-call costs), not reported."""
    inst = peer_instance(30, 1, SEED)
    run_peer(inst, "tax_aware")
    run_lotwise(inst, 1)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assets", type=int, nargs="+", default=[250, 500])
    ap.add_argument("--lots", type=int, default=3, help="lots per asset (benchmark_scale's --lots)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--repeats", type=int, default=5, help="Lotwise runs per instance (the median is shown)")
    ap.add_argument("--methods", nargs="+", choices=PEER_METHODS, default=list(PEER_METHODS))
    ap.add_argument("--max-tracking-error", type=float, default=None,
                    help=f"replace the instances' cap (default: benchmark_scale's {CONFIG.max_tracking_error})")
    args = ap.parse_args(argv)
    config = CONFIG if args.max_tracking_error is None else \
        dataclasses.replace(CONFIG, max_tracking_error=args.max_tracking_error)
    params = lotwise_params(config)
    print(f"taxrebalance 0.2.0 vs Lotwise; Lotwise SolveParams: fractional shares, κ = {params.trading_cost_rate}, "
          f"γ = {params.risk_aversion}, T = {params.risk_horizon_years} y (γT/2 = the peer's risk_aversion "
          f"{config.risk_aversion}), λ_C = λ_S = λ_F = 0; its cap: the peer's ÷ (1 + "
          f"{params.tracking_error_tolerance}), met to that tolerance; turnover budget on "
          f"{'buys + sells' if GROSS_TURNOVER else 'sells only'}")
    warm_up()
    for assets in args.assets:
        compare(peer_instance(assets, args.lots, args.seed, args.max_tracking_error), tuple(args.methods), args.repeats)


if __name__ == "__main__":
    main()
