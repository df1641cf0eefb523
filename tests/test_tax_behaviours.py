"""One hand-calculable household per behaviour of the tax-aware optimizer (issue 4)."""

import numpy as np
import pytest

from optimizer.backends.ortools_lp import solve_lp
from optimizer.build import build_lp
from optimizer.problem import SolveParams
from optimizer.relax import solve_with_relaxation
from optimizer.solve import solve_household
from optimizer.verify import verify
from tests.conftest import household

NO_COST = dict(trading_cost_rate=0.0, substitute_cost=0.0)


def sold_by_lot(sol):
    return dict(zip(sol.problem.lot_ids.tolist(), sol.lot_sold_usd.tolist()))


def test_sells_the_loss_lot_before_the_gain_lot():
    # A: two lots of 10 shares at $100 — L1 basis $500 (gain), L2 basis $1,500 (loss). Target 50 % A,
    # 50 % B of $2,000: $1,000 of A must go. Selling L2 saves 0.2 × $500; selling L1 costs 0.2 × $500.
    p = household(lot_ids=np.array(["L1", "L2"]), lot_account=np.array([0, 0]), lot_security=np.array([0, 0]),
                  lot_quantity_shares=np.array([10.0, 10.0]), lot_basis_usd=np.array([500.0, 1500.0]),
                  lot_acquired=np.array(["2020-01-02", "2020-01-02"], dtype="datetime64[D]"),
                  lot_loss_sale_blocked=np.zeros(2, bool))
    sol = solve_household(p, SolveParams(security_drift_penalty=0.5, **NO_COST))
    assert sold_by_lot(sol) == pytest.approx({"L1": 0.0, "L2": 1000.0})
    assert verify(sol) == []


@pytest.mark.parametrize("acquired, sold", [("2025-11-24", False), ("2026-05-01", True)])
def test_waits_for_a_lot_five_days_from_long_term(acquired, sold):
    # One short-term lot of A ($1,000, basis $100: gain 0.9 per $). Moving $1 from A to B cuts security
    # drift by $2: at λ_S = 0.2 that is worth $0.40 per $.
    # Bought 2025-11-24: long-term from 2026-11-25, 5 days after the run (within H = 30): cost is
    # 0.40 × 0.9 + (0.40 − 0.20) × 0.9 = 0.54 > 0.40 → wait.
    # Bought 2026-05-01: long-term in 163 days: cost 0.40 × 0.9 = 0.36 < 0.40 → sell $500.
    p = household(lot_basis_usd=np.array([100.0]), lot_acquired=np.array([acquired], dtype="datetime64[D]"))
    assert p.lot_days_to_long_term[0] == (5 if not sold else 163)
    sol = solve_household(p, SolveParams(security_drift_penalty=0.2, deferral_horizon_days=30, **NO_COST))
    assert sol.lot_sold_usd[0] == pytest.approx(500.0 if sold else 0.0)


def _harvest_household(loss_fraction: float, **kw):
    """Model 100 % A; A's substitute is S. One long-term lot of A worth $1,000 at the given loss."""
    return household(
        security_ids=np.array(["A", "S"]), target_weight=np.array([1.0, 0.0]), substitute_of=np.array([-1, 0]),
        lot_basis_usd=np.array([1000.0 / (1 - loss_fraction)]), short_term_rate=0.30, long_term_rate=0.30, **kw)


@pytest.mark.parametrize("loss_fraction, harvested", [(0.05, True), (0.01, False)])
def test_harvests_above_the_threshold_but_not_below(loss_fraction, harvested):
    # Harvest pays when rate × loss per $ > 2κ + ρ = 2 × 0.0005 + 0.003 = 0.004, i.e. a loss over
    # 0.004 / 0.30 = 1.33 % of value. A 5 % loss lot ($52.63 × 0.30 = $15.79 saved) is sold and the
    # proceeds go to the substitute; a 1 % loss lot ($10.10 × 0.30 = $3.03 < $4.00 of cost) stays.
    p = _harvest_household(loss_fraction)
    sol = solve_household(p, SolveParams(trading_cost_rate=0.0005, substitute_cost=0.003))
    if harvested:
        assert sol.lot_sold_usd[0] == pytest.approx(1000.0)
        assert p.security_ids[sol.buy_security].tolist() == ["S"]  # never A: that would wash the loss
        assert sol.buy_usd.sum() == pytest.approx(1000.0)
    else:
        assert sol.lot_sold_usd[0] == 0.0 and sol.buy_usd.size == 0
    assert verify(sol) == []


