"""Personal mandates, last kinds: product preferences per asset class, and trade sizes (minimum
trade and fractional shares) per custodian, household or account."""

import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_contracts.config import CustodianTrading, RunConfig
from data_contracts.mandate_checks import check_mandates
from data_contracts.mandate_rules import ProductCatalog, preferred
from data_contracts.mandates import MANDATE_SCHEMA, ProductPreference, read_mandates
from optimizer.errors import HouseholdInfeasible
from optimizer.problem import SolveParams
from optimizer.solve import solve_household
from optimizer.verify import verify
from tasks.problems import _custodian_trading, with_mandates
from tests.conftest import AS_OF, household
from tests.test_properties import households as random_households

SECURITIES = pl.DataFrame({
    "security_id": ["VTI", "ITOT", "IVV", "X", "Y", "BND", "VFIAX"],
    "security_type": ["etf", "etf", "etf", "stock", "stock", "etf", "mutual_fund"],
    "asset_class": ["us_large_cap"] * 5 + ["us_aggregate_bonds", "us_large_cap"],
    "fund_family": ["Vanguard", "iShares", "SPDR", None, None, "Vanguard", "Vanguard"],
})
PRICES = pl.DataFrame({"security_id": SECURITIES["security_id"], "close_usd": [250.0, 120.0, 500.0, 40.0, 90.0, 72.0, None]})
MODELS = pl.DataFrame({"model_id": ["etf"] * 3 + ["sleeve"] * 3,
                       "security_id": ["VTI", "BND", "CASH", "X", "Y", "BND"],
                       "target_weight": [0.6, 0.39, 0.01, 0.45, 0.15, 0.4]})
CATALOG = ProductCatalog.of(SECURITIES, PRICES, MODELS)
TARGET = {"VTI": 0.6, "BND": 0.39}  # the etf model's securities (cash apart)


def pref(**kw) -> ProductPreference:
    return ProductPreference(kind="product_preference", asset_class="us_large_cap", effective_from=AS_OF, **kw)


def test_a_direct_index_preference_puts_the_class_weight_in_the_sleeve():
    # The sleeve model's large-cap stocks: X 0.45, Y 0.15 (of 0.60). The household's 0.6 of large caps
    # goes to them in that proportion: X 0.6 × 0.45/0.60 = 0.45, Y 0.6 × 0.15/0.60 = 0.15; VTI leaves.
    out, problems = preferred(TARGET, [pref(vehicle="direct_index", sleeve_model="sleeve")], CATALOG)
    assert problems == []
    assert out == pytest.approx({"X": 0.45, "Y": 0.15, "BND": 0.39})


def test_a_fund_family_preference_swaps_the_class_fund():
    # iShares has one large-cap ETF: ITOT takes VTI's 0.6. Bonds are untouched.
    out, problems = preferred(TARGET, [pref(vehicle="etf", fund_family="iShares")], CATALOG)
    assert problems == [] and out == pytest.approx({"ITOT": 0.6, "BND": 0.39})
    # ETFs without a family: the model's VTI already is one, so nothing changes.
    assert preferred(TARGET, [pref(vehicle="etf")], CATALOG) == (TARGET, [])
    # Named securities share the class equally (0.6 / 2 each).
    out, _ = preferred(TARGET, [pref(vehicle="etf", securities=["ITOT", "IVV"])], CATALOG)
    assert out == pytest.approx({"ITOT": 0.3, "IVV": 0.3, "BND": 0.39})


@pytest.mark.parametrize("kw, words", [
    (dict(vehicle="etf", fund_family="Schwab"), "the securities master has no etf of the Schwab family of us_large_cap"),
    (dict(vehicle="direct_index", sleeve_model="etf"), "model etf holds no stocks of us_large_cap"),
    (dict(vehicle="direct_index", sleeve_model="nope"), "sleeve model nope is not in the models file"),
    (dict(vehicle="etf", securities=["X"]), "X is not etf of us_large_cap"),
    (dict(vehicle="mutual_fund"), "the preferred VFIAX of us_large_cap has no price"),
])
def test_a_preference_that_fits_nothing_is_a_problem_and_changes_nothing(kw, words):
    out, problems = preferred(TARGET, [pref(**kw)], CATALOG)
    assert out == TARGET and len(problems) == 1 and words in problems[0], problems


def test_several_funds_that_fit_must_be_named():
    # ITOT and IVV are both large-cap ETFs outside the Vanguard family, and the model holds neither.
    many = ProductCatalog.of(SECURITIES.with_columns(pl.lit("Other").alias("fund_family")), PRICES, MODELS)
    out, problems = preferred({"BND": 0.4, "X": 0.6}, [pref(vehicle="etf")], many)
    assert problems == ["3 etfs of us_large_cap fit (ITOT, IVV, VTI): name the one(s) to hold in securities"]


