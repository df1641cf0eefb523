"""Independent re-check of a household's trades before anything is written.

It works from the trade list in shares and the problem's raw data, not from LP variables, so a
bug in the formulation or in reading the solution is caught here rather than at the custodian.
"""

from __future__ import annotations

import numpy as np

from optimizer.ledger.partial_wash import disallowed_loss_usd
from optimizer.ledger.proof import wash_sales_created
from optimizer.problem import SolveParams
from optimizer.result import HouseholdSolution, tracking_error_after

CASH_TOLERANCE_USD = 0.01  # dust trades (< 1 cent) dropped after solving may move cash by this much
SHARE_TOLERANCE = 1e-9
BUDGET_TOLERANCE_USD = 0.01
TRACKING_ERROR_TOLERANCE = SolveParams().tracking_error_tolerance  # the default relative tolerance on a cap


def verify(sol: HouseholdSolution) -> list[str]:
    """Every rule the trades break, in words; empty when all hold."""
    p = sol.problem
    sold = sol.lot_sold_shares
    problems: list[str] = []

    over = sold > p.lot_quantity_shares * (1 + SHARE_TOLERANCE)
    problems += [f"lot {p.lot_ids[i]} oversold: {sold[i]:.6f} of {p.lot_quantity_shares[i]:.6f} shares" for i in np.flatnonzero(over)]
    problems += [f"lot {p.lot_ids[i]}: negative sale" for i in np.flatnonzero(sold < 0)]
    problems += [
        f"buy of {p.security_ids[s]} in {p.account_ids[a]}: not a positive amount"
        for a, s in zip(sol.buy_account[sol.buy_shares <= 0], sol.buy_security[sol.buy_shares <= 0])
    ]

    problems += _trade_size_problems(sol, sold)

    price = p.price_usd
    proceeds = np.bincount(p.lot_account, weights=sold * price[p.lot_security], minlength=p.n_accounts)
    cost = np.bincount(sol.buy_account, weights=sol.buy_shares * price[sol.buy_security], minlength=p.n_accounts)
    cash_after = p.cash_usd + proceeds - cost
    floor, ceiling = p.cash_floor_usd, p.cash_ceiling_usd
    problems += [
        f"account {p.account_ids[a]}: cash after trading ${cash_after[a]:,.2f} below minimum ${floor[a]:,.2f}"
        for a in np.flatnonzero(cash_after < floor - CASH_TOLERANCE_USD)
    ]
    problems += [
        f"account {p.account_ids[a]}: cash after trading ${cash_after[a]:,.2f} above maximum ${ceiling[a]:,.2f}"
        for a in np.flatnonzero(cash_after > ceiling + CASH_TOLERANCE_USD)
    ]

    # Budgets, from the trades.
    if not p.budgets_soft:  # soft budgets: the relaxation gave them way and reports by how much (review queue)
        problems += [f"{name} exceeds the {budget}" for name, budget, _ in budget_overshoots(sol, BUDGET_TOLERANCE_USD)]

    problems += _mandate_problems(sol, sold)
    problems += _tracking_error_problems(sol)

    not_buyable = ~p.buyable[sol.buy_security]
    problems += [f"buy of {p.security_ids[s]}: not in the household's model nor a substitute for it"
                 for s in sol.buy_security[not_buyable]]

    # Wash sales, across every account of the household (identical groups, not just tickers).
    group = p.identical_group
    blocked_groups = set(group[p.buy_blocked].tolist())
    problems += [
        f"buy of {p.security_ids[s]}: sold at a loss within the last 30 days (wash sale)"
        for s in sol.buy_security if group[s] in blocked_groups
    ]
    # A loss sale is a sale of a lot whose basis exceeds its value, the LP's own test: the pro-rata
    # gain of a break-even lot (one bought today at today's price) is ±1e-13 of float noise, not a loss.
    # Only a taxable loss counts: a loss inside an IRA has no tax effect, so it washes nothing.
    loss_sale = (sold > 0) & (p.lot_basis_usd > p.lot_value_usd) & p.account_taxable[p.lot_account]
    # An older lot of a group bought within 30 days may be sold as a partial wash sale: the ledger
    # proof below checks the loss it disallows is the one the solution states.
    problems += [
        f"loss sale of lot {p.lot_ids[i]} ({p.security_ids[p.lot_security[i]]}): bought within the last 30 days (wash sale)"
        for i in np.flatnonzero(loss_sale & p.lot_loss_sale_window & ~p.lot_partly_washable)
    ]
    # ... and then keeps its replacement shares through the run: sold today, they would carry the
    # washed loss in their basis back into this year, which the stated amounts do not follow.
    washed_groups = set(group[p.lot_security[loss_sale & p.lot_partly_washable]].tolist())
    problems += [
        f"sale of lot {p.lot_ids[i]} ({p.security_ids[p.lot_security[i]]}): a replacement of this run's partial wash sale"
        for i in np.flatnonzero((sold > 0) & (p.lot_age_days <= 30)) if group[p.lot_security[i]] in washed_groups
    ]
    both = set(group[sol.buy_security].tolist()) & set(group[p.lot_security[loss_sale]].tolist())
    problems += [
        f"{', '.join(p.security_ids[group == g])}: bought and sold at a loss in the same run (wash sale)" for g in sorted(both)
    ]
    if not problems:  # the rules above hold: prove it once more through the tax-lot ledger
        problems += wash_sales_created(sol)
    return problems