@pytest.mark.parametrize("primary_blocked, swapped", [(False, True), (True, False)])
def test_swaps_back_from_the_substitute_after_the_window(primary_blocked, swapped):
    # The household holds $1,000 of S (bought 40 days ago, no gain) standing in for A. Holding S costs
    # ρ = 0.003 per $; swapping costs 2κ = 0.001 per $ → swap back, unless A was sold at a loss within
    # the last 30 days (then buying A would be a wash sale).
    p = household(security_ids=np.array(["A", "S"]), target_weight=np.array([1.0, 0.0]), substitute_of=np.array([-1, 0]),
                  lot_security=np.array([1]), lot_acquired=np.array(["2026-10-11"], dtype="datetime64[D]"),
                  buy_blocked=np.array([primary_blocked, False]))
    sol = solve_household(p, SolveParams(trading_cost_rate=0.0005, substitute_cost=0.003))
    assert bool(sol.lot_sold_usd[0] == pytest.approx(1000.0)) == swapped
    assert ("A" in p.security_ids[sol.buy_security].tolist()) == swapped


def test_never_rebuys_within_thirty_days_in_any_account():
    # A was sold at a loss 10 days ago in the taxable account: the IRA's cash must not buy A either.
    p = household(account_ids=np.array(["T", "IRA"]), account_taxable=np.array([True, False]),
                  cash_usd=np.array([0.0, 1000.0]), min_cash_usd=np.zeros(2), buy_blocked=np.array([True, False]),
                  target_weight=np.array([0.5, 0.5]))
    sol = solve_household(p, SolveParams(**NO_COST))
    assert "A" not in p.security_ids[sol.buy_security].tolist()
    assert verify(sol) == []


def test_a_binding_gain_budget_goes_where_it_buys_most_drift_reduction():
    # A: $1,500 (basis $750, gain 0.5 per $), B: $1,500 (basis $1,350, gain 0.1 per $), C: none.
    # Target a third each of $3,000: sell $500 A and $500 B, buy $1,000 C. A gain budget of $60 buys
    # the same drift reduction per dollar sold either way, but B uses $0.10 of budget per $ and A $0.50:
    # all $500 of B ($50 of gain) first, then $10 / 0.5 = $20 of A. Realized gain: exactly $60.
    p = household(
        security_ids=np.array(["A", "B", "C"]), price_usd=np.array([100.0, 100.0, 100.0]),
        security_class=np.array([0, 0, 0]), identical_group=np.array([0, 1, 2]), target_weight=np.full(3, 1 / 3),
        buy_blocked=np.zeros(3, bool), lot_ids=np.array(["LA", "LB"]), lot_account=np.array([0, 0]),
        lot_security=np.array([0, 1]), lot_quantity_shares=np.array([15.0, 15.0]), lot_basis_usd=np.array([750.0, 1350.0]),
        lot_acquired=np.array(["2020-01-02"] * 2, dtype="datetime64[D]"), lot_loss_sale_blocked=np.zeros(2, bool),
        gain_budget_usd=60.0)
    sol = solve_household(p, SolveParams(security_drift_penalty=1.0, shares="fractional", **NO_COST))
    assert sold_by_lot(sol) == pytest.approx({"LA": 20.0, "LB": 500.0})
    assert sol.realized_gain_usd.sum() == pytest.approx(60.0)
    assert verify(sol) == []


def test_budget_that_cannot_be_kept_is_relaxed_and_said():
    # Minimum cash $500 can only come from selling gain lots, but the gain budget is $0. The budget is
    # not dropped: it gives way by the least the cash floor needs. Selling $500 of the lot ($1,000,
    # basis $100: gain 0.9 per dollar) realizes 500 × 0.9 = $450 of gain, and not a dollar more.
    p = household(lot_basis_usd=np.array([100.0]), min_cash_usd=np.array([500.0]), gain_budget_usd=0.0)
    sol, relaxed = solve_with_relaxation(p, SolveParams(**NO_COST))
    assert sol.cash_after_usd[0] == pytest.approx(500.0, abs=0.01)
    assert sol.realized_gain_usd.sum() == pytest.approx(450.0, abs=0.01)
    assert len(relaxed) == 1
    assert "net realized gain $450.00 exceeds the gain budget $0.00 by $450.00" in relaxed[0]


