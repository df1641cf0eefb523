"""Whole shares from the LP's dollar amounts: a rounding repair that keeps every constraint.

1. Each buy and each partial lot sale is rounded down to whole shares; a lot the LP sells whole
   (to within a cent) is sold whole, fractional remainder included.
2. Trades below the minimum trade size are dropped (a position's sales as a whole).
3. Cash below an account's floor (minimum plus withdrawal) is repaired by taking shares off that
   account's buys, largest buy first, then by selling one more share of a lot — lots the LP sells
   first, then the account's other lots, cheapest in tax per dollar first — skipping any loss lot
   whose sale would be a wash sale, any lot a mandate forbids selling and any share that would
   break a budget.
4. Cash above an account's maximum is repaired by adding shares to that account's buys while the
   floor still holds.
Rounding never adds a new buy and never loss-sells what the wash-sale rules forbid, so the rules
the LP respected still hold; ``verify`` checks everything again.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from optimizer.errors import HouseholdInfeasible
from optimizer.problem import HouseholdProblem, SolveParams
from optimizer.result import HouseholdSolution
from optimizer.terms.tax import lot_gain_per_dollar

EPS = 1e-9


def round_to_whole_shares(sol: HouseholdSolution, params: SolveParams) -> HouseholdSolution:
    p = sol.problem
    price_lot = p.price_usd[p.lot_security]
    whole_lot = (sol.lot_sold_usd > 0) & (sol.lot_sold_usd >= p.lot_value_usd - 0.01)
    sold = np.where(whole_lot, p.lot_quantity_shares, np.floor(sol.lot_sold_usd / price_lot + EPS))
    bought = np.floor(sol.buy_usd / p.price_usd[sol.buy_security] + EPS)

    if params.min_trade_usd > 0:
        position = p.lot_account * p.n_securities + p.lot_security
        per_position = np.bincount(position, weights=sold * price_lot, minlength=p.n_accounts * p.n_securities)
        sold = np.where(per_position[position] < params.min_trade_usd, 0.0, sold)
        bought = np.where(bought * p.price_usd[sol.buy_security] < params.min_trade_usd, 0.0, bought)

    # Order in which extra shares may be sold: lots the LP sells first, then by tax per dollar; never a
    # loss lot inside a wash-sale window or of a group this run buys.
    gain = lot_gain_per_dollar(p)
    bought_groups = np.isin(p.identical_group[p.lot_security], p.identical_group[sol.buy_security])
    may_extend = ~((gain < 0) & (p.lot_loss_sale_window | bought_groups))
    if p.sell_forbidden is not None:  # nor a lot a mandate forbids selling
        may_extend &= ~p.sell_forbidden[p.lot_account, p.lot_security]
    order = np.lexsort((p.lot_tax_rate * gain, sol.lot_sold_usd <= 0))
    order = order[may_extend[order]]
    for a in range(p.n_accounts):
        _repair_account(p, params, a, sold, bought, sol.buy_account, sol.buy_security, order)

    keep = bought > 0
    price_buy = p.price_usd[sol.buy_security[keep]]
    return dataclasses.replace(
        sol, lot_sold_usd=sold * price_lot, buy_account=sol.buy_account[keep], buy_security=sol.buy_security[keep],
        buy_usd=bought[keep] * price_buy, sold_shares=sold, bought_shares=bought[keep], whole_shares=True,
    )


def _cash(p: HouseholdProblem, a: int, sold: np.ndarray, bought: np.ndarray, buy_account: np.ndarray,
          buy_security: np.ndarray) -> float:
    mine = p.lot_account == a
    proceeds = float((sold[mine] * p.price_usd[p.lot_security[mine]]).sum())
    spent = float((bought[buy_account == a] * p.price_usd[buy_security[buy_account == a]]).sum())
    return float(p.cash_usd[a]) + proceeds - spent


def _within_budgets(p: HouseholdProblem, sold: np.ndarray) -> bool:
    gain = sold * p.price_usd[p.lot_security] - np.divide(sold, p.lot_quantity_shares) * p.lot_basis_usd
    taxable = p.account_taxable[p.lot_account]
    if p.gain_budget_usd is not None and gain[taxable].sum() > p.gain_budget_usd + 1e-6:
        return False
    if p.turnover_budget_usd is not None and (sold * p.price_usd[p.lot_security]).sum() > p.turnover_budget_usd + 1e-6:
        return False
    return p.tax_budget_usd is None or (p.lot_tax_rate * gain).sum() <= p.tax_budget_usd + 1e-6


def _repair_account(p: HouseholdProblem, params: SolveParams, a: int, sold: np.ndarray, bought: np.ndarray,
                    buy_account: np.ndarray, buy_security: np.ndarray, order: np.ndarray) -> None:
    floor, ceiling = p.cash_floor_usd[a], p.cash_ceiling_usd[a]
    buys = np.flatnonzero(buy_account == a)
    cash = _cash(p, a, sold, bought, buy_account, buy_security)
    while cash < floor - 1e-9:
        live = buys[bought[buys] > 0]
        if len(live):  # take a share off the largest buy (drop it when it falls below the minimum trade)
            k = live[np.argmax(bought[live] * p.price_usd[buy_security[live]])]
            bought[k] -= 1
            if bought[k] * p.price_usd[buy_security[k]] < params.min_trade_usd:
                bought[k] = 0
        else:  # sell one more share (or the rest) of a lot, in the order above
            extended = False
            for i in order[(p.lot_account[order] == a) & (sold[order] < p.lot_quantity_shares[order] - EPS)]:
                before = sold[i]
                sold[i] = min(sold[i] + 1, p.lot_quantity_shares[i])
                if _within_budgets(p, sold):
                    extended = True
                    break
                sold[i] = before
            if not extended:
                raise HouseholdInfeasible(
                    f"account {p.account_ids[a]}: whole-share rounding cannot keep cash at ${floor:,.2f} "
                    f"(${cash:,.2f} after rounding)")
        cash = _cash(p, a, sold, bought, buy_account, buy_security)
    while cash > ceiling + 1e-9 and len(buys):  # invest the excess, a share at a time, cheapest first
        prices = p.price_usd[buy_security[buys]]
        fits = buys[prices <= cash - floor]
        if not len(fits):
            break
        k = fits[np.argmin(p.price_usd[buy_security[fits]])]
        bought[k] += 1
        cash = _cash(p, a, sold, bought, buy_account, buy_security)