def test_preference_conflicts_hold_the_household_before_solving():
    households = pl.DataFrame({"household_id": ["H1"], "model_id": ["etf"]})
    accounts = pl.DataFrame({"account_id": ["A1"], "household_id": ["H1"]})
    lots = pl.DataFrame({"household_id": ["H1"], "security_id": ["VTI"], "quantity_shares": [10.0]})
    row = dict(household_id="H1", account_id=None, security_id=None, rule="product_preference",
               effective_from=dt.date(2026, 1, 1), source="firm/mandates/H1.yaml:4",
               spec=pref(vehicle="etf", fund_family="Schwab").model_dump_json())
    master = SECURITIES.with_columns(*(pl.lit(None, pl.String).alias(c) for c in ("substitute_id", "sector", "industry")))
    _, problems = check_mandates(pl.DataFrame([row], schema=MANDATE_SCHEMA), AS_OF, households, accounts, master,
                                 PRICES, lots, models=MODELS)
    assert [(p["severity"], p["field"], p["row"]) for p in problems] == [("error", "vehicle", 4)]
    assert "no etf of the Schwab family" in problems[0]["reason"]


def test_product_and_trading_entries_are_read_and_bad_ones_located(tmp_path):
    folder = tmp_path / "firm" / "mandates"
    folder.mkdir(parents=True)
    (folder / "H1.yaml").write_text("""household_id: H1
mandates:
  - kind: product_preference
    asset_class: us_large_cap
    vehicle: direct_index
    sleeve_model: sleeve
    effective_from: 2026-01-02
  - kind: trading
    account_id: A1
    min_trade_usd: 250
    effective_from: 2026-01-02
""")
    (folder / "H2.yaml").write_text("""household_id: H2
mandates:
  - kind: product_preference
    asset_class: us_large_cap
    vehicle: direct_index
    effective_from: 2026-01-02
""")
    rows, problems = read_mandates(tmp_path)
    assert rows["rule"].to_list() == ["product_preference", "trading"] and rows["account_id"][1] == "A1"
    assert [(p["household_id"], p["row"]) for p in problems] == [("H2", 3)]
    assert "names its sleeve_model" in problems[0]["reason"]


# --- trade sizes -------------------------------------------------------------------------------

def test_custodian_rules_and_mandates_set_each_accounts_trade_sizes():
    # The run takes fractional shares and $10 trades; birch takes whole shares and $100; alder is not
    # listed (the run's rules); a household mandate asks $250, an account mandate whole shares in F.
    config = RunConfig(shares="fractional", min_trade_usd=10.0,
                       custodians={"birch": CustodianTrading(fractional_shares=False, min_trade_usd=100.0)})
    whole, minimum = _custodian_trading(["alder", "birch"], config)
    assert whole.tolist() == [False, True] and minimum.tolist() == [10.0, 100.0]
    p = household(account_ids=np.array(["F", "W"]), account_taxable=np.array([True, True]), cash_usd=np.zeros(2),
                  min_cash_usd=np.zeros(2), whole_shares=whole, min_trade_usd=minimum)
    rows = [dict(household_id="H1", rule="trading", effective_from=dt.date(2026, 1, 1), source="x:1",
                 spec='{"kind": "trading", "min_trade_usd": 250, "effective_from": "2026-01-01"}'),
            dict(household_id="H1", rule="trading", account_id="F", effective_from=dt.date(2026, 1, 1), source="x:2",
                 spec='{"kind": "trading", "account_id": "F", "whole_shares": true, "effective_from": "2026-01-01"}')]
    p = with_mandates(p, pl.DataFrame(rows, schema=MANDATE_SCHEMA))
    assert p.whole_shares.tolist() == [True, True] and p.min_trade_usd.tolist() == [250.0, 250.0]


def two_custodians(**kw):
    """$1,000 cash in F (fractional, no minimum) and in W (whole shares, $500 minimum); A at $30 and B
    at $70, model 50/50. Location values place A in F and B in W, so the LP buys $1,000 of each there."""
    base = dict(account_ids=np.array(["F", "W"]), account_taxable=np.array([True, True]),
                cash_usd=np.array([1000.0, 1000.0]), min_cash_usd=np.zeros(2), price_usd=np.array([30.0, 70.0]),
                security_class=np.array([0, 1]), class_names=("a", "b", "cash"), class_target_weight=np.array([0.5, 0.5, 0]),
                lot_ids=np.array([], dtype=object), lot_account=np.array([], dtype=np.int64),
                lot_security=np.array([], dtype=np.int64), lot_quantity_shares=np.array([]), lot_basis_usd=np.array([]),
                lot_acquired=np.array([], dtype="datetime64[D]"), lot_loss_sale_blocked=np.array([], dtype=bool),
                location_value=np.array([[0.01, 0.0], [0.0, 0.01]]),
                whole_shares=np.array([False, True]), min_trade_usd=np.array([0.0, 500.0]))
    return household(**(base | kw))


