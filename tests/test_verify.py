"""The independent check catches each rule broken by a hand-made trade list."""

import numpy as np

from optimizer.result import HouseholdSolution
from optimizer.verify import verify
from tests.conftest import household


def solution(p, lot_sold_usd, buys=()):
    acc = np.array([b[0] for b in buys], dtype=np.int64)
    sec = np.array([b[1] for b in buys], dtype=np.int64)
    usd = np.array([b[2] for b in buys], dtype=float)
    return HouseholdSolution(p, np.asarray(lot_sold_usd, float), acc, sec, usd, 0.0, 1)


def test_clean_trades_pass():
    # Sell $500 of A, buy $500 of B in the same account: cash stays $0.
    assert verify(solution(household(), [500.0], [(0, 1, 500.0)])) == []


def test_oversold_lot():
    p = household()  # lot of 10 shares at $100 = $1,000
    assert any("oversold" in v for v in verify(solution(p, [1500.0])))


def test_cash_below_minimum():
    # No cash, min $0, buying $200 of B without selling leaves cash at −$200.
    assert any("below minimum" in v for v in verify(solution(household(), [0.0], [(0, 1, 200.0)])))


def test_buy_in_wash_sale_window():
    p = household(cash_usd=np.array([500.0]), buy_blocked=np.array([False, True]))
    assert any("wash sale" in v for v in verify(solution(p, [0.0], [(0, 1, 500.0)])))


def test_buy_and_loss_sale_same_group_across_accounts():
    # Loss lot of A sold in taxable T; A bought in the IRA in the same run.
    p = household(account_ids=np.array(["T", "IRA"]), account_taxable=np.array([True, False]),
                  cash_usd=np.array([0.0, 500.0]), min_cash_usd=np.zeros(2), lot_basis_usd=np.array([2000.0]))
    problems = verify(solution(p, [500.0], [(1, 0, 500.0)]))
    assert any("same run" in v for v in problems)


def test_substantially_identical_group_counts_as_same_security():
    # A and B share an identical group (share classes); B was sold at a loss: buying A is a wash sale too.
    p = household(cash_usd=np.array([500.0]), identical_group=np.array([0, 0]), buy_blocked=np.array([False, True]))
    assert any("wash sale" in v for v in verify(solution(p, [0.0], [(0, 0, 500.0)])))


def test_buy_outside_model():
    p = household(cash_usd=np.array([500.0]), target_weight=np.array([1.0, 0.0]))
    assert any("not in the household's model" in v for v in verify(solution(p, [0.0], [(0, 1, 500.0)])))
