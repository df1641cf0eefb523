"""Yearly netting of capital gains and losses (IRC §1211, §1212; Schedule D and the Capital Loss
Carryover Worksheet of Publication 550).

Short-term against short-term and long-term against long-term (carryovers entering as losses of
their own character), then across; a net loss is deductible against ordinary income up to $3,000
($1,500 married filing separately), short-term loss first; the rest carries forward keeping its
character. The worksheet's taxable-income limit on the deduction is not modelled (it needs the
return's other lines).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from optimizer.ledger.model import SaleLine


def loss_limit_usd(filing_status: str) -> float:
    return 1500.0 if filing_status == "married_separate" else 3000.0


@dataclass(frozen=True)
class YearNetting:
    taxpayer: str
    year: int
    st_gains_usd: float  # recognized short-term gains (positive lines)
    st_losses_usd: float  # recognized short-term losses, as a positive amount
    lt_gains_usd: float
    lt_losses_usd: float
    st_carryover_in_usd: float
    lt_carryover_in_usd: float
    net_st_usd: float  # after its carryover, before crossing
    net_lt_usd: float
    taxable_st_usd: float  # what is taxed at ordinary rates
    taxable_lt_usd: float  # what is taxed at long-term rates
    ordinary_deduction_usd: float  # capital loss deducted against ordinary income
    st_carryover_out_usd: float
    lt_carryover_out_usd: float


def net_year(taxpayer: str, year: int, st_gains: float, st_losses: float, lt_gains: float, lt_losses: float,
             st_carry_in: float = 0.0, lt_carry_in: float = 0.0, filing_status: str = "single") -> YearNetting:
    st = st_gains - st_losses - st_carry_in
    lt = lt_gains - lt_losses - lt_carry_in
    limit = loss_limit_usd(filing_status)
    taxable_st = taxable_lt = deduction = carry_st = carry_lt = 0.0
    if st >= 0 and lt >= 0:
        taxable_st, taxable_lt = st, lt
    elif st < 0 and lt < 0:
        deduction = min(limit, -st - lt)
        from_st = min(-st, deduction)
        carry_st, carry_lt = -st - from_st, -lt - (deduction - from_st)
    elif st < 0:  # long-term gain absorbs the short-term loss
        if lt >= -st:
            taxable_lt = lt + st
        else:
            remaining = -st - lt
            deduction = min(limit, remaining)
            carry_st = remaining - deduction
    else:  # short-term gain absorbs the long-term loss
        if st >= -lt:
            taxable_st = st + lt
        else:
            remaining = -lt - st
            deduction = min(limit, remaining)
            carry_lt = remaining - deduction
    return YearNetting(taxpayer, year, st_gains, st_losses, lt_gains, lt_losses, st_carry_in, lt_carry_in, st, lt,
                       taxable_st, taxable_lt, deduction, carry_st, carry_lt)


def net_sales(sales: Iterable[SaleLine], filing_status: Mapping[str, str] | None = None,
              carry_in: Mapping[str, tuple[float, float]] | None = None, through_year: int | None = None,
              ) -> list[YearNetting]:
    """Net every taxpayer's recognized gains year by year from their first sale through their last
    (or ``through_year``), carrying losses forward: a year without sales still deducts up to $3,000
    of carryover and passes the rest on."""
    filing_status, carry_in = filing_status or {}, carry_in or {}
    totals: dict[tuple[str, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for s in sales:
        if not s.taxable:
            continue
        g = s.recognized_gain_usd
        t = totals[(s.taxpayer, s.trade_date.year)]
        if s.term == "short":
            t[0 if g >= 0 else 1] += abs(g)
        else:
            t[2 if g >= 0 else 3] += abs(g)
    years_of: dict[str, list[int]] = defaultdict(list)
    for tp, year in totals:
        years_of[tp].append(year)
    out = []
    for taxpayer in sorted(years_of):
        years = sorted(years_of[taxpayer])
        st_c, lt_c = carry_in.get(taxpayer, (0.0, 0.0))
        for year in range(years[0], max(years[-1], through_year or years[-1]) + 1):
            t = totals.get((taxpayer, year), [0.0, 0.0, 0.0, 0.0])
            result = net_year(taxpayer, year, *t, st_c, lt_c, filing_status.get(taxpayer, "single"))
            out.append(result)
            st_c, lt_c = result.st_carryover_out_usd, result.lt_carryover_out_usd
    return out