def budget_overshoots(sol: HouseholdSolution, tolerance_usd: float = 0.0) -> list[tuple[str, str, float]]:
    """(what, which budget, dollars over) for every budget the trades exceed by more than ``tolerance_usd``,
    from the trade list: recognized gain = proceeds − pro-rata basis of the shares sold + the loss a
    partial wash sale disallows (no loss this year)."""
    p = sol.problem
    sold = sol.lot_sold_shares
    price = p.price_usd
    gain = sold * price[p.lot_security] - np.divide(sold, p.lot_quantity_shares) * p.lot_basis_usd
    gain = gain + disallowed_loss_usd(p, sold)
    taxable = p.account_taxable[p.lot_account]
    out = []
    net_gain = float(gain[taxable].sum())
    if p.gain_budget_usd is not None and net_gain > p.gain_budget_usd + tolerance_usd:
        out.append((f"net realized gain ${net_gain:,.2f}", f"gain budget ${p.gain_budget_usd:,.2f}",
                    net_gain - p.gain_budget_usd))
    tax = float((p.lot_tax_rate * gain).sum())
    if p.tax_budget_usd is not None and tax > p.tax_budget_usd + tolerance_usd:
        out.append((f"estimated tax ${tax:,.2f}", f"tax budget ${p.tax_budget_usd:,.2f}", tax - p.tax_budget_usd))
    traded = float((sold * price[p.lot_security]).sum())
    what = "sold"
    if p.turnover_counts_buys:
        traded += float((sol.buy_shares * price[sol.buy_security]).sum())
        what = "bought and sold"
    if p.turnover_budget_usd is not None and traded > p.turnover_budget_usd + tolerance_usd:
        out.append((f"${traded:,.2f} {what}", f"turnover budget ${p.turnover_budget_usd:,.2f}",
                    traded - p.turnover_budget_usd))
    return out


def _tracking_error_problems(sol: HouseholdSolution) -> list[str]:
    """TE after the trades, recomputed from the problem's risk model, against the household's cap (met
    to the run's tolerance, plus what rounding to whole shares moved); a cap the solve reported as
    given way is the review queue's, not a failure."""
    p = sol.problem
    te = tracking_error_after(sol)
    if te is None or p.max_tracking_error is None or sol.cap_given_way:
        return []
    allowed = p.max_tracking_error * (1 + sol.tracking_error_tolerance) + sol.rounding_tracking_error + 1e-9
    if te <= allowed:
        return []
    return [f"tracking error {te:.4%} after trading exceeds the cap {p.max_tracking_error:.4%}"]