def test_counterbalancing_keeps_sector_exposure_on_model():
    # A (tech) $2,000 held at a large long-term gain; B (tech) and C (energy) not held; $1,000 cash.
    # Target a third each of $3,000. Selling A costs 0.2 × ~1 per $ > 2 λ_S = 0.1: A stays over.
    # Investing the cash in B or C leaves the same security drift, but only C brings tech back to
    # its 2/3 model weight and energy to 1/3: with the sector exposures, all $1,000 goes to C.
    p = household(
        security_ids=np.array(["A", "B", "C"]), price_usd=np.array([100.0, 100.0, 100.0]),
        security_class=np.array([0, 0, 0]), identical_group=np.array([0, 1, 2]), target_weight=np.full(3, 1 / 3),
        buy_blocked=np.zeros(3, bool), lot_quantity_shares=np.array([20.0]), lot_basis_usd=np.array([1.0]),
        cash_usd=np.array([1000.0]), exposures=np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]),
        exposure_names=("sector:tech", "sector:energy"))
    sol = solve_household(p, SolveParams(security_drift_penalty=0.05, exposure_penalty=0.05, **NO_COST))
    assert sol.lot_sold_usd[0] == 0.0
    assert dict(zip(p.security_ids[sol.buy_security].tolist(), sol.buy_usd.tolist())) == pytest.approx({"C": 1000.0})


def test_composed_model_equals_a_hand_written_one():
    # One taxable account, lot of A ($1,000, basis $1,000: no gain), $1,000 cash, model 50/50 A/B.
    # Variables in layout order: u (lot), v_A, v_B, d⁺ (equity, cash), d⁻ (equity, cash), e⁺ (A, B),
    # e⁻ (A, B). λ_C = 0.1, λ_S = 0.02, κ = 0.
    # Rows: cash       u − v_A − v_B ≥ 0 − 1000
    #       equity     −u + v_A + v_B − d⁺_eq + d⁻_eq = 1.0 × 2000 − 1000
    #       cash class  u − v_A − v_B − d⁺_c + d⁻_c = 0 − 1000
    #       A          −u + v_A − e⁺_A + e⁻_A = 1000 − 1000;   B   v_B − e⁺_B + e⁻_B = 1000
    p = household(cash_usd=np.array([1000.0]), lot_basis_usd=np.array([1000.0]))
    params = SolveParams(class_drift_penalty=0.1, security_drift_penalty=0.02, trading_cost_rate=0.0, substitute_cost=0.0)
    lay, lp = build_lp(p, params)
    mine = solve_lp(lp)
    import scipy.sparse as sp

    from optimizer.lp import LinearProgram

    A = np.array([
        # u   vA  vB  d+e d+c d-e d-c e+A e+B e-A e-B
        [1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0],
        [-1, 1, 1, -1, 0, 1, 0, 0, 0, 0, 0],
        [1, -1, -1, 0, -1, 0, 1, 0, 0, 0, 0],
        [-1, 1, 0, 0, 0, 0, 0, -1, 0, 1, 0],
        [0, 0, 1, 0, 0, 0, 0, 0, -1, 0, 1],
    ], dtype=float)
    c = np.array([0, 0, 0, 0.1, 0.1, 0.1, 0.1, 0.02, 0.02, 0.02, 0.02])
    row_lb = np.array([-1000, 1000, -1000, 0, 1000.0])
    row_ub = np.array([np.inf, 1000, -1000, 0, 1000.0])
    hand = solve_lp(LinearProgram(c, sp.csr_matrix(A), row_lb, row_ub, np.zeros(11),
                                  np.array([1000] + [np.inf] * 10, dtype=float), []))
    assert lay.n_vars == 11 and lp.A.shape == (5, 11)
    np.testing.assert_allclose(lp.A.toarray(), A)
    assert mine.objective == pytest.approx(hand.objective)
    np.testing.assert_allclose(mine.x, hand.x, atol=1e-6)
    # The optimum: buy $1,000 of B, all drift gone, objective 0.
    assert hand.objective == pytest.approx(0.0) and hand.x[2] == pytest.approx(1000.0)


