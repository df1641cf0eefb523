import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from optimizer.tax import combined_rates, is_long_term, long_term_from, long_term_from_date


@pytest.mark.parametrize(
    "bought, sold, long_term",
    [
        # Pub. 550: the holding period starts the day after the trade date; long-term is more than one year.
        (dt.date(2024, 1, 5), dt.date(2025, 1, 5), False),
        (dt.date(2024, 1, 5), dt.date(2025, 1, 6), True),
        # Bought on a leap day: one year later is 28 Feb 2025 (still short), long-term from 1 March.
        (dt.date(2024, 2, 29), dt.date(2025, 2, 28), False),
        (dt.date(2024, 2, 29), dt.date(2025, 3, 1), True),
        # A year that spans a leap day is still one calendar year: 1 Mar 2023 → 1 Mar 2024 is short.
        (dt.date(2023, 3, 1), dt.date(2024, 3, 1), False),
        (dt.date(2023, 3, 1), dt.date(2024, 3, 2), True),
        (dt.date(2023, 12, 31), dt.date(2024, 12, 31), False),
        (dt.date(2023, 12, 31), dt.date(2025, 1, 1), True),
        (dt.date(2026, 11, 1), dt.date(2026, 11, 20), False),
    ],
)
def test_holding_period(bought, sold, long_term):
    assert is_long_term(bought, sold) is long_term


def test_combined_rates_add_state_and_niit():
    # short: 0.37 + 0.05 + 0.038 = 0.458 ; long: 0.20 + 0.05 + 0.038 = 0.288
    st, lt = combined_rates(0.37, 0.20, 0.05, True)
    assert st == pytest.approx(0.458)
    assert lt == pytest.approx(0.288)
    assert combined_rates(0.24, 0.15, 0.0, False) == pytest.approx((0.24, 0.15))


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31)))
def test_scalar_and_array_holding_period_agree(acquired):
    # The ledger uses the scalar form, the optimizer the array form: they must never disagree.
    array = long_term_from(np.array([acquired], dtype="datetime64[D]"))[0]
    assert array == np.datetime64(long_term_from_date(acquired), "D")
    assert long_term_from_date(acquired) > acquired + dt.timedelta(days=365)
