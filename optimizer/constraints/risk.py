"""Tracking error in the LP: the factor model's rows, the segments of its squares, and the cap's cuts.

With a risk model (optimizer/risk.py) every security is its own slot, so the security drift rows
give its active dollars after trading, d_s = e⁺_s − e⁻_s = h_s − w_s V (cash is no security: a cash
overweight is the securities' underweight, priced through their market loading). Then

    V² TE² = dᵀ(B F Bᵀ + D)d = Σ_j z_j² + Σ_s D_s d_s²,    z = Lᵀ y,  y = Bᵀ d,  F = L Lᵀ

Rows (this module; B and L as HouseholdProblem.risk_lp_factors writes them: the model's own, or, for
a household with fewer securities than factors, an exact compression to the rank of B L)
    factor exposure   Σ_s B_sk (e⁺_s − e⁻_s) − y_k = 0                         ∀k   (y_k free)
    factor risk       Σ_k L_kj y_k − Σ_i z⁺_ji + Σ_i z⁻_ji = 0                  ∀j
    specific risk     e⁺_s − e⁻_s − Σ_i s⁺_si + Σ_i s⁻_si = 0                   ∀s with D_s > 0
Segments (bounds; no binaries: the slopes increase, so the LP fills the cheap ones first)
    A convex square q·x² of x = x⁺ − x⁻ is split at breakpoints 0 = P_0 < P_1 < … < P_{m−1} (dollars;
    the last segment unbounded): 0 ≤ x±_i ≤ P_{i+1} − P_i, priced (optimizer/terms/risk.py) at the
    secant slope q (P_i + P_{i+1}) per dollar — exact at the breakpoints, above the square in between
    (a cost slightly pessimistic, never flattering), linear beyond the last breakpoint.
    factor z_j:     P = BREAKPOINTS · V (contributions to TE of 0.02 % … 4.9 % of V, geometric by 2.5),
                    q = γT/2V
    specific d_s:   P = SPECIFIC_STEPS · m_s with m_s = max(w_s V, H⁰_s, SPECIFIC_SCALE_FLOOR · V), the
                    size of a position in s (⅛, ¼, ½, 1, 2, 4, 8 of it: a 500-stock index's 0.2 % weights
                    are resolved as finely as an ETF's 30 %), q = γT D_s / 2V
    the polish (SolveParams.risk_polish): P = POLISH_STEPS · |x*| around a first solution x* (where
                    it is beyond the first standard breakpoint), so the secants are exact within 3 % of it
Tracking-error cap (cutting planes, ``cap_cut``; added by optimizer.solve while the cap is broken)
    at the current solution d* with g* = √(‖z*‖² + Σ D d*²) = V·TE*, the tangent of the norm:
        (L z*)ᵀ y / g* + Σ_s D_s d*_s (e⁺_s − e⁻_s) / g* − t ≤ τ V
    valid for every d with TE ≤ τ (Cauchy–Schwarz), so cuts never remove a trade list that meets
    the cap; t ≥ 0 is the cap's slack, priced at CAP_SLACK_COST per dollar so the cap gives way only
    when nothing else can (then it is reported, never silent).
    When the cuts run out (tracking_error_max_cuts: Kelley converges slowly when nothing but the cap
    holds risk back, e.g. γ = 0), one conservative row ends it (``conservative_cap_row``): the segments'
    secant sum, which is never below the variance, held under (τV)²,
        Σ_ji (P_i + P_{i+1}) z±_ji + Σ_si D_s (P_si + P_{s,i+1}) s±_si − 2τV t ≤ (τV)²   (÷ τV to scale)
    — it meets the cap for sure, by giving up a little (at most ~9 % of τ between breakpoints).
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout, RowBlock
from optimizer.problem import HouseholdProblem

# Contributions to TE (fractions of V) where the factor squares bend, and multiples of a position's
# size where the specific ones do; the last segment of each is unbounded.
BREAKPOINTS = np.array([0.0, 0.0002, 0.0005, 0.00125, 0.003125, 0.0078125, 0.01953125, 0.048828125])
SPECIFIC_STEPS = np.array([0.0, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0])
POLISH_STEPS = np.array([0.0, 0.5, 0.8, 0.97, 1.0, 1.03, 1.2, 1.6])
N_SEGMENTS = len(BREAKPOINTS)  # the same for every family of segments (one layout)
SPECIFIC_SCALE_FLOOR = 0.0001  # of V: a security neither held nor modelled still gets a scale
CUT_COEFFICIENT_FLOOR = 1e-7  # relative to a cut's largest coefficient
CAP_SLACK_COST = 100.0  # dollars per dollar of √variance beyond the cap: far above any tax per dollar


def factor_breakpoints_usd(p: HouseholdProblem) -> np.ndarray:
    """P for every z_j (float[R, m]), dollars."""
    standard = np.tile(BREAKPOINTS * p.total_value_usd, (p.risk_lp_factors[1].shape[1], 1))
    return _centred(standard, p.risk_factor_centre_usd)


def specific_breakpoints_usd(p: HouseholdProblem) -> np.ndarray:
    """P for every d_s (float[S, m]), dollars: multiples of the position's size m_s."""
    scale = np.maximum.reduce([p.target_weight * p.total_value_usd, p.holdings_usd.sum(axis=0),
                               np.full(p.n_securities, SPECIFIC_SCALE_FLOOR * p.total_value_usd)])
    return _centred(scale[:, None] * SPECIFIC_STEPS[None, :], p.risk_centre_usd)