def test_fractional_shares_only_where_the_custodian_takes_them():
    # F keeps the LP's 1,000 / 30 = 33.333… shares of A; W rounds 1,000 / 70 = 14.29 down to 14 shares of
    # B ($980, above its $500 minimum), leaving $20 of cash.
    p = two_custodians()
    sol = solve_household(p, SolveParams(trading_cost_rate=0.0))
    bought = {(p.account_ids[a], p.security_ids[s]): q for a, s, q in zip(sol.buy_account, sol.buy_security, sol.buy_shares)}
    assert bought == pytest.approx({("F", "A"): 1000 / 30, ("W", "B"): 14.0})
    assert sol.cash_after_usd == pytest.approx([0.0, 20.0], abs=1e-6)
    assert sol.whole_share_accounts.tolist() == [False, True] and not sol.whole_shares
    assert verify(sol) == []


def test_the_mip_keeps_fractional_accounts_continuous():
    # SCIP does better than rounding here: 13 shares of B in W ($910) and the other $90 of B bought in F
    # as 90 / 70 = 1.2857 shares (location 0 there, but no class drift). W's buys are whole, F's need not be.
    p = two_custodians()
    sol = solve_household(p, SolveParams(shares="mip", trading_cost_rate=0.0))
    w = sol.buy_account == 1
    assert np.array_equal(sol.buy_shares[w], np.round(sol.buy_shares[w])) and (sol.buy_usd[w] >= 500).all()
    assert not np.allclose(sol.buy_shares[~w], np.round(sol.buy_shares[~w]))
    assert verify(sol) == []


def test_a_buy_below_the_minimum_is_dropped_and_verify_names_one_that_is_not():
    # W's minimum raised to $1,500: its $1,000 (14-share) buy of B is dropped, F's buy stands.
    p = two_custodians(min_trade_usd=np.array([0.0, 1500.0]))
    sol = solve_household(p, SolveParams(trading_cost_rate=0.0))
    assert p.account_ids[sol.buy_account].tolist() == ["F"] and sol.cash_after_usd[1] == pytest.approx(1000.0)
    assert verify(sol) == []
    # The same trade list with W's $980 buy put back breaks W's minimum, and verify says so.
    forced = dataclasses.replace(sol, buy_account=np.array([0, 1]), buy_security=np.array([0, 1]),
                                 buy_usd=np.array([1000.0, 980.0]), bought_shares=np.array([1000 / 30, 14.0]))
    assert verify(forced) == ["buy of B in W: $980.00 is below the account's minimum trade $1,500.00"]


def test_a_mandated_sale_is_not_held_to_the_minimum():
    # W holds one $70 share of B under a never-hold mandate; the model is all A at $30; minimum trade $500.
    p = household(account_ids=np.array(["W"]), cash_usd=np.array([0.0]), min_cash_usd=np.array([0.0]),
                  price_usd=np.array([30.0, 70.0]), target_weight=np.array([1.0, 0.0]),
                  lot_ids=np.array(["LB"]), lot_security=np.array([1]), lot_quantity_shares=np.array([1.0]),
                  lot_basis_usd=np.array([50.0]), whole_shares=np.array([True]), min_trade_usd=np.array([500.0]))
    p = with_mandates(p, pl.DataFrame([dict(household_id="H1", security_id="B", rule="never_hold",
                                             effective_from=dt.date(2026, 1, 1), source="x:1")], schema=MANDATE_SCHEMA))
    sol = solve_household(p, SolveParams(trading_cost_rate=0.0))
    # The $70 sale of B stands (mandated); buying A with its proceeds (2 whole shares, $60) is below
    # $500 and is dropped.
    assert sol.lot_sold_shares.tolist() == [1.0] and sol.buy_usd.size == 0
    assert verify(sol) == []


def test_a_closing_sale_below_the_minimum_is_not_sent_without_a_mandate():
    # W holds one $70 share of B, which the model (all A at $30) no longer holds; minimum trade $500. Selling
    # B would close the position but is a $70 order: it is not sent, and nothing is bought.
    p = household(account_ids=np.array(["W"]), cash_usd=np.array([0.0]), min_cash_usd=np.array([0.0]),
                  price_usd=np.array([30.0, 70.0]), target_weight=np.array([1.0, 0.0]),
                  lot_ids=np.array(["LB"]), lot_security=np.array([1]), lot_quantity_shares=np.array([1.0]),
                  lot_basis_usd=np.array([50.0]), whole_shares=np.array([True]), min_trade_usd=np.array([500.0]))
    sol = solve_household(p, SolveParams(trading_cost_rate=0.0))
    assert sol.lot_sold_shares.tolist() == [0.0] and sol.buy_usd.size == 0 and verify(sol) == []


