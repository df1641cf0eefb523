"""Holding period and marginal rates (IRS Publication 550; IRC §1222, §1223)."""

from __future__ import annotations

import datetime as dt

import numpy as np

NIIT_RATE = 0.038


def long_term_from(acquired: np.ndarray) -> np.ndarray:
    """First sale date that is long-term: held *more than one year*.

    The holding period starts the day after the trade date, so a lot bought 2024-01-05 is
    short-term when sold 2025-01-05 and long-term from 2025-01-06. A lot bought on 29 February
    reaches its first anniversary on 28 February and is long-term from 1 March.
    """
    acquired = np.asarray(acquired, dtype="datetime64[D]")
    months = acquired.astype("datetime64[M]")
    day_of_month = acquired - months.astype("datetime64[D]")
    next_year_same_month = (months + 12).astype("datetime64[D]")
    anniversary = next_year_same_month + day_of_month
    # Feb 29 + 1 year rolls into March: clamp back to the last day of February.
    rolled = anniversary.astype("datetime64[M]") != (months + 12)
    anniversary = np.where(rolled, (months + 13).astype("datetime64[D]") - 1, anniversary)
    return anniversary + 1


def long_term_from_date(acquired: dt.date) -> dt.date:
    """``long_term_from`` for one date, in plain Python (the ledger calls it per lot sold)."""
    try:
        anniversary = acquired.replace(year=acquired.year + 1)
    except ValueError:  # 29 February
        anniversary = acquired.replace(year=acquired.year + 1, day=28)
    return anniversary + dt.timedelta(days=1)


def is_long_term(acquired: dt.date, sold: dt.date) -> bool:
    return sold >= long_term_from_date(acquired)


def combined_rates(
    federal_ordinary_rate: float, federal_ltcg_rate: float, state_rate: float, niit_applies: bool
) -> tuple[float, float]:
    """(short-term, long-term) marginal rates on one more dollar of gain."""
    niit = NIIT_RATE if niit_applies else 0.0
    return federal_ordinary_rate + state_rate + niit, federal_ltcg_rate + state_rate + niit
