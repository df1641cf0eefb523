"""The strategies a simulation compares, each deciding one household's trades on one rebalance date
from the same ``HouseholdProblem`` the daily pipeline builds:

* ``lotwise``: the optimizer (``optimizer.solve``), verified (``optimizer.verify``) before it trades;
* ``naive``: the tax-naive rebalance (``optimizer.naive``): every account to the model, lots FIFO;
* ``buy-and-hold``: cash above the account's floor is invested at the model's weights; a shortfall
  (a withdrawal, a tax payment) is raised by selling every position pro rata, lots FIFO.

The accounts' minimum trade (custodian, mandates, run) binds the naive and buy-and-hold trades as it
binds lotwise's: a position's sales or a buy below it are not made (a sale closing the position is),
and buys are scaled down where a dropped sale leaves the account short of its cash floor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from optimizer.errors import HouseholdInfeasible, SolverFailure
from optimizer.naive import fifo_sales, naive_rebalance
from optimizer.problem import HouseholdProblem, SolveParams
from optimizer.solve import solve_household
from optimizer.verify import verify

Strategy = Literal["lotwise", "naive", "buy-and-hold"]
STRATEGIES: tuple[Strategy, ...] = ("lotwise", "naive", "buy-and-hold")


@dataclass(frozen=True)
class Decision:
    sells: list[tuple[str, float]]  # (lot id, shares)
    buys: list[tuple[str, str, float]]  # (account id, security id, shares)
    infeasible: str | None = None  # why no trade list was found (then none is made, as on the desk)
    washed: dict[str, float] = field(default_factory=dict)  # lot id → loss its partial wash sale disallows, as stated


def decide(strategy: Strategy, p: HouseholdProblem, params: SolveParams) -> Decision:
    if strategy == "naive":
        return _naive(p, params)
    if strategy == "buy-and-hold":
        return _buy_and_hold(p, params)
    try:
        sol = solve_household(p, params)
    except HouseholdInfeasible as exc:  # e.g. a tax payment larger than the cash the rules let it raise
        return Decision([], [], infeasible=str(exc))
    except SolverFailure as exc:  # the daily run withholds such a household; so does the simulation, noted
        return Decision([], [], infeasible=f"solver failure: {exc}")
    problems = verify(sol)
    if problems:
        raise AssertionError(f"household {p.household_id} on {p.as_of}: verification failed: {'; '.join(problems[:3])}")
    sold = sol.lot_sold_shares
    return Decision([(str(p.lot_ids[i]), float(sold[i])) for i in np.flatnonzero(sold > 0)],
                    [(str(p.account_ids[a]), str(p.security_ids[s]), float(q))
                     for a, s, q in zip(sol.buy_account, sol.buy_security, sol.buy_shares) if q > 0],
                    washed={str(p.lot_ids[i]): float(sol.lot_disallowed_usd[i]) for i in np.flatnonzero(sol.lot_disallowed_usd > 0)})


def _from_dollars(p: HouseholdProblem, lot_sold_usd: np.ndarray, buy_usd: np.ndarray, params: SolveParams) -> Decision:
    minimum = p.account_min_trade_usd(params)
    if minimum.any():
        lot_sold_usd, buy_usd = _at_least(p, lot_sold_usd, buy_usd, minimum)
    price_lot = p.price_usd[p.lot_security]
    whole = np.isclose(lot_sold_usd, p.lot_value_usd, rtol=0, atol=1e-6)
    shares = np.where(whole, p.lot_quantity_shares, lot_sold_usd / price_lot)
    buys = [(str(p.account_ids[a]), str(p.security_ids[s]), float(buy_usd[a, s] / p.price_usd[s]))
            for a, s in np.argwhere(buy_usd > 0.005)]
    return Decision([(str(p.lot_ids[i]), float(shares[i])) for i in np.flatnonzero(lot_sold_usd > 0.005)], buys)


def _at_least(p: HouseholdProblem, lot_sold_usd: np.ndarray, buy_usd: np.ndarray,
              minimum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The trades without those below the account's minimum (a closing sale stays), buys scaled down
    where the account would fall short of its cash floor."""
    position = p.lot_account * p.n_securities + p.lot_security
    n = p.n_accounts * p.n_securities
    sold = np.bincount(position, weights=lot_sold_usd, minlength=n)
    closes = sold >= np.bincount(position, weights=p.lot_value_usd, minlength=n) - 0.005
    small = (sold < np.repeat(minimum, p.n_securities)) & ~closes
    lot_sold_usd = np.where(small[position], 0.0, lot_sold_usd)
    buy_usd = np.where(buy_usd < minimum[:, None], 0.0, buy_usd)
    cash = p.cash_usd + np.bincount(p.lot_account, weights=lot_sold_usd, minlength=p.n_accounts)
    room = np.maximum(cash - p.cash_floor_usd, 0.0)
    spend = buy_usd.sum(axis=1)
    scale = np.divide(room, spend, out=np.ones(p.n_accounts), where=spend > room)
    buy_usd = buy_usd * np.minimum(scale, 1.0)[:, None]
    return lot_sold_usd, np.where(buy_usd < minimum[:, None], 0.0, buy_usd)  # scaled below it: dropped too


def _naive(p: HouseholdProblem, params: SolveParams) -> Decision:
    r = naive_rebalance(p)
    return _from_dollars(p, r.lot_sold_usd, r.buy_usd, params)


def _buy_and_hold(p: HouseholdProblem, params: SolveParams) -> Decision:
    holdings = p.holdings_usd
    spare = p.cash_usd - p.cash_floor_usd  # per account: investable (> 0) or to raise (< 0)
    weights = p.target_weight / p.target_weight.sum() if p.target_weight.sum() > 0 else np.zeros(p.n_securities)
    buy = np.where(spare[:, None] > 0, spare[:, None] * weights[None, :], 0.0)
    held = holdings.sum(axis=1)
    fraction = np.divide(np.maximum(-spare, 0.0), held, out=np.zeros(p.n_accounts), where=held > 0)
    sold = fifo_sales(p, holdings * np.minimum(fraction, 1.0)[:, None])
    return _from_dollars(p, sold, buy, params)
