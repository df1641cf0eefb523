"""A tax estimate of a netted year from the household's rates.

Short-term (ordinary) gains at the federal ordinary rate; long-term gains in the 0/15/20 %
brackets for the filing status and year, stacked on top of ordinary taxable income when it is
known (otherwise at the household's stated long-term rate); 3.8 % NIIT on net investment gains
above the MAGI threshold (or per the household's flag when income is unknown); a state rate on
all of it; the ordinary-income deduction of a net loss saves the ordinary and state rates.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.ledger.netting import YearNetting
from optimizer.tax import NIIT_RATE

# Taxable income at which the 15 % and the 20 % long-term rates start (Rev. Procs. 2023-34, 2024-40, 2025-32).
LTCG_BRACKETS: dict[int, dict[str, tuple[float, float]]] = {
    2024: {"single": (47_025, 518_900), "married_joint": (94_050, 583_750),
           "married_separate": (47_025, 291_850), "head_of_household": (63_000, 551_350)},
    2025: {"single": (48_350, 533_400), "married_joint": (96_700, 600_050),
           "married_separate": (48_350, 300_000), "head_of_household": (64_750, 566_700)},
    2026: {"single": (49_450, 545_500), "married_joint": (98_900, 613_700),
           "married_separate": (49_450, 306_850), "head_of_household": (66_200, 579_600)},
}
NIIT_THRESHOLD = {"single": 200_000, "head_of_household": 200_000, "married_joint": 250_000, "married_separate": 125_000}


@dataclass(frozen=True)
class TaxProfile:
    filing_status: str
    federal_ordinary_rate: float
    federal_ltcg_rate: float
    state_rate: float
    niit_applies: bool


@dataclass(frozen=True)
class TaxEstimate:
    short_term_tax_usd: float
    long_term_tax_usd: float
    niit_usd: float
    state_tax_usd: float
    deduction_saving_usd: float

    @property
    def total_usd(self) -> float:
        return (self.short_term_tax_usd + self.long_term_tax_usd + self.niit_usd + self.state_tax_usd
                - self.deduction_saving_usd)


def long_term_federal_tax(gain_usd: float, ordinary_income_usd: float, year: int, filing_status: str) -> float:
    """Federal tax on ``gain_usd`` of long-term gain stacked on top of ordinary taxable income."""
    years = sorted(LTCG_BRACKETS)
    zero_top, fifteen_top = LTCG_BRACKETS[min(max(year, years[0]), years[-1])][filing_status]
    lo, hi = ordinary_income_usd, ordinary_income_usd + gain_usd
    in_fifteen = max(0.0, min(hi, fifteen_top) - max(lo, zero_top))
    in_twenty = max(0.0, hi - max(lo, fifteen_top))
    return 0.15 * in_fifteen + 0.20 * in_twenty


def estimate_tax(n: YearNetting, profile: TaxProfile, ordinary_income_usd: float | None = None) -> TaxEstimate:
    st, lt = n.taxable_st_usd, n.taxable_lt_usd
    st_tax = st * profile.federal_ordinary_rate
    if ordinary_income_usd is None:
        lt_tax = lt * profile.federal_ltcg_rate
        niit = (st + lt) * NIIT_RATE if profile.niit_applies else 0.0
    else:
        lt_tax = long_term_federal_tax(lt, ordinary_income_usd + st, n.year, profile.filing_status)
        magi = ordinary_income_usd + st + lt
        niit = NIIT_RATE * max(0.0, min(st + lt, magi - NIIT_THRESHOLD[profile.filing_status]))
    return TaxEstimate(st_tax, lt_tax, niit, (st + lt) * profile.state_rate,
                       n.ordinary_deduction_usd * (profile.federal_ordinary_rate + profile.state_rate))
