"""The tax report: the naive baseline (FIFO, per account, wash sales counted), the pricing of the
saving and its split into harvesting and deferral, and the report of a real run."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.ledger.estimate import TaxProfile
from optimizer.ledger.savings import Realized, TaxYear, tax_savings
from optimizer.naive import naive_rebalance
from tests.conftest import AS_OF, household

FLAT = TaxProfile("single", federal_ordinary_rate=0.24, federal_ltcg_rate=0.15, state_rate=0.0, niit_applies=False)


def two_lots_of_a(**overrides):
    """A taxable account: A lots L1 (2020, 5 sh, basis $250) and L2 (2026-06, 5 sh, basis $750) at $100;
    model 50 % A / 50 % B; no cash. Value $1,000, so the naive rebalance sells $500 of A, buys $500 of B."""
    base = dict(lot_ids=np.array(["L1", "L2"]), lot_account=np.array([0, 0]), lot_security=np.array([0, 0]),
                lot_quantity_shares=np.array([5.0, 5.0]), lot_basis_usd=np.array([250.0, 750.0]),
                lot_acquired=np.array(["2020-01-02", "2026-06-01"], dtype="datetime64[D]"),
                lot_loss_sale_blocked=np.array([False, False]))
    return household(**(base | overrides))


def test_naive_sells_oldest_lot_first_and_buys_the_model():
    p = two_lots_of_a()
    naive = naive_rebalance(p)
    # FIFO: the $500 comes out of L1 (2020) whole, none out of L2.
    assert naive.lot_sold_usd.tolist() == [500.0, 0.0]
    assert naive.buy_usd.tolist() == [[0.0, 500.0]]
    # L1: proceeds 500 − basis 250 = 250, long-term (held since 2020).
    realized = Realized.of_lots(naive.realized_gain_usd(p), p.lot_long_term, p.account_taxable[p.lot_account])
    assert realized == Realized(lt_gains_usd=250.0)
    assert naive.wash_sales == 0


def test_naive_keeps_the_accounts_cash_floor():
    # $1,000 of A, cash $0, minimum cash $300: the naive rebalance holds $300 cash and splits $700 50/50.
    p = household(min_cash_usd=np.array([300.0]))
    naive = naive_rebalance(p)
    assert naive.lot_sold_usd.sum() == pytest.approx(650.0)  # A: 1,000 → 350
    assert naive.buy_usd.tolist() == [[0.0, pytest.approx(350.0)]]


def taxable_loss_and_ira_cash(ira_cash_usd: float):
    """Taxable T holds A (10 sh at $100, basis $1,500: a $500 loss); IRA I holds only cash.
    Model 50 % A / 50 % B, so T sells $500 of A at a loss and I buys half its cash in A."""
    return household(account_ids=np.array(["T", "I"]), account_taxable=np.array([True, False]),
                     cash_usd=np.array([0.0, ira_cash_usd]), min_cash_usd=np.array([0.0, 0.0]),
                     lot_basis_usd=np.array([1500.0]))


def test_naive_loss_sale_washed_by_an_ira_buy_is_disallowed():
    p = taxable_loss_and_ira_cash(1000.0)
    naive = naive_rebalance(p)
    # T sells $500 of A (half the lot: basis 750, loss 250); I buys $500 of A: replacement ≥ proceeds.
    assert naive.lot_sold_usd.tolist() == [500.0]
    assert naive.buy_usd[1, 0] == 500.0
    assert naive.lot_disallowed_fraction.tolist() == [1.0]
    assert naive.wash_sales == 1
    assert naive.realized_gain_usd(p).tolist() == [0.0]  # the whole loss goes into the IRA shares' basis: lost


def test_naive_partial_wash_sale_disallows_the_replaced_part_only():
    p = taxable_loss_and_ira_cash(400.0)
    naive = naive_rebalance(p)
    # I buys $200 of A against $500 of loss proceeds: 200/500 = 40 % of the $250 loss is disallowed.
    assert naive.lot_disallowed_fraction[0] == pytest.approx(0.4)
    assert naive.realized_gain_usd(p)[0] == pytest.approx(-150.0)  # −250 × 0.6


def test_a_recent_lot_does_not_replace_itself():
    # A bought 10 days ago at $150 (basis $1,500), now $100, not in the model: sold whole, no replacement.
    p = household(lot_acquired=np.array([AS_OF - dt.timedelta(days=10)], dtype="datetime64[D]"),
                  lot_basis_usd=np.array([1500.0]), target_weight=np.array([0.0, 1.0]))
    naive = naive_rebalance(p)
    assert naive.lot_sold_usd.tolist() == [1000.0]
    assert naive.wash_sales == 0
    assert naive.realized_gain_usd(p).tolist() == [-500.0]


def test_a_buy_into_a_group_sold_at_a_loss_this_month_is_a_wash_sale():
    p = household(buy_blocked=np.array([False, True]))
    assert naive_rebalance(p).wash_sales == 1  # the naive buys B anyway


def test_savings_split_into_deferral_and_harvesting():
    year = TaxYear(2026, ytd_st_usd=0.0, ytd_lt_usd=10_000.0, st_carry_usd=0.0, lt_carry_usd=0.0, profile=FLAT)
    lotwise = Realized(lt_losses_usd=2_000.0)
    naive = Realized(lt_gains_usd=5_000.0)
    s = tax_savings(year, lotwise, naive, carry_value=0.8)
    # naive: (10,000 + 5,000) × 15 % = 2,250; lotwise gains with naive losses: 10,000 × 15 % = 1,500;
    # lotwise: (10,000 − 2,000) × 15 % = 1,200.  Deferral 2,250 − 1,500 = 750; harvesting 1,500 − 1,200 = 300.
    assert s.deferral_usd == pytest.approx(750.0)
    assert s.harvesting_usd == pytest.approx(300.0)
    assert s.total_usd == pytest.approx(1050.0)
    assert year.estimated_tax_usd(lotwise) - year.estimated_tax_usd() == pytest.approx(-300.0)


def test_a_loss_beyond_this_years_use_counts_at_its_carryforward_value():
    year = TaxYear(2026, 0.0, 0.0, 0.0, 0.0, FLAT)
    s = tax_savings(year, Realized(st_losses_usd=10_000.0), Realized(), carry_value=0.8)
    # $3,000 against ordinary income at 24 % = 720 this year; $7,000 carried at 0.8 × 15 % = 840.
    assert s.harvesting_usd == pytest.approx(1560.0)
    assert s.deferral_usd == 0.0
    assert year.estimated_tax_usd(Realized(st_losses_usd=10_000.0)) == pytest.approx(-720.0)


amounts = st.floats(min_value=0, max_value=2e6, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.tuples(amounts, amounts, amounts, amounts), st.tuples(amounts, amounts, amounts, amounts),
       st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), amounts, amounts)
def test_savings_split_adds_up_and_vanishes_for_the_same_rebalance(lw, nv, ytd_st, ytd_lt, carry_st, carry_lt):
    year = TaxYear(2026, ytd_st, ytd_lt, carry_st, carry_lt, FLAT)
    lotwise, naive = Realized(*lw), Realized(*nv)
    s = tax_savings(year, lotwise, naive, carry_value=0.8)
    assert s.total_usd == pytest.approx(year.cost_usd(naive, 0.8) - year.cost_usd(lotwise, 0.8), abs=1e-6)
    assert tax_savings(year, lotwise, lotwise, 0.8).total_usd == pytest.approx(0.0, abs=1e-6)
    # Realizing more gain never costs less; realizing more loss never costs more.
    more_gain = Realized(naive.st_gains_usd + 1000, naive.st_losses_usd, naive.lt_gains_usd, naive.lt_losses_usd)
    assert year.cost_usd(more_gain, 0.8) >= year.cost_usd(naive, 0.8) - 1e-6
