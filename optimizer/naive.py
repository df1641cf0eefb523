"""The tax-naive rebalance Lotwise's savings are measured against (pure numpy, no solver).

What a rebalancer without tax awareness does with the same household and the same model:

* every account is brought exactly to the model on its own value: its cash to
  ``min(V_a, max(W_cash V_a, m_a + r_a))`` (the model's cash weight, but never below the account's
  minimum plus the cash to raise), the rest to the model's security weights rescaled to sum to 1;
  securities outside the model (a substitute, a legacy holding) are sold whole;
* sales relieve lots first in, first out (oldest acquisition date first, then lot id);
* no tax terms, no wash-sale windows, no drift tolerance, no householding.

Its wash sales are counted, and their losses disallowed, as IRS Publication 550 would: a loss sale
in a taxable account is a wash sale to the extent that substantially identical securities (the
same identical group) are bought in the same run in any account, IRAs included, or were acquired
in the last 30 days in another lot that stays held. A buy of a group sold at a loss in the last 30
days is also counted (the earlier loss is disallowed; its amount is in the transactions, not here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.problem import HouseholdProblem

WINDOW_DAYS = 30


@dataclass(frozen=True)
class NaiveRebalance:
    lot_sold_usd: np.ndarray  # float[L]: proceeds of each lot's sale, FIFO
    buy_usd: np.ndarray  # float[A, S]
    lot_disallowed_fraction: np.ndarray  # float[L]: share of the lot's loss a wash sale disallows
    wash_sales: int  # loss lots sold into a wash sale + buys into a group sold at a loss in the window

    def realized_gain_usd(self, p: HouseholdProblem) -> np.ndarray:
        """Per lot: proceeds − pro-rata basis, the disallowed part of a loss removed (it goes into the
        replacement's basis, IRS Publication 550)."""
        gain = self.lot_sold_usd - np.divide(self.lot_sold_usd, p.lot_value_usd, out=np.zeros(p.n_lots),
                                             where=p.lot_value_usd > 0) * p.lot_basis_usd
        return np.where(gain < 0, gain * (1.0 - self.lot_disallowed_fraction), gain)


def naive_targets(p: HouseholdProblem) -> tuple[np.ndarray, np.ndarray]:
    """(holdings [A, S], cash [A]) each account ends with: the model on the account's own value."""
    holdings = p.holdings_usd
    value = holdings.sum(axis=1) + p.cash_usd
    cash = np.minimum(value, np.maximum(p.class_target_weight[p.cash_class] * value, p.cash_floor_usd))
    weights = p.target_weight / p.target_weight.sum() if p.target_weight.sum() > 0 else np.zeros(p.n_securities)
    return (value - cash)[:, None] * weights[None, :], cash


def naive_rebalance(p: HouseholdProblem) -> NaiveRebalance:
    holdings = p.holdings_usd
    target, _ = naive_targets(p)
    buy = np.maximum(target - holdings, 0.0)
    sold = fifo_sales(p, np.maximum(holdings - target, 0.0))
    disallowed, wash_sales = _wash_sales(p, sold, buy)
    return NaiveRebalance(sold, buy, disallowed, wash_sales)


def fifo_sales(p: HouseholdProblem, sell_usd: np.ndarray) -> np.ndarray:
    """float[L]: each lot's proceeds when each position sells ``sell_usd`` [A, S] first in, first out.

    Within each (account, security) a lot gives what its position still has to sell after the older
    lots, i.e. its value clipped to [0, sell − value of the lots before it]."""
    order = np.lexsort((p.lot_ids.astype(str), p.lot_acquired, p.lot_security, p.lot_account))
    position = (p.lot_account * p.n_securities + p.lot_security)[order]
    value = p.lot_value_usd[order]
    running = np.cumsum(value)
    first = np.r_[True, position[1:] != position[:-1]] if len(order) else np.zeros(0, dtype=bool)
    before = running - value - np.maximum.accumulate(np.where(first, running - value, 0.0))
    sold = np.zeros(p.n_lots)
    sold[order] = np.clip(sell_usd.ravel()[position] - before, 0.0, value)
    return sold


def _wash_sales(p: HouseholdProblem, sold: np.ndarray, buy: np.ndarray) -> tuple[np.ndarray, int]:
    group = p.identical_group[p.lot_security]
    n_groups = int(p.identical_group.max()) + 1 if p.n_securities else 0
    loss = (sold > 0) & (p.lot_basis_usd > p.lot_value_usd) & p.account_taxable[p.lot_account]
    # Replacements: this run's buys in any account, and other recent lots that stay held (their value left).
    replacement = np.bincount(p.identical_group, weights=buy.sum(axis=0), minlength=n_groups)
    recent_left = np.where(p.lot_age_days <= WINDOW_DAYS, p.lot_value_usd - sold, 0.0)
    recent_by_group = np.bincount(group, weights=recent_left, minlength=n_groups)
    loss_proceeds = np.bincount(group, weights=np.where(loss, sold, 0.0), minlength=n_groups)
    # A lot's own recent purchase does not replace it: take its own remaining value out of its group's.
    lot_replacement = replacement[group] + recent_by_group[group] - recent_left
    fraction = np.where(loss, np.minimum(1.0, np.divide(lot_replacement, loss_proceeds[group],
                                                        out=np.zeros(p.n_lots), where=loss_proceeds[group] > 0)), 0.0)
    bought_blocked = int(((buy > 0) & p.buy_blocked[None, :]).sum())
    return fraction, int((fraction > 0).sum()) + bought_blocked