def _two_lots_of_b(min_cash_usd: float):
    """W (whole shares) holds B at $100: L1 3 shares (basis $150), L2 0.166 of a share from a reinvested
    dividend (basis $20, a loss); the LP's plan sells 1.5 shares of L1 and L2 whole: 1.666 shares."""
    from optimizer.result import HouseholdSolution

    p = household(account_ids=np.array(["W"]), cash_usd=np.array([0.0]), min_cash_usd=np.array([min_cash_usd]),
                  security_ids=np.array(["B"]), price_usd=np.array([100.0]), security_class=np.array([0]),
                  identical_group=np.array([0]), target_weight=np.array([1.0]), buy_blocked=np.array([False]),
                  lot_ids=np.array(["L1", "L2"]), lot_account=np.array([0, 0]), lot_security=np.array([0, 0]),
                  lot_quantity_shares=np.array([3.0, 0.166]), lot_basis_usd=np.array([150.0, 20.0]),
                  lot_acquired=np.array(["2020-01-02", "2026-03-02"], dtype="datetime64[D]"),
                  lot_loss_sale_blocked=np.array([False, False]), whole_shares=np.array([True]),
                  min_trade_usd=np.array([0.0]))
    return HouseholdSolution(p, np.array([150.0, 16.6]), np.array([], int), np.array([], int), np.array([]), 0.0, 1)


def test_a_sale_that_does_not_close_its_position_is_a_whole_number_of_shares():
    from optimizer.rounding import round_trades

    # Per lot: L1's 1.5 shares round down to 1, L2 is sold whole (0.166): an order of 1.166 shares that leaves
    # 2 shares held, which a custodian cannot fill. The fraction comes off L2 (the lot with a fraction of its
    # own): 1 share, $100; cash $100 ≥ its $0 floor.
    sol = round_trades(_two_lots_of_b(0.0), SolveParams())
    assert sol.lot_sold_shares.tolist() == [1.0, 0.0] and verify(sol) == []
    # With a $110 cash floor the trimmed sale ($100) is short: the order grows to the next whole share
    # instead, from L1 (the lot the plan sells): 1 + (1 − 0.166) = 1.834 of L1 and L2's 0.166, 2 shares, $200.
    sol = round_trades(_two_lots_of_b(110.0), SolveParams())
    assert sol.lot_sold_shares.tolist() == pytest.approx([1.834, 0.166]) and verify(sol) == []
    assert sol.cash_after_usd[0] == pytest.approx(200.0)


def test_the_default_minimum_trade_is_at_least_a_dollar():
    assert RunConfig().min_trade_usd >= 1.0
    with pytest.raises(ValueError):
        RunConfig(min_trade_usd=0.5)


@st.composite
def sized_households(draw):
    p = draw(random_households())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return dataclasses.replace(p, whole_shares=rng.random(p.n_accounts) < 0.5,
                               min_trade_usd=rng.choice([0.0, 50.0, 250.0, 1000.0], p.n_accounts))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=sized_households(), mode=st.sampled_from(["round", "mip"]))
def test_no_trade_breaks_its_accounts_size_rules(p, mode):
    try:
        sol = solve_household(p, SolveParams(shares=mode, mip_time_limit_s=2.0))
    except HouseholdInfeasible:
        return  # cash that cannot reach its minimum, before or after rounding
    whole = p.whole_shares
    bought = sol.buy_shares
    assert np.allclose(bought[whole[sol.buy_account]], np.round(bought[whole[sol.buy_account]]), atol=1e-6)
    buy_usd = bought * p.price_usd[sol.buy_security]
    small = buy_usd < p.min_trade_usd[sol.buy_account] - 0.01
    assert not (small & ~p.mandated_positions[sol.buy_account, sol.buy_security]).any()
    assert (sol.cash_after_usd >= p.cash_floor_usd - 0.01).all()
    # Every order (a position's sale) in a whole-share account is whole shares unless it closes the position.
    for a in np.flatnonzero(whole):
        for s in np.unique(p.lot_security[p.lot_account == a]):
            same = (p.lot_account == a) & (p.lot_security == s)
            total = sol.lot_sold_shares[same].sum()
            assert total >= p.lot_quantity_shares[same].sum() - 1e-6 or abs(total - round(total)) <= 1e-6
    assert verify(sol) == []
