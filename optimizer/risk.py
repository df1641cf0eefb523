"""The risk model: a factor model of security returns, and tracking error from it.

For one as-of date, N securities and K factors (all annualized, returns as fractions):

    B   loadings, N × K            (a security's exposure to each factor)
    F   factor covariance, K × K   (symmetric, positive semi-definite)
    D   specific variance, N       (non-negative; the part of a security's variance no factor explains)

    Σ = B F Bᵀ + diag(D)           (never formed: N × N and dense)

A household of value V holding h dollars per security against targets w V has active dollars
d = h − w V (cash is a position with no risk: a cash overweight shows as securities underweight, so
the market factor prices it). Its ex-ante tracking error is

    TE = √(dᵀ Σ d) / V = √(‖Lᵀ Bᵀ d‖² + Σ_s D_s d_s²) / V,     F = L Lᵀ

with L from F's eigen-decomposition (F = Q Λ Qᵀ, L = Q Λ^½; eigenvalues below zero by rounding are
clipped), which works for a singular F as well as a full-rank one. ``tracking_error`` computes it;
the household LP (optimizer/constraints/risk.py) and ``verify`` use the same arrays.

Coverage. A held or model security missing from the model gets a documented proxy
(``RiskModel.for_securities``): the mean loadings of the covered securities of its asset class, and
the largest specific variance among them (a conservative stand-in: it costs more to hold, never
less); with no covered security in its class, a loading of 1 on the first factor (the market) and
``FALLBACK_SPECIFIC_VARIANCE``. Which securities were proxied is returned, so the run can report
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

FALLBACK_SPECIFIC_VARIANCE = 0.40 ** 2  # 40 % a year: a single stock's worth of specific risk, on purpose high
EIGEN_FLOOR = 1e-12  # eigenvalues of F below this (relative to the largest) are rounding: dropped


@dataclass(frozen=True)
class RiskModel:
    """A factor model for one as-of date (annualized; returns as fractions)."""

    security_ids: np.ndarray  # str[N]
    factor_names: tuple[str, ...]  # K
    loadings: np.ndarray  # float[N, K]  B
    factor_covariance: np.ndarray  # float[K, K]  F
    specific_variance: np.ndarray  # float[N]  D

    def __post_init__(self) -> None:
        n, k = len(self.security_ids), len(self.factor_names)
        if self.loadings.shape != (n, k):
            raise ValueError(f"risk model: loadings are {self.loadings.shape}, expected ({n}, {k})")
        if self.factor_covariance.shape != (k, k):
            raise ValueError(f"risk model: factor covariance is {self.factor_covariance.shape}, expected ({k}, {k})")
        if self.specific_variance.shape != (n,):
            raise ValueError(f"risk model: specific variance has {self.specific_variance.shape}, expected ({n},)")
        if not np.allclose(self.factor_covariance, self.factor_covariance.T, rtol=1e-9, atol=1e-12):
            raise ValueError("risk model: factor covariance is not symmetric")
        if (self.specific_variance < 0).any() or not np.isfinite(self.specific_variance).all():
            raise ValueError("risk model: a specific variance is negative or not finite")

    @cached_property
    def factor_root(self) -> np.ndarray:
        """L (K × R) with F = L Lᵀ: eigenvectors scaled by √eigenvalue, negligible ones dropped."""
        return factor_root(self.factor_covariance)

    @cached_property
    def _row(self) -> dict[str, int]:
        return {str(s): i for i, s in enumerate(self.security_ids)}

    def for_securities(self, security_ids: list[str] | np.ndarray,
                       asset_class: list[str] | np.ndarray | None = None,
                       class_of_model: dict[str, str] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(B rows [S, K], D [S], covered bool[S]) for the given securities, proxies where not covered.

        ``asset_class`` gives each requested security's class; ``class_of_model`` the class of the
        model's own securities (for the proxy: the mean loadings and largest specific variance of
        the covered securities of the same class)."""
        k = len(self.factor_names)
        rows = np.array([self._row.get(str(s), -1) for s in security_ids], dtype=np.int64)
        covered = rows >= 0
        b = np.zeros((len(rows), k))
        d = np.zeros(len(rows))
        b[covered] = self.loadings[rows[covered]]
        d[covered] = self.specific_variance[rows[covered]]
        for i in np.flatnonzero(~covered):
            cls = None if asset_class is None else asset_class[i]
            peers = [] if cls is None or class_of_model is None else \
                [self._row[s] for s, c in class_of_model.items() if c == cls and s in self._row]
            if peers:
                b[i] = self.loadings[peers].mean(axis=0)
                d[i] = self.specific_variance[peers].max()
            else:
                if k:
                    b[i, 0] = 1.0
                d[i] = FALLBACK_SPECIFIC_VARIANCE
        return b, d, covered


def factor_root(covariance: np.ndarray) -> np.ndarray:
    """L with F = L Lᵀ from the eigen-decomposition (robust for singular, nearly collinear F)."""
    if covariance.size == 0:
        return np.zeros((0, 0))
    values, vectors = np.linalg.eigh((covariance + covariance.T) / 2)
    keep = values > EIGEN_FLOOR * max(values.max(initial=0.0), EIGEN_FLOOR)
    return vectors[:, keep] * np.sqrt(values[keep])


def tracking_variance_usd2(active_usd: np.ndarray, loadings: np.ndarray, root: np.ndarray,
                           specific_variance: np.ndarray) -> float:
    """dᵀ(B F Bᵀ + D)d in dollars², annualized, with F = root rootᵀ."""
    z = root.T @ (loadings.T @ active_usd) if loadings.size else np.zeros(0)
    return float(z @ z + specific_variance @ (active_usd ** 2))


def tracking_error(active_usd: np.ndarray, value_usd: float, loadings: np.ndarray, root: np.ndarray,
                   specific_variance: np.ndarray) -> float:
    """TE = √(dᵀ Σ d) / V, annualized, as a fraction (0.01 = 1 % a year)."""
    if value_usd <= 0:
        return 0.0
    return float(np.sqrt(max(tracking_variance_usd2(active_usd, loadings, root, specific_variance), 0.0)) / value_usd)
