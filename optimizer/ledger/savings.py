"""Estimated taxes saved or deferred by a rebalance, against another rebalance of the same household.

Both rebalances are priced on the same year: the household's year-to-date net realized gains and
loss carryforwards, plus what the rebalance realizes, netted and estimated by the ledger's own
rules (``net_year``, ``estimate_tax``). A rebalance's cost is this year's estimated tax less the
discounted value of the loss it leaves to carry forward (``after_tax_cost``, the figure the
optimizer's marginal rates are measured on), so a harvested loss that this year cannot use still
counts, at ``carry_value`` × the long-term rate.

The saving ``cost(naive) − cost(lotwise)`` is split exactly into two parts by swapping one side of
the realizations at a time:

    deferral    = cost(naive gains, naive losses)   − cost(lotwise gains, naive losses)
    harvesting  = cost(lotwise gains, naive losses) − cost(lotwise gains, lotwise losses)

Deferral is what realizing fewer (or longer-held) gains saved; harvesting is what realizing more
losses saved. Either can be negative (e.g. a tax budget spent on drift): they are reported signed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.ledger.estimate import TaxProfile, estimate_tax
from optimizer.ledger.marginal import after_tax_cost
from optimizer.ledger.netting import net_year


@dataclass(frozen=True)
class Realized:
    """Gross gains and losses realized in taxable accounts (all ≥ 0)."""

    st_gains_usd: float = 0.0
    st_losses_usd: float = 0.0
    lt_gains_usd: float = 0.0
    lt_losses_usd: float = 0.0

    @classmethod
    def of_lots(cls, gain_usd: np.ndarray, long_term: np.ndarray, taxable: np.ndarray) -> Realized:
        """From per-lot realized gains (negative = loss); lots in IRAs realize nothing taxable."""
        g = np.where(taxable, gain_usd, 0.0)
        return cls(float(np.maximum(g, 0)[~long_term].sum()), float(np.maximum(-g, 0)[~long_term].sum()),
                   float(np.maximum(g, 0)[long_term].sum()), float(np.maximum(-g, 0)[long_term].sum()))

    @property
    def net_st_usd(self) -> float:
        return self.st_gains_usd - self.st_losses_usd

    @property
    def net_lt_usd(self) -> float:
        return self.lt_gains_usd - self.lt_losses_usd


@dataclass(frozen=True)
class TaxYear:
    """The household's year before the rebalance: net YTD realized gains, carryforwards, rates."""

    year: int
    ytd_st_usd: float
    ytd_lt_usd: float
    st_carry_usd: float
    lt_carry_usd: float
    profile: TaxProfile

    def estimated_tax_usd(self, realized: Realized = Realized()) -> float:
        """This year's estimated tax on YTD plus ``realized``, after netting and carryforwards."""
        st, lt = self.ytd_st_usd + realized.net_st_usd, self.ytd_lt_usd + realized.net_lt_usd
        n = net_year("hh", self.year, max(st, 0.0), max(-st, 0.0), max(lt, 0.0), max(-lt, 0.0),
                     self.st_carry_usd, self.lt_carry_usd, self.profile.filing_status)
        return estimate_tax(n, self.profile).total_usd

    def cost_usd(self, realized: Realized, carry_value: float) -> float:
        return after_tax_cost(self.ytd_st_usd + realized.net_st_usd, self.ytd_lt_usd + realized.net_lt_usd,
                              self.st_carry_usd, self.lt_carry_usd, self.profile, carry_value, self.year)


@dataclass(frozen=True)
class TaxSavings:
    deferral_usd: float
    harvesting_usd: float

    @property
    def total_usd(self) -> float:
        return self.deferral_usd + self.harvesting_usd


def tax_savings(year: TaxYear, lotwise: Realized, naive: Realized, carry_value: float) -> TaxSavings:
    mixed = Realized(lotwise.st_gains_usd, naive.st_losses_usd, lotwise.lt_gains_usd, naive.lt_losses_usd)
    naive_cost, mixed_cost, lotwise_cost = (year.cost_usd(r, carry_value) for r in (naive, mixed, lotwise))
    return TaxSavings(deferral_usd=naive_cost - mixed_cost, harvesting_usd=mixed_cost - lotwise_cost)
