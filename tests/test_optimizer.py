"""Hand-calculable households: each test states its arithmetic."""

import numpy as np
import pytest

from optimizer.errors import HouseholdInfeasible
from optimizer.problem import SolveParams
from optimizer.solve import solve_household
from optimizer.verify import verify
from tests.conftest import household

NO_COST = dict(trading_cost_rate=0.0)


def meet_joe():
    """Betterment's Meet Joe: taxable $11,000 and Roth $5,500, each half VTI half VWOB, target 50/50.
    α: VTI taxable 0.07, VWOB taxable 0.04, VTI Roth 0.06, VWOB Roth 0.05. Prices $1, no gains."""
    return household(
        household_id="joe", account_ids=np.array(["taxable", "roth"]), account_taxable=np.array([True, False]),
        cash_usd=np.zeros(2), min_cash_usd=np.zeros(2),
        security_ids=np.array(["VTI", "VWOB"]), price_usd=np.array([1.0, 1.0]),
        security_class=np.array([0, 1]), identical_group=np.array([0, 1]), target_weight=np.array([0.5, 0.5]),
        buy_blocked=np.array([False, False]), class_names=("us_equity", "em_bonds", "cash"),
        class_target_weight=np.array([0.5, 0.5, 0.0]),
        lot_ids=np.array(["t_vti", "t_vwob", "r_vti", "r_vwob"]), lot_account=np.array([0, 0, 1, 1]),
        lot_security=np.array([0, 1, 0, 1]), lot_quantity_shares=np.array([5500.0, 5500, 2750, 2750]),
        lot_basis_usd=np.array([5500.0, 5500, 2750, 2750]),
        lot_acquired=np.array(["2020-01-02"] * 4, dtype="datetime64[D]"), lot_loss_sale_blocked=np.zeros(4, bool),
        location_value=np.array([[0.07, 0.04], [0.06, 0.05]]),
    )


def location_value(p, holdings):
    return float((p.location() * holdings).sum())


@pytest.mark.parametrize("priority", ["weighted", "drift_first"])
def test_meet_joe_asset_location(priority):
    p = meet_joe()
    # Before: 0.07·5500 + 0.04·5500 + 0.06·2750 + 0.05·2750 = 907.5
    assert location_value(p, p.holdings_usd) == pytest.approx(907.5)
    penalty = 1.0 if priority == "weighted" else 1e-3  # weighted: drift must dominate α ≤ 0.07
    sol = solve_household(p, SolveParams(class_drift_penalty=penalty, security_drift_penalty=penalty,
                                         priority=priority, **NO_COST))
    # After: Roth all VWOB (5,500), taxable VTI 8,250 + VWOB 2,750 → 0.07·8250 + 0.04·2750 + 0.05·5500 = 962.5
    assert location_value(p, sol.holdings_after_usd) == pytest.approx(962.5, abs=1e-3)
    np.testing.assert_allclose(sol.holdings_after_usd, [[8250, 2750], [0, 5500]], atol=1e-3)
    assert verify(sol) == []


def test_cash_is_invested_to_target():
    # $1,000 of A and $1,000 cash, target 50/50 A/B: value $2,000 → $1,000 each, so buy $1,000 of B.
    p = household(cash_usd=np.array([1000.0]))
    sol = solve_household(p, SolveParams(**NO_COST))
    assert sol.buy_usd.sum() == pytest.approx(1000.0)
    assert p.security_ids[sol.buy_security].tolist() == ["B"]
    assert sol.lot_sold_usd.sum() == 0.0
    assert sol.cash_after_usd == pytest.approx([0.0])


def test_minimum_cash_forces_a_sale():
    # No cash, min cash $300: must sell $300 of A even though it is a long-term gain lot.
    p = household(min_cash_usd=np.array([300.0]), lot_basis_usd=np.array([500.0]))
    sol = solve_household(p, SolveParams(**NO_COST))
    assert sol.cash_after_usd[0] >= 300.0 - 1e-6
    assert verify(sol) == []


