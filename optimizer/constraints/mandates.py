"""Security restrictions and favoured holdings (data_contracts.mandates), per account or household.

never buy     v_{a,s} = 0                         (bounds) for (a, s) with buy_forbidden
never sell    u_l = 0 for every lot l in (a, s)   (bounds) for (a, s) with sell_forbidden
never hold    H⁰_{a,s} − Σ_{l∈(a,s)} u_l + v_{a,s} ≤ M_{a,s}      (a row per restricted (a, s))
              M_{a,s} = H⁰_{a,s} d / (d + 1) with d the days left to its sell_by date (0 on or after
              it, or without one): run after run, holdings fall in a straight line in shares to zero on
              sell_by, whatever the runs' cadence; the LP picks the cheapest lots to get there and may
              sell faster when that pays (never hold implies never buy)
hold at least Σ_{a∈A_k} (H⁰_{a,s_k} − Σ_{l∈(a,s_k)} u_l + v_{a,s_k}) ≥ K_k   (a row per favoured k;
              A_k is the household's accounts, or the one account the mandate names)
sector cap    Σ_{s∈g} Σ_a (H⁰_{a,s} − Σ_{l∈(a,s)} u_l + v_{a,s}) ≤ Q_g = max weight × V   (a row per cap g,
              a sector or an industry)
Screens (sector, industry, tag rules) arrive here as never-hold rows per security they match.
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout, RowBlock
from optimizer.problem import HouseholdProblem


def restriction_bounds(p: HouseholdProblem, lay: Layout, lb: np.ndarray, ub: np.ndarray) -> None:
    if p.buy_forbidden is not None:
        v = ub[lay.v]
        v[p.buy_forbidden[lay.buy_account, lay.buy_security]] = 0.0
        ub[lay.v] = v
    if p.sell_forbidden is not None:
        u = ub[lay.u]
        u[p.sell_forbidden[p.lot_account, p.lot_security]] = 0.0
        ub[lay.u] = u


def _holding_row(p: HouseholdProblem, lay: Layout, accounts: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns and coefficients of −Σ u_l + Σ v over lots and buys of ``s`` in ``accounts``."""
    lots = np.flatnonzero((p.lot_security == s) & np.isin(p.lot_account, accounts))
    buys = np.flatnonzero((lay.buy_security == s) & np.isin(lay.buy_account, accounts))
    cols = np.concatenate([lay.index(lay.u)[lots], lay.index(lay.v)[buys]])
    vals = np.concatenate([-np.ones(len(lots)), np.ones(len(buys))])
    return cols, vals


def holding_limit_rows(p: HouseholdProblem, lay: Layout) -> RowBlock:
    rows, cols, vals, lo, hi = [], [], [], [], []
    if p.max_holding_usd is None and p.hold_min_security is None and p.group_cap_members is None:
        return RowBlock("holding limits", np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0),
                        np.zeros(0), np.zeros(0))
    held = p.holdings_usd
    limits = [] if p.max_holding_usd is None else list(zip(*np.nonzero(np.isfinite(p.max_holding_usd))))
    for a, s in limits:
        c, v = _holding_row(p, lay, np.array([a]), s)
        rows.append(np.full(len(c), len(lo))), cols.append(c), vals.append(v)
        lo.append(-np.inf), hi.append(p.max_holding_usd[a, s] - held[a, s])
    for account, s, amount in zip(*(() if p.hold_min_security is None else
                                     (p.hold_min_account, p.hold_min_security, p.hold_min_usd))):
        scope = np.arange(p.n_accounts) if account < 0 else np.array([account])
        c, v = _holding_row(p, lay, scope, s)
        rows.append(np.full(len(c), len(lo))), cols.append(c), vals.append(v)
        lo.append(amount - held[scope, s].sum()), hi.append(np.inf)
    everyone = np.arange(p.n_accounts)
    for members, cap in zip(*(() if p.group_cap_members is None else (p.group_cap_members, p.group_cap_usd))):
        parts = [_holding_row(p, lay, everyone, s) for s in np.flatnonzero(members)]
        c = np.concatenate([x[0] for x in parts]) if parts else np.zeros(0, dtype=np.int64)
        v = np.concatenate([x[1] for x in parts]) if parts else np.zeros(0)
        rows.append(np.full(len(c), len(lo))), cols.append(c), vals.append(v)
        lo.append(-np.inf), hi.append(cap - held[:, members].sum())
    empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
    return RowBlock("holding limits",
                    rows=np.concatenate(rows) if rows else empty_i, cols=np.concatenate(cols) if cols else empty_i,
                    vals=np.concatenate(vals) if vals else empty_f, lb=np.array(lo, dtype=float), ub=np.array(hi, dtype=float))