def _centred(standard: np.ndarray, centre: np.ndarray | None) -> np.ndarray:
    """The polish: breakpoints around |centre| (POLISH_STEPS of it) where it is well away from zero, so
    the secants are exact at the first solution and within 3 % of it; elsewhere the standard ones."""
    if centre is None:
        return standard
    c = np.abs(centre)[:, None]
    away = c[:, 0] > standard[:, 1]  # beyond the first standard breakpoint
    return np.where(away[:, None], c * POLISH_STEPS[None, :], standard)


def widths(points: np.ndarray) -> np.ndarray:
    """P_{i+1} − P_i per segment, the last unbounded."""
    return np.concatenate([np.diff(points, axis=-1), np.full(points.shape[:-1] + (1,), np.inf)], axis=-1)


def secant_sums(points: np.ndarray) -> np.ndarray:
    """P_i + P_{i+1} per segment: the secant slope of x² (the last segment continues the last step's ratio)."""
    last = points[..., -1:] * points[..., -1:] / np.where(points[..., -2:-1] > 0, points[..., -2:-1], 1.0)
    return points + np.concatenate([points[..., 1:], last], axis=-1)


def risk_bounds(p: HouseholdProblem, lay: Layout, lb: np.ndarray, ub: np.ndarray) -> None:
    if not p.has_risk_model:
        return
    lb[lay.y] = -np.inf
    ub[lay.z_plus] = ub[lay.z_minus] = widths(factor_breakpoints_usd(p)).ravel()
    specific = np.where(p.risk_specific_variance[:, None] > 0, widths(specific_breakpoints_usd(p)), 0.0)
    ub[lay.s_plus] = ub[lay.s_minus] = specific.ravel()  # no specific risk: no segments


def risk_rows(p: HouseholdProblem, lay: Layout) -> RowBlock:
    if not p.has_risk_model:
        empty = np.zeros(0, dtype=np.int64)
        return RowBlock("risk", empty, empty, np.zeros(0), np.zeros(0), np.zeros(0))
    K, R, m, S = lay.n_factors, lay.n_factor_roots, lay.n_segments, lay.n_securities
    e_plus, e_minus = lay.index(lay.e_plus), lay.index(lay.e_minus)
    # factor exposure: rows 0..K−1
    loadings, root = p.risk_lp_factors
    s, k = np.nonzero(loadings)
    b = loadings[s, k]
    rows = [k, k, np.arange(K)]
    cols = [e_plus[s], e_minus[s], lay.index(lay.y)]
    vals = [b, -b, -np.ones(K)]
    # factor risk: rows K..K+R−1
    kk, j = np.nonzero(root)
    segment_root = np.repeat(np.arange(R), m)
    rows += [K + j, K + segment_root, K + segment_root]
    cols += [lay.index(lay.y)[kk], lay.index(lay.z_plus), lay.index(lay.z_minus)]
    vals += [root[kk, j], -np.ones(R * m), np.ones(R * m)]
    # specific risk: one row per security with specific variance
    risky = np.flatnonzero(p.risk_specific_variance > 0)
    row_of = K + R + np.arange(len(risky))
    segments = (risky[:, None] * m + np.arange(m)[None, :]).ravel()
    rows += [row_of, row_of, np.repeat(row_of, m), np.repeat(row_of, m)]
    cols += [e_plus[risky], e_minus[risky], lay.index(lay.s_plus)[segments], lay.index(lay.s_minus)[segments]]
    vals += [np.ones(len(risky)), -np.ones(len(risky)), -np.ones(len(segments)), np.ones(len(segments))]
    n = K + R + len(risky)
    return RowBlock("risk", np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), np.zeros(n), np.zeros(n))


def conservative_cap_row(p: HouseholdProblem, lay: Layout) -> tuple[np.ndarray, float]:
    """The secant form of V²TE² ≤ (τV)², divided by τV (coefficients, upper bound)."""
    tau_v = p.max_tracking_error * p.total_value_usd
    row = np.zeros(lay.n_vars)
    row[lay.z_plus] = row[lay.z_minus] = (secant_sums(factor_breakpoints_usd(p)) / tau_v).ravel()
    specific = p.risk_specific_variance[:, None] * secant_sums(specific_breakpoints_usd(p)) / tau_v
    row[lay.s_plus] = row[lay.s_minus] = specific.ravel()
    row[lay.cap_slack] = -2.0
    return row, tau_v


def active_usd(lay: Layout, x: np.ndarray) -> np.ndarray:
    """d_s = e⁺_s − e⁻_s: each security's dollars above its target after trading (risk mode)."""
    return x[lay.e_plus] - x[lay.e_minus]


def cap_cut(p: HouseholdProblem, lay: Layout, d: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The tangent cut at active dollars d (coefficients over the variables, upper bound τV), or None
    when d carries no risk (nothing to linearize)."""
    loadings, root = p.risk_lp_factors
    y = loadings.T @ d
    z = root.T @ y
    g = float(np.sqrt(z @ z + p.risk_specific_variance @ (d * d)))
    if g <= 0:
        return None
    row = np.zeros(lay.n_vars)
    row[lay.y] = root @ z / g
    specific = p.risk_specific_variance * d / g
    row[lay.e_plus] = specific
    row[lay.e_minus] = -specific
    # Coefficients far below the row's largest are rounding (a security at its target to the cent):
    # left in, they stall GLOP's simplex (measured: 1e-17 entries made it cycle to its time limit).
    row[np.abs(row) < CUT_COEFFICIENT_FLOOR * np.abs(row).max()] = 0.0
    row[lay.cap_slack] = -1.0
    return row, p.max_tracking_error * p.total_value_usd