def test_gain_deferred_when_tax_costs_more_than_drift():
    # Only A held ($1,000, basis $100): rebalancing sells $500 of A and buys $500 of B.
    # Security drift falls by $1,000 (500 over + 500 under) → benefit λ_S·1000.
    # Tax: gain per $ = 0.9, long-term 20 % → 0.18 per $ sold → $90 for $500.
    # λ_S = 0.05: benefit $50 < $90 → keep.  λ_S = 0.5: benefit $500 > $90 → sell exactly $500.
    p = household(lot_basis_usd=np.array([100.0]))
    keep = solve_household(p, SolveParams(security_drift_penalty=0.05, **NO_COST))
    assert keep.lot_sold_usd.sum() == 0.0
    sell = solve_household(p, SolveParams(security_drift_penalty=0.5, **NO_COST))
    assert sell.lot_sold_usd.sum() == pytest.approx(500.0)
    assert sell.buy_usd.sum() == pytest.approx(500.0)


def test_short_term_lot_costs_its_short_term_rate():
    # Same lot bought 10 days ago: short-term 40 % × 0.9 gain per $ = 0.36 per $ sold. Each $ moved
    # from A to B cuts security drift by $2: at λ_S = 0.15 that is worth 0.30 < 0.36, so keep; as a
    # long-term lot (20 % × 0.9 = 0.18 per $) the same 0.30 > 0.18, so sell the $500.
    recent = np.array(["2026-11-10"], dtype="datetime64[D]")
    st = household(lot_basis_usd=np.array([100.0]), lot_acquired=recent)
    assert solve_household(st, SolveParams(security_drift_penalty=0.15, **NO_COST)).lot_sold_usd.sum() == 0.0
    lt = household(lot_basis_usd=np.array([100.0]))
    assert solve_household(lt, SolveParams(security_drift_penalty=0.15, **NO_COST)).lot_sold_usd.sum() == pytest.approx(500.0)


def test_ira_lots_trade_without_tax():
    # The same low-basis lot in an IRA: no tax, so any drift penalty rebalances it.
    p = household(account_taxable=np.array([False]), lot_basis_usd=np.array([100.0]))
    sol = solve_household(p, SolveParams(security_drift_penalty=0.01, **NO_COST))
    assert sol.lot_sold_usd.sum() == pytest.approx(500.0)


def test_infeasible_minimum_cash_is_explained():
    # $1,000 of holdings and no cash cannot reach a $5,000 minimum.
    p = household(min_cash_usd=np.array([5000.0]))
    with pytest.raises(HouseholdInfeasible, match=r"account T: cash \$0.00 plus sellable holdings \$1,000.00"):
        solve_household(p)


def test_no_buy_inside_a_wash_sale_window():
    # B was sold at a loss 10 days ago: the model wants $500 of B, the LP may not buy it.
    p = household(cash_usd=np.array([1000.0]), buy_blocked=np.array([False, True]))
    sol = solve_household(p, SolveParams(**NO_COST))
    assert "B" not in p.security_ids[sol.buy_security].tolist()
    assert verify(sol) == []


def test_no_loss_sale_of_recently_bought_security():
    # A lot at a loss (basis $2,000 for $1,000 value) whose security was bought 5 days ago: never sold.
    p = household(lot_basis_usd=np.array([2000.0]), lot_loss_sale_blocked=np.array([True]))
    sol = solve_household(p, SolveParams(security_drift_penalty=1.0, **NO_COST))
    assert sol.lot_sold_usd.sum() == 0.0


def test_never_buy_and_loss_sell_the_same_security_in_one_run():
    # Taxable holds A at a 50 % loss; the IRA holds $1,000 cash and the model is 100 % A.
    # Selling the loss lot (tax benefit 0.5·0.2 = $0.10 per $) and buying A in both accounts would be
    # a wash sale across accounts (Rev. Rul. 2008-5): only one side may happen.
    p = household(
        account_ids=np.array(["T", "IRA"]), account_taxable=np.array([True, False]),
        cash_usd=np.array([0.0, 1000.0]), min_cash_usd=np.zeros(2),
        target_weight=np.array([1.0, 0.0]), lot_basis_usd=np.array([2000.0]),
    )
    sol = solve_household(p, SolveParams(**NO_COST))
    bought_a = (p.security_ids[sol.buy_security] == "A").any()
    loss_sold_a = sol.lot_sold_usd[0] > 0
    assert not (bought_a and loss_sold_a)
    assert bought_a  # no substitute to hold instead, so the household keeps A and buys more
    assert verify(sol) == []