@pytest.mark.parametrize("mode", ["round", "mip"])
def test_whole_shares_keep_every_constraint(mode):
    # 100 shares of A at $7 ($700), $2,000 cash, B at $13, target 50/50 of $2,700: the LP buys $650 of A
    # (92.9 shares) and $1,350 of B (103.8 shares) less the $25 minimum cash. Whole shares only: every
    # trade a whole number of shares, and the $25 minimum still holds.
    p = household(price_usd=np.array([7.0, 13.0]), lot_quantity_shares=np.array([100.0]), lot_basis_usd=np.array([700.0]),
                  cash_usd=np.array([2000.0]), min_cash_usd=np.array([25.0]))
    sol = solve_household(p, SolveParams(shares=mode, **NO_COST))
    assert sol.whole_shares
    partial = sol.lot_sold_shares < p.lot_quantity_shares
    assert np.allclose(sol.lot_sold_shares[partial], np.round(sol.lot_sold_shares[partial]))
    assert np.allclose(sol.buy_shares, np.round(sol.buy_shares)) and sol.buy_shares.sum() > 0
    assert sol.cash_after_usd[0] >= 25.0
    bought = dict(zip(p.security_ids[sol.buy_security].tolist(), sol.buy_shares.tolist()))
    assert 7 * bought["A"] + 13 * bought["B"] <= 2000 - 25  # spent within cash above the minimum
    assert bought["A"] + bought["B"] >= 190  # and close to the LP's 196.7 fractional shares
    assert verify(sol) == []


def test_minimum_trade_size_drops_small_trades():
    # $500 each of A and B at $10, $150 cash, target 50/50 of $1,150: buy $75 of each, below a $100
    # minimum trade: no trades at all (and the cash stays).
    p = household(price_usd=np.array([10.0, 10.0]), lot_ids=np.array(["LA", "LB"]), lot_account=np.array([0, 0]),
                  lot_security=np.array([0, 1]), lot_quantity_shares=np.array([50.0, 50.0]),
                  lot_basis_usd=np.array([500.0, 500.0]), lot_acquired=np.array(["2020-01-02"] * 2, dtype="datetime64[D]"),
                  lot_loss_sale_blocked=np.zeros(2, bool), cash_usd=np.array([150.0]))
    sol = solve_household(p, SolveParams(min_trade_usd=100.0, **NO_COST))
    assert sol.buy_usd.size == 0 and sol.lot_sold_usd.sum() == 0
    assert verify(sol) == []


def test_rebalancing_happens_inside_the_ira_first():
    # Taxable and IRA each hold $1,000 of A (taxable basis $100: a big long-term gain) and $0 of B.
    # Household target 50/50 of $2,000: $1,000 of A must become B. Selling in the IRA is tax-free,
    # so the IRA sells its A and buys B; the taxable lot is untouched (no money moves between accounts).
    p = household(account_ids=np.array(["T", "IRA"]), account_taxable=np.array([True, False]),
                  cash_usd=np.zeros(2), min_cash_usd=np.zeros(2), lot_ids=np.array(["LT", "LI"]),
                  lot_account=np.array([0, 1]), lot_security=np.array([0, 0]), lot_quantity_shares=np.array([10.0, 10.0]),
                  lot_basis_usd=np.array([100.0, 100.0]), lot_acquired=np.array(["2020-01-02"] * 2, dtype="datetime64[D]"),
                  lot_loss_sale_blocked=np.zeros(2, bool))
    sol = solve_household(p, SolveParams(security_drift_penalty=0.5, **NO_COST))
    assert sold_by_lot(sol) == pytest.approx({"LT": 0.0, "LI": 1000.0})
    assert p.account_ids[sol.buy_account].tolist() == ["IRA"] and p.security_ids[sol.buy_security].tolist() == ["B"]


def test_substitute_quality_enters_the_harvest_decision():
    # The same 5 % loss lot ($52.63 × 0.30 = $15.79 per $1,000, i.e. 0.0158 per $) is harvested into a
    # close substitute (ρ = 0.003: cost 0.004 per $) but not into a poor one (ρ = 0.05: cost 0.051 per $).
    close = _harvest_household(0.05, substitute_cost=np.array([np.nan, 0.003]))
    poor = _harvest_household(0.05, substitute_cost=np.array([np.nan, 0.05]))
    params = SolveParams(trading_cost_rate=0.0005, substitute_cost=0.01)  # the default ρ is not used here
    assert solve_household(close, params).lot_sold_usd[0] == pytest.approx(1000.0)
    assert solve_household(poor, params).lot_sold_usd[0] == 0.0
