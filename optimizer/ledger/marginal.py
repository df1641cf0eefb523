"""Marginal tax rates of one more tranche of gain or loss, given what the year has realized so far.

A dollar of loss is worth the rate at which it will actually be used: against this year's
short-term gains at the short-term rate, against long-term gains at the long-term rate, against
ordinary income (up to $3,000) at the ordinary + state rate, or carried forward, where it is
worth ``carry_value`` × the long-term rate (a future offset, discounted). Gains mirror this: a gain
absorbed by this year's losses or by a carryforward costs the value of the loss it uses up.

Rates are measured on the ledger's own netting and estimate (``net_year``, ``estimate_tax``) as
the average over a tranche of ``step_usd``, so they follow exactly the rules the reports use.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.ledger.estimate import TaxProfile, estimate_tax
from optimizer.ledger.netting import net_year
from optimizer.tax import combined_rates


@dataclass(frozen=True)
class MarginalRates:
    st_gain: float  # tax per dollar of additional short-term gain
    lt_gain: float
    st_loss: float  # tax saved per dollar of additional short-term loss
    lt_loss: float


def after_tax_cost(st: float, lt: float, st_carry: float, lt_carry: float, profile: TaxProfile, carry_value: float,
                   year: int) -> float:
    """This year's tax on net realized (st, lt), less the discounted value of what carries forward."""
    n = net_year("hh", year, max(st, 0.0), max(-st, 0.0), max(lt, 0.0), max(-lt, 0.0), st_carry, lt_carry,
                 profile.filing_status)
    _, lt_rate = combined_rates(profile.federal_ordinary_rate, profile.federal_ltcg_rate, profile.state_rate,
                                profile.niit_applies)
    return estimate_tax(n, profile).total_usd - carry_value * lt_rate * (n.st_carryover_out_usd + n.lt_carryover_out_usd)


def marginal_rates(ytd_st_usd: float, ytd_lt_usd: float, st_carry_usd: float, lt_carry_usd: float,
                   profile: TaxProfile, year: int, step_usd: float = 10_000.0, carry_value: float = 0.8) -> MarginalRates:
    base = after_tax_cost(ytd_st_usd, ytd_lt_usd, st_carry_usd, lt_carry_usd, profile, carry_value, year)

    def at(d_st: float, d_lt: float) -> float:
        return after_tax_cost(ytd_st_usd + d_st, ytd_lt_usd + d_lt, st_carry_usd, lt_carry_usd, profile, carry_value, year)

    return MarginalRates(
        st_gain=(at(step_usd, 0) - base) / step_usd, lt_gain=(at(0, step_usd) - base) / step_usd,
        st_loss=(base - at(-step_usd, 0)) / step_usd, lt_loss=(base - at(0, -step_usd)) / step_usd,
    )
