"""Trade sizes a custodian takes: whole shares where the account takes no fractions, and no trade
below the account's minimum. A repair of the LP's dollar amounts that keeps every constraint.

Per account (``HouseholdProblem.account_whole_shares`` / ``account_min_trade_usd``):

1. In a whole-share account each buy and each partial lot sale is rounded down to whole shares; a
   lot the LP sells whole (to within a cent) is sold whole, fractional remainder included (step 4
   makes the order whole). An account that takes fractional shares keeps the LP's amounts.
2. Trades below the account's minimum are dropped (a position's sales as a whole, a sale that
   would close the position too), except a trade a hard mandate requires today
   (``HouseholdProblem.mandated_positions``: a never-hold sell-down, a hold-at-least top-up).
3. Cash below an account's floor (minimum plus withdrawal) is repaired by taking the shortfall off
   that account's largest buy (in whole shares where required; a buy left below the minimum is
   dropped), then by selling more of a lot — lots the LP sells first, then the account's other lots,
   cheapest in tax per dollar first — at least up to the minimum trade, skipping any loss lot whose
   sale would be a wash sale, any lot a mandate forbids selling and any amount that breaks a budget.
4. In a whole-share account each position's sale (the custodian's order) is a whole number of
   shares unless it closes the position: its fraction comes off the lots sold with a fraction of
   their own, then the lots costliest in tax, or, if the cash floor needs it, the sale grows to the
   next whole share (``_Repair._whole_order``); the lots it relieves may then carry fractions.
5. Cash above an account's maximum is invested in that account's buys while the floor holds.

The repair never adds a new buy and never loss-sells what the wash-sale rules forbid, so the rules
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


def round_trades(sol: HouseholdSolution, params: SolveParams) -> HouseholdSolution:
    """The solution in trade sizes every account's custodian takes (unchanged when all take any size)."""
    p = sol.problem
    whole = p.account_whole_shares(params)
    minimum = p.account_min_trade_usd(params)
    if not whole.any() and not minimum.any():
        return sol
    price_lot = p.price_usd[p.lot_security]
    whole_lot = (sol.lot_sold_usd > 0) & (sol.lot_sold_usd >= p.lot_value_usd - 0.01)
    exact = sol.lot_sold_shares
    sold = np.where(whole_lot, p.lot_quantity_shares, np.where(whole[p.lot_account], np.floor(exact + EPS), exact))
    bought = np.where(whole[sol.buy_account], np.floor(sol.buy_shares + EPS), sol.buy_shares)
    if minimum.any():
        _drop_small(p, sol.buy_account, sol.buy_security, sold, bought, minimum)

    # Order in which more may be sold: lots the LP sells first, then by tax per dollar; never a loss
    # lot inside a wash-sale window or of a group this run buys, nor a lot a mandate forbids selling.
    gain = lot_gain_per_dollar(p)
    bought_groups = np.isin(p.identical_group[p.lot_security], p.identical_group[sol.buy_security])
    taxable_loss = (gain < 0) & p.account_taxable[p.lot_account]  # an IRA's loss washes nothing
    may_extend = ~(taxable_loss & (p.lot_loss_sale_window | bought_groups))
    if p.sell_forbidden is not None:
        may_extend &= ~p.sell_forbidden[p.lot_account, p.lot_security]
    order = np.lexsort((p.lot_tax_rate * gain, sol.lot_sold_usd <= 0))
    order = order[may_extend[order]]
    repair = _Repair(p, sold, bought, sol.buy_account, sol.buy_security, whole, minimum)
    if whole.any():  # ranks for whole orders: more from ``order``; a fraction off the costliest in tax first
        repair.order_rank[order] = np.arange(len(order))
        repair.trim_rank = np.argsort(np.argsort(-(p.lot_tax_rate * gain), kind="stable"), kind="stable")
    for a in range(p.n_accounts):
        repair.account(a, order)

    keep = bought > 0
    return dataclasses.replace(
        sol, lot_sold_usd=sold * price_lot, buy_account=sol.buy_account[keep], buy_security=sol.buy_security[keep],
        buy_usd=bought[keep] * p.price_usd[sol.buy_security[keep]], sold_shares=sold, bought_shares=bought[keep],
        whole_share_accounts=whole,
    )


def _drop_small(p: HouseholdProblem, buy_account: np.ndarray, buy_security: np.ndarray, sold: np.ndarray,
                bought: np.ndarray, minimum: np.ndarray) -> None:
    """Zero (in place) the positions' sales and the buys below their account's minimum trade."""
    n = p.n_accounts * p.n_securities
    position = p.lot_account * p.n_securities + p.lot_security
    sold_usd = np.bincount(position, weights=sold * p.price_usd[p.lot_security], minlength=n)
    small = (sold_usd < np.repeat(minimum, p.n_securities)) & ~p.mandated_positions.ravel()
    sold[small[position]] = 0.0
    small_buy = (bought * p.price_usd[buy_security] < minimum[buy_account]) & ~p.mandated_positions[buy_account, buy_security]
    bought[small_buy] = 0.0


