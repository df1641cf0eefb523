"""What a household's solve decided, in dollars and shares, with the derived figures reports need."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from optimizer.ledger.partial_wash import disallowed_loss_usd
from optimizer.problem import HouseholdProblem


@dataclass(frozen=True)
class HouseholdSolution:
    problem: HouseholdProblem
    lot_sold_usd: np.ndarray  # float[L], u_l after removing solver dust
    buy_account: np.ndarray  # int[K] accounts of the buys (only nonzero buys)
    buy_security: np.ndarray  # int[K]
    buy_usd: np.ndarray  # float[K]
    objective: float
    passes: int  # LP solves it took (wash-sale direction fixing, drift-first)
    # Share counts when they are exact (whole shares); None: derived from the dollar amounts
    sold_shares: np.ndarray | None = None  # float[L]
    bought_shares: np.ndarray | None = None  # float[K]
    whole_share_accounts: np.ndarray | None = None  # bool[A]: accounts traded in whole shares (None: none)
    solver_seconds: float = 0.0  # time inside the solver, for the optimizer-overhead ratio
    cuts: int = 0  # tracking-error cutting planes it took
    notes: tuple[str, ...] = ()  # what the desk must know (a cap not met, a budget that gave way), in words
    cap_given_way: bool = False  # the tracking-error cap could not be held (a note says why)
    rounding_tracking_error: float = 0.0  # TE of the move from the LP's amounts to whole shares (verify allows it)
    tracking_error_tolerance: float = 0.005  # the run's relative tolerance on the cap (SolveParams)

    @property
    def whole_shares(self) -> bool:
        """Every account's trades are whole shares."""
        return self.whole_share_accounts is not None and bool(self.whole_share_accounts.all())

    @property
    def lot_sold_shares(self) -> np.ndarray:
        if self.sold_shares is not None:
            return self.sold_shares
        p = self.problem
        shares = self.lot_sold_usd / p.price_usd[p.lot_security]
        # A lot sold to within a cent of its value is sold whole: no 1e-9-share remnants.
        whole = (self.lot_sold_usd > 0) & np.isclose(self.lot_sold_usd, p.lot_value_usd, rtol=0, atol=0.01)
        return np.where(whole, p.lot_quantity_shares, shares)

    @property
    def buy_shares(self) -> np.ndarray:
        if self.bought_shares is not None:
            return self.bought_shares
        return self.buy_usd / self.problem.price_usd[self.buy_security]

    @property
    def holdings_after_usd(self) -> np.ndarray:
        p = self.problem
        h = p.holdings_usd
        np.add.at(h, (p.lot_account, p.lot_security), -self.lot_sold_usd)
        np.add.at(h, (self.buy_account, self.buy_security), self.buy_usd)
        return h

    @property
    def cash_after_usd(self) -> np.ndarray:
        p = self.problem
        sold = np.bincount(p.lot_account, weights=self.lot_sold_usd, minlength=p.n_accounts)
        bought = np.bincount(self.buy_account, weights=self.buy_usd, minlength=p.n_accounts)
        return p.cash_usd + sold - bought

    @property
    def realized_gain_usd(self) -> np.ndarray:
        """Per lot: proceeds − pro-rata basis of the shares sold."""
        p = self.problem
        fraction = self.lot_sold_shares / p.lot_quantity_shares
        return self.lot_sold_usd - fraction * p.lot_basis_usd

    @cached_property
    def lot_disallowed_usd(self) -> np.ndarray:
        """Per lot: loss a partial wash sale disallows (it moves into the replacement shares' basis)."""
        return disallowed_loss_usd(self.problem, self.lot_sold_shares)

    @property
    def recognized_gain_usd(self) -> np.ndarray:
        """Per lot: realized gain + disallowed loss, what is taxed this year (Form 8949, column g)."""
        return self.realized_gain_usd + self.lot_disallowed_usd


def drift(p: HouseholdProblem, holdings_usd: np.ndarray, cash_usd: np.ndarray) -> tuple[float, float]:
    """(class drift, security drift): ½ Σ |weight − target| over classes and over securities."""
    total = holdings_usd.sum() + cash_usd.sum()
    if total <= 0:
        return 0.0, 0.0
    by_security = holdings_usd.sum(axis=0)
    by_class = np.bincount(p.security_class, weights=by_security, minlength=len(p.class_names))
    by_class[p.cash_class] += cash_usd.sum()
    class_drift = 0.5 * np.abs(by_class / total - p.class_target_weight).sum()
    # Securities measured by slot: a substitute counts toward its primary, as in the LP.
    by_slot = np.bincount(p.slot, weights=by_security, minlength=p.n_securities)
    slot_target = np.bincount(p.slot, weights=p.target_weight, minlength=p.n_securities)
    cash_gap = abs(cash_usd.sum() / total - p.class_target_weight[p.cash_class])
    security_drift = 0.5 * (np.abs(by_slot / total - slot_target).sum() + cash_gap)
    return float(class_drift), float(security_drift)


def active_after_usd(sol: HouseholdSolution) -> np.ndarray:
    """d_s: each security's dollars above its target after the trades, across the household's accounts."""
    p = sol.problem
    return sol.holdings_after_usd.sum(axis=0) - p.target_weight * p.total_value_usd


def tracking_error_before(p: HouseholdProblem) -> float | None:
    """Ex-ante TE of the household as it stands, from the problem's risk model (None without one)."""
    if not p.has_risk_model:
        return None
    active = p.holdings_usd.sum(axis=0) - p.target_weight * p.total_value_usd
    return p.tracking_error_of(active)


def tracking_error_after(sol: HouseholdSolution) -> float | None:
    """Ex-ante TE of the household after its trades, from the problem's risk model (None without one)."""
    p = sol.problem
    if not p.has_risk_model:
        return None
    return p.tracking_error_of(active_after_usd(sol))