def _trade_size_problems(sol: HouseholdSolution, sold: np.ndarray) -> list[str]:
    """Whole shares where the account takes no fractions — each buy, and each order, a position's sale,
    unless it closes the position (the lots it relieves may carry fractions: holdings are fractional
    after reinvested dividends, and the custodian relieves lots in whatever shares the order says) —
    and no trade below the account's minimum, per security and side, unless a hard mandate makes it
    trade today."""
    p = sol.problem
    out: list[str] = []
    n = p.n_accounts * p.n_securities
    position = p.lot_account * p.n_securities + p.lot_security
    order_shares = np.bincount(position, weights=sold, minlength=n)
    closes = order_shares >= np.bincount(position, weights=p.lot_quantity_shares, minlength=n) - SHARE_TOLERANCE
    if sol.whole_share_accounts is not None:
        whole = sol.whole_share_accounts
        fractional = (order_shares > 0) & ~closes & np.repeat(whole, p.n_securities) \
            & (np.abs(order_shares - np.round(order_shares)) > 1e-6)
        out += [f"sale of {p.security_ids[k % p.n_securities]} in {p.account_ids[k // p.n_securities]}: "
                f"{order_shares[k]:.6f} shares is not a whole number and does not close the position"
                for k in np.flatnonzero(fractional)]
        fractional_buy = whole[sol.buy_account] & (np.abs(sol.buy_shares - np.round(sol.buy_shares)) > 1e-6)
        out += [f"buy of {p.security_ids[s]} in {p.account_ids[a]}: {q:.6f} is not a whole number of shares"
                for a, s, q in zip(sol.buy_account[fractional_buy], sol.buy_security[fractional_buy],
                                   sol.buy_shares[fractional_buy])]
    if p.min_trade_usd is None:  # verify sees no run parameters: the pipeline states every account's minimum
        return out
    minimum = p.min_trade_usd
    sold_usd = np.bincount(position, weights=sold * p.price_usd[p.lot_security], minlength=n)
    exempt = p.mandated_positions.ravel()  # what a hard mandate makes trade today
    small = np.flatnonzero((sold_usd > 0) & (sold_usd < np.repeat(minimum, p.n_securities) - CASH_TOLERANCE_USD) & ~exempt)
    out += [f"sale of {p.security_ids[k % p.n_securities]} in {p.account_ids[k // p.n_securities]}: ${sold_usd[k]:,.2f} "
            f"is below the account's minimum trade ${minimum[k // p.n_securities]:,.2f}" for k in small]
    buy_usd = sol.buy_shares * p.price_usd[sol.buy_security]
    small = np.flatnonzero((buy_usd < minimum[sol.buy_account] - CASH_TOLERANCE_USD)
                           & ~p.mandated_positions[sol.buy_account, sol.buy_security])
    out += [f"buy of {p.security_ids[sol.buy_security[k]]} in {p.account_ids[sol.buy_account[k]]}: ${buy_usd[k]:,.2f} "
            f"is below the account's minimum trade ${minimum[sol.buy_account[k]]:,.2f}" for k in small]
    return out


def _mandate_problems(sol: HouseholdSolution, sold: np.ndarray) -> list[str]:
    """Security restrictions and favoured holdings, from the trade list. With whole shares a limit in
    dollars can only be met to within one share: that much slack is allowed, and no more."""
    p = sol.problem
    out: list[str] = []
    if p.buy_forbidden is not None:
        out += [f"buy of {p.security_ids[s]} in {p.account_ids[a]}: a mandate forbids buying it"
                for a, s in zip(sol.buy_account, sol.buy_security) if p.buy_forbidden[a, s]]
    if p.sell_forbidden is not None:
        out += [f"sale of lot {p.lot_ids[i]} ({p.security_ids[p.lot_security[i]]}): a mandate forbids selling it"
                for i in np.flatnonzero((sold > 0) & p.sell_forbidden[p.lot_account, p.lot_security])]
    if p.max_holding_usd is None and p.hold_min_security is None and p.group_cap_members is None:
        return out
    held = p.holdings_usd
    np.add.at(held, (p.lot_account, p.lot_security), -sold * p.price_usd[p.lot_security])
    np.add.at(held, (sol.buy_account, sol.buy_security), sol.buy_shares * p.price_usd[sol.buy_security])
    # One share of slack where some account trades whole shares (a household-wide limit spans accounts).
    some_whole = sol.whole_share_accounts is not None and sol.whole_share_accounts.any()
    slack = p.price_usd if some_whole else np.full(p.n_securities, CASH_TOLERANCE_USD)
    if p.max_holding_usd is not None:
        over = np.argwhere(held > p.max_holding_usd + slack[None, :])
        out += [f"{p.security_ids[s]} in {p.account_ids[a]}: ${held[a, s]:,.2f} held after trading, more than the "
                f"${p.max_holding_usd[a, s]:,.2f} its never-hold mandate allows today" for a, s in over]
    if p.hold_min_security is not None:
        for a, s, amount in zip(p.hold_min_account, p.hold_min_security, p.hold_min_usd):
            have = held[:, s].sum() if a < 0 else held[a, s]
            if have < amount - slack[s]:
                where = "the household" if a < 0 else p.account_ids[a]
                out.append(f"{p.security_ids[s]}: ${have:,.2f} held in {where} after trading, less than the "
                           f"${amount:,.2f} its mandate requires")
    if p.group_cap_members is not None:
        for name, members, cap in zip(p.group_cap_names, p.group_cap_members, p.group_cap_usd):
            have = held[:, members].sum()
            if have > cap + (slack[members].max() if members.any() else 0.0):
                out.append(f"{name}: ${have:,.2f} held after trading, more than its cap ${cap:,.2f}")
    return out
