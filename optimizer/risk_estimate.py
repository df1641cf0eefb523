"""A risk model estimated from a trailing window of daily returns (what the simulator uses when all
it has is a price file).

The estimator, step by step (returns are daily simple returns, fractions):

1. **Window.** The last ``window_days`` rows (default 252, one trading year). A security needs at
   least ``min_days`` returns in the window (default 60, about a quarter: with fewer, a sample
   variance is off by ±18 % or more at one standard error, √(2/60)); one with fewer is left out of
   the model — ``RiskModel.for_securities`` then gives it its documented proxy — and with no
   security left ``InsufficientHistory`` says how many days there were.
2. **Missing returns** (NaN: before a ticker's first close; a price file's interior gaps are carried
   forward, i.e. zero returns, by ``data_contracts.price_history``) are handled pairwise: each
   security is demeaned over its own days, and each moment of a pair is averaged over the days both
   have (the pairwise-complete estimator; with no gap it is the ordinary one).
3. **Shrinkage.** The sample covariance S (1/n normalization, as Ledoit and Wolf) is shrunk toward
   the constant-correlation target Φ (Φ_ii = s_ii, Φ_ij = r̄ √(s_ii s_jj), r̄ the mean pairwise sample
   correlation): Σ̂ = δ Φ + (1 − δ) S, with the Ledoit–Wolf (2004, "Honey, I shrunk the sample
   covariance matrix") closed-form intensity δ = max(0, min(1, (π̂ − ρ̂) / γ̂ / n)),
       π̂ = Σ_ij mean_t (x_ti x_tj − s_ij)²,
       ρ̂ = Σ_i π̂_ii + r̄ Σ_{i≠j} √(s_jj / s_ii) θ̂_ij,   θ̂_ij = mean_t (x_ti² − s_ii)(x_ti x_tj − s_ij),
       γ̂ = ‖S − Φ‖²_F,
   n the mean number of returns per security (the window's length when none is missing).
4. **Factors.** Σ̂'s eigen-decomposition, largest first; K = min(``max_factors`` (default 5), N − 1)
   principal components whose eigenvalue is positive become the factors (with N − 1 at most, some of
   every security's variance stays specific). Scaled so the first factor reads as the market:
   B = V_K √N, F = diag(λ_K) / N (a security loads about 1 on a market-like first component, and
   F_11 is the variance of that component's equal-weighted mean return), hence B F Bᵀ = V_K Λ_K V_Kᵀ,
   exactly Σ̂'s top-K part. Each eigenvector's sign is fixed (its entries sum ≥ 0, else its largest
   entry positive), so the same returns give the same model on every run.
5. **Specific variance** D_i = Σ̂_ii − (B F Bᵀ)_ii, floored at ``min_specific_variance`` (default
   (1 %)² a year: no security is modelled as perfectly explained by the factors).
6. **Annualized**: × ``periods_per_year`` (252) on F and D.

Pure numpy; deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from optimizer.risk import RiskModel

TRADING_DAYS_PER_YEAR = 252
WINDOW_DAYS = 252
MIN_DAYS = 60
MAX_FACTORS = 5
MIN_SPECIFIC_VARIANCE = 0.01 ** 2  # annual: 1 % specific volatility at least


class InsufficientHistory(ValueError):
    """No security has enough returns in the window to estimate a model."""


def estimate_risk_model(security_ids: Sequence[str], returns: np.ndarray, *, window_days: int = WINDOW_DAYS,
                        min_days: int = MIN_DAYS, max_factors: int = MAX_FACTORS,
                        min_specific_variance: float = MIN_SPECIFIC_VARIANCE,
                        periods_per_year: int = TRADING_DAYS_PER_YEAR) -> RiskModel:
    """The factor model of the module docstring from ``returns`` (float[T, N], daily simple returns,
    NaN where missing; the last row is the newest). Securities with fewer than ``min_days`` returns
    in the window are not in the model; raises ``InsufficientHistory`` when none has enough."""
    returns = np.asarray(returns, dtype=float)
    ids = np.asarray(list(security_ids), dtype=object)
    if returns.ndim != 2 or returns.shape[1] != len(ids):
        raise ValueError(f"returns are {returns.shape}, expected (days, {len(ids)})")
    window = returns[-window_days:] if window_days > 0 else returns[:0]
    valid = np.isfinite(window)
    kept = valid.sum(axis=0) >= min_days
    if not kept.any():
        most = int(valid.sum(axis=0).max(initial=0))
        raise InsufficientHistory(f"a risk model needs {min_days} daily returns of a security; the most any has "
                                  f"in the last {window_days} days is {most}")
    covariance, _ = shrunk_covariance(window[:, kept])
    loadings, factor_cov, specific = principal_factors(covariance, max_factors, min_specific_variance / periods_per_year)
    k = loadings.shape[1]
    return RiskModel(ids[kept], tuple(f"pc{i + 1}" for i in range(k)), loadings,
                     factor_cov * periods_per_year, specific * periods_per_year)


def shrunk_covariance(returns: np.ndarray) -> tuple[np.ndarray, float]:
    """(Σ̂, δ): the pairwise sample covariance of ``returns`` (float[T, N], NaN where missing) shrunk
    toward its constant-correlation target with the Ledoit–Wolf intensity δ (module docstring, step 3).
    Every column needs at least two returns."""
    valid = np.isfinite(returns)
    counts = valid.sum(axis=0).astype(float)
    if (counts < 2).any():
        raise ValueError("every security needs at least two returns")
    means = np.where(valid, returns, 0.0).sum(axis=0) / counts
    x = np.where(valid, returns - means, 0.0)  # a missing day contributes nothing to any moment
    v = valid.astype(float)
    pairs = np.maximum(v.T @ v, 1.0)  # days each pair has in common (a pair with none: moments 0)
    sample = (x.T @ x) / pairs
    var = np.diag(sample).copy()
    n = sample.shape[0]
    if n == 1:
        return sample, 0.0
    sd = np.sqrt(np.maximum(var, 0.0))
    live = sd > 0  # a security whose price never moved has no correlation to speak of
    outer = np.outer(sd, sd)
    corr = np.divide(sample, outer, out=np.zeros_like(sample), where=outer > 0)
    off = ~np.eye(n, dtype=bool) & np.outer(live, live)
    r_bar = float(corr[off].mean()) if off.any() else 0.0
    target = r_bar * outer
    np.fill_diagonal(target, var)
    # π̂_ij = mean_t (x_ti x_tj)² − s_ij²;  θ̂_ij = mean_t x_ti³ x_tj − s_ii s_ij (pairwise means)
    x2 = x * x
    pi_mat = (x2.T @ x2) / pairs - sample ** 2
    theta = ((x2 * x).T @ x) / pairs - var[:, None] * sample
    np.fill_diagonal(theta, 0.0)
    ratio = np.divide(sd[None, :], sd[:, None], out=np.zeros((n, n)), where=(sd[:, None] > 0) & (sd[None, :] > 0))
    pi_hat = float(pi_mat.sum())
    rho_hat = float(np.trace(pi_mat) + r_bar * (ratio * theta).sum())
    gamma_hat = float(((sample - target) ** 2).sum())
    if gamma_hat <= 1e-30 * max(float((sample ** 2).sum()), 1e-300):
        delta = 0.0  # the sample already is the target (e.g. every security moving in lockstep)
    else:
        delta = float(np.clip((pi_hat - rho_hat) / gamma_hat / counts.mean(), 0.0, 1.0))
    return delta * target + (1.0 - delta) * sample, delta


def principal_factors(covariance: np.ndarray, max_factors: int,
                      min_specific_variance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(B [N, K], F [K, K], D [N]) from ``covariance``'s top K = min(max_factors, N − 1) positive
    eigenvalues, scaled B = V √N, F = diag(λ) / N; D the diagonal residual floored at the given
    minimum (module docstring, steps 4 and 5). Same units as ``covariance``."""
    n = covariance.shape[0]
    values, vectors = np.linalg.eigh((covariance + covariance.T) / 2)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    top = max(values[0], 0.0) if n else 0.0
    k = min(max_factors, max(n - 1, 0), int((values > 1e-12 * top).sum()) if top > 0 else 0)
    v = vectors[:, :k] * _signs(vectors[:, :k])
    loadings = v * np.sqrt(n)
    factor_cov = np.diag(values[:k] / n) if k else np.zeros((0, 0))
    explained = (v ** 2) @ values[:k]
    specific = np.maximum(np.diag(covariance) - explained, min_specific_variance)
    return loadings, factor_cov, specific


def _signs(vectors: np.ndarray) -> np.ndarray:
    """+1 or −1 per column: its entries sum to ≥ 0, or (a sum of about 0) its largest entry is positive."""
    if vectors.size == 0:
        return np.ones(vectors.shape[1])
    total = vectors.sum(axis=0)
    largest = vectors[np.argmax(np.abs(vectors), axis=0), np.arange(vectors.shape[1])]
    return np.where(np.abs(total) > 1e-9, np.sign(total), np.where(largest < 0, -1.0, 1.0))
