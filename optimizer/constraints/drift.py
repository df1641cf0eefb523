"""Drift balance rows: holdings after trading minus target equals d⁺ − d⁻.

class drift     Σ_{s∈c} (H⁰_s − Σ_{l∈s} u_l + Σ_a v_{a,s}) − d⁺_c + d⁻_c = W_c V     c ≠ cash
                C⁰ + Σ_l u_l − Σ v − d⁺_cash + d⁻_cash = W_cash V
security drift  Σ_{s: σ(s)=t} (H⁰_s − Σ_{l∈s} u_l + Σ_a v_{a,s}) − e⁺_t + e⁻_t = w_t V   (one row per slot t;
                a substitute counts toward its primary; rows of unused slots only hold e±; with a risk
                model every security is its own slot: HouseholdProblem.lp_slot)
Known holdings move to the right-hand side.
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout, RowBlock
from optimizer.problem import HouseholdProblem


def class_drift_rows(p: HouseholdProblem, lay: Layout) -> RowBlock:
    C, cash = lay.n_classes, p.cash_class
    lot_class = p.security_class[p.lot_security]
    buy_class = p.security_class[lay.buy_security]
    held = np.bincount(lot_class, weights=p.lot_value_usd, minlength=C)
    held[cash] += p.cash_usd.sum()
    rhs = p.class_target_weight * p.total_value_usd - held
    rows = np.concatenate([lot_class, np.full(lay.n_lots, cash), buy_class, np.full(lay.n_buys, cash),
                           np.arange(C), np.arange(C)])
    cols = np.concatenate([lay.index(lay.u), lay.index(lay.u), lay.index(lay.v), lay.index(lay.v),
                           lay.index(lay.d_plus), lay.index(lay.d_minus)])
    vals = np.concatenate([-np.ones(lay.n_lots), np.ones(lay.n_lots), np.ones(lay.n_buys), -np.ones(lay.n_buys),
                           -np.ones(C), np.ones(C)])
    return RowBlock("class_drift", rows, cols, vals, rhs, rhs)


def security_drift_rows(p: HouseholdProblem, lay: Layout) -> RowBlock:
    S, slot = lay.n_securities, p.lp_slot
    held = np.bincount(slot[p.lot_security], weights=p.lot_value_usd, minlength=S)
    rhs = np.bincount(slot, weights=p.target_weight, minlength=S) * p.total_value_usd - held
    rows = np.concatenate([slot[p.lot_security], slot[lay.buy_security], np.arange(S), np.arange(S)])
    cols = np.concatenate([lay.index(lay.u), lay.index(lay.v), lay.index(lay.e_plus), lay.index(lay.e_minus)])
    vals = np.concatenate([-np.ones(lay.n_lots), np.ones(lay.n_buys), -np.ones(S), np.ones(S)])
    return RowBlock("security_drift", rows, cols, vals, rhs, rhs)