class _Repair:
    """Cash back within an account's floor and ceiling, in the account's trade sizes (in place)."""

    def __init__(self, p: HouseholdProblem, sold: np.ndarray, bought: np.ndarray, buy_account: np.ndarray,
                 buy_security: np.ndarray, whole: np.ndarray, minimum: np.ndarray) -> None:
        self.p, self.sold, self.bought = p, sold, bought
        self.buy_account, self.buy_security = buy_account, buy_security
        self.whole, self.minimum = whole, minimum
        self.order_rank = np.full(p.n_lots, np.inf)  # a lot's place in the extension order (inf: may not extend)
        self.trim_rank = np.zeros(p.n_lots)
        self._positions: tuple[np.ndarray, np.ndarray] | None = None

    def cash(self, a: int) -> float:
        p, mine, theirs = self.p, self.p.lot_account == a, self.buy_account == a
        proceeds = float((self.sold[mine] * p.price_usd[p.lot_security[mine]]).sum())
        spent = float((self.bought[theirs] * p.price_usd[self.buy_security[theirs]]).sum())
        return float(p.cash_usd[a]) + proceeds - spent

    def shares(self, a: int, usd: float, price: float) -> float:
        """Shares worth at least ``usd``: whole ones where the account takes no fractions."""
        return float(np.ceil(usd / price - EPS)) if self.whole[a] else usd / price

    def account(self, a: int, order: np.ndarray) -> None:
        p = self.p
        floor, ceiling = p.cash_floor_usd[a], p.cash_ceiling_usd[a]
        buys = np.flatnonzero(self.buy_account == a)
        for s in self._fractional_orders(a):  # whole orders first, by less: the floor below covers what that cost
            self._whole_order(a, int(s), self.order_rank, self.trim_rank, grow=False)
        cash = self.cash(a)
        while cash < floor - 1e-9:
            live = buys[self.bought[buys] > 0]
            if len(live):
                self._take_off_buy(a, live, floor - cash)
            elif not self._sell_more(a, order, floor - cash):
                raise HouseholdInfeasible(
                    f"account {p.account_ids[a]}: rounding to the custodian's trade sizes cannot keep cash at "
                    f"${floor:,.2f} (${cash:,.2f} after rounding)")
            cash = self.cash(a)
        for s in self._fractional_orders(a):  # a lot the floor's sale emptied can leave a fraction: by more, now
            self._whole_order(a, int(s), self.order_rank, self.trim_rank, grow=True)
        cash = self.cash(a)
        while cash > ceiling + 1e-9:  # invest the excess in the account's live buys, cheapest first
            live = buys[self.bought[buys] > 0]
            prices = p.price_usd[self.buy_security[live]]
            fits = live[prices <= cash - floor] if self.whole[a] else live
            if not len(fits):
                break
            k = fits[np.argmin(p.price_usd[self.buy_security[fits]])]
            price = p.price_usd[self.buy_security[k]]
            more = self.shares(a, cash - ceiling, price)
            self.bought[k] += min(more, np.floor((cash - floor) / price + EPS)) if self.whole[a] else more
            cash = self.cash(a)

    def _fractional_orders(self, a: int) -> np.ndarray:
        """Securities whose sale in whole-share account ``a`` is not whole shares and does not close the position."""
        p = self.p
        if not self.whole[a]:
            return np.array([], dtype=int)
        mine = p.lot_account == a
        total = np.bincount(p.lot_security[mine], weights=self.sold[mine], minlength=p.n_securities)
        held = np.bincount(p.lot_security[mine], weights=p.lot_quantity_shares[mine], minlength=p.n_securities)
        fraction = total - np.floor(total + EPS)
        return np.flatnonzero((total > EPS) & (total < held - EPS) & (fraction > 1e-6))

    def _position_lots(self, a: int, s: int) -> np.ndarray:
        """The lots of account ``a`` in security ``s`` (one sorted index of the household's positions)."""
        p = self.p
        if self._positions is None:
            key = p.lot_account.astype(np.int64) * p.n_securities + p.lot_security
            at = np.argsort(key, kind="stable")
            self._positions = (at, key[at])
        at, keys = self._positions
        k = a * p.n_securities + s
        return at[np.searchsorted(keys, k, "left"):np.searchsorted(keys, k, "right")]

    def _whole_order(self, a: int, s: int, order_rank: np.ndarray, trim_rank: np.ndarray, grow: bool) -> None:
        """A whole-share account's sale of security ``s`` in whole shares unless it closes the position
        (the custodian's order is per position, not per lot: selling a fractional lot whole beside
        other lots is an order it cannot fill). ``grow`` false: the fraction comes off the lots sold
        with a fraction of their own, then the lots costliest in tax per dollar, and what is left is no
        trade below the minimum. ``grow`` true (after the cash floor was met): the sale grows to the
        next whole share from the lots ``order`` allows (``order_rank`` finite), within the budgets,
        else shrinks if the floor still holds."""
        p, sold = self.p, self.sold
        lots = self._position_lots(a, s)
        total, held = float(sold[lots].sum()), float(p.lot_quantity_shares[lots].sum())
        fraction = total - np.floor(total + EPS)
        if total <= EPS or total >= held - EPS or fraction <= 1e-6:
            return
        before = sold[lots].copy()
        if grow:
            need = 1.0 - fraction
            room = lots[np.isfinite(order_rank[lots]) & (sold[lots] < p.lot_quantity_shares[lots] - EPS)]
            for i in room[np.argsort(order_rank[room], kind="stable")]:
                more = min(need, p.lot_quantity_shares[i] - sold[i])
                sold[i] = _snap(sold[i] + more)
                need -= more
                if need <= EPS:
                    break
            if (need <= EPS or sold[lots].sum() >= held - EPS) and _within_budgets(p, sold):
                return
            sold[lots] = before
        left = fraction
        # Lots sold with a fraction of their own first (a reinvested dividend's lot sold whole), so the
        # lots relieved stay whole where they can; then the costliest in tax.
        selling = lots[sold[lots] > 0]
        own_fraction = np.abs(sold[selling] - np.round(sold[selling])) > 1e-6
        for i in selling[np.lexsort((trim_rank[selling], ~own_fraction))]:
            cut = min(left, sold[i])
            sold[i] = _snap(sold[i] - cut)
            left -= cut
            if left <= EPS:
                break
        if 0 < float(sold[lots].sum()) * p.price_usd[s] < self.minimum[a] - 1e-9 and not p.mandated_positions[a, s]:
            sold[lots] = 0.0
        if grow and self.cash(a) < p.cash_floor_usd[a] - 1e-9:
            sold[lots] = before
            raise HouseholdInfeasible(
                f"account {p.account_ids[a]}: {p.security_ids[s]} sells {total:.6f} shares, and neither the next "
                f"whole share (no lot may be sold, or a budget) nor fewer (the cash floor) is possible in whole shares")

    def _take_off_buy(self, a: int, live: np.ndarray, short_usd: float) -> None:
        p = self.p
        k = live[np.argmax(self.bought[live] * p.price_usd[self.buy_security[live]])]
        price = p.price_usd[self.buy_security[k]]
        self.bought[k] = max(self.bought[k] - self.shares(a, short_usd, price), 0.0)
        if self.bought[k] * price < self.minimum[a] and not p.mandated_positions[a, self.buy_security[k]]:
            self.bought[k] = 0.0

    def _sell_more(self, a: int, order: np.ndarray, short_usd: float) -> bool:
        """Sell enough more of one lot (at least the minimum trade of its position) to cover
        ``short_usd``, or one share of it if a budget allows no more; False when no lot can."""
        p, sold = self.p, self.sold
        for i in order[(p.lot_account[order] == a) & (sold[order] < p.lot_quantity_shares[order] - EPS)]:
            price = p.price_usd[p.lot_security[i]]
            same = (p.lot_account == a) & (p.lot_security == p.lot_security[i])
            position_usd = float((sold[same] * price).sum())
            need = max(short_usd, self.minimum[a] - position_usd)
            steps = [self.shares(a, need, price)] + ([1.0] if self.whole[a] else [])
            before = sold[i]
            for step in steps:
                sold[i] = min(before + step, p.lot_quantity_shares[i])
                big_enough = position_usd + (sold[i] - before) * price >= self.minimum[a] - 1e-9
                if (big_enough or p.mandated_positions[a, p.lot_security[i]]) and _within_budgets(p, sold):
                    return True
            sold[i] = before
        return False


def _snap(shares: float) -> float:
    """A share count within 1e-9 of a whole number is that number (a fraction taken off leaves no dust)."""
    whole = round(shares)
    return float(whole) if abs(shares - whole) < 1e-9 else shares


def _within_budgets(p: HouseholdProblem, sold: np.ndarray) -> bool:
    gain = sold * p.price_usd[p.lot_security] - np.divide(sold, p.lot_quantity_shares) * p.lot_basis_usd
    taxable = p.account_taxable[p.lot_account]
    if p.gain_budget_usd is not None and gain[taxable].sum() > p.gain_budget_usd + 1e-6:
        return False
    if p.turnover_budget_usd is not None and (sold * p.price_usd[p.lot_security]).sum() > p.turnover_budget_usd + 1e-6:
        return False
    return p.tax_budget_usd is None or (p.lot_tax_rate * gain).sum() <= p.tax_budget_usd + 1e-6
