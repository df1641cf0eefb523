"""The risk model estimated from returns (optimizer/risk_estimate.py): known answers and invariants."""

import numpy as np
import pytest

from optimizer.risk_estimate import (MIN_SPECIFIC_VARIANCE, InsufficientHistory, estimate_risk_model,
                                     principal_factors, shrunk_covariance)


def one_factor_returns(seed: int, days: int = 2520, n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Daily returns β_i f_t + e_ti: market 16 % a year, betas 0.5 … 1.5, specific 25 % a year for all."""
    rng = np.random.default_rng(seed)
    beta = np.linspace(0.5, 1.5, n)
    f = rng.normal(0.0, 0.16 / np.sqrt(252), (days, 1))
    return f * beta + rng.normal(0.0, 0.25 / np.sqrt(252), (days, n)), beta


def test_a_known_one_factor_model_is_recovered_from_ten_years_of_returns():
    # Ten years (2,520 days) of 100 stocks on one market factor. True annual covariance: β_i β_j 0.16² + 0.25² on
    # the diagonal. Mean β² = 1 + var(β) ≈ 1.085, so the top principal component of the truth is along β with
    # eigenvalue ‖β‖² 0.0256 + 0.0625 ≈ 108.5 × 0.0256 + 0.0625 = 2.84; its part β βᵀ 0.0256 (1 + 0.0625 / 2.78) is
    # 2.25 % above the true systematic covariance (PCA's known bias), and sampling adds about √(2/2520) ≈ 2.8 %.
    returns, beta = one_factor_returns(seed=11)
    model = estimate_risk_model([f"S{i:03d}" for i in range(100)], returns, window_days=2520, max_factors=1)
    systematic = model.loadings @ model.factor_covariance @ model.loadings.T
    truth = np.outer(beta, beta) * 0.16 ** 2
    assert np.linalg.norm(systematic - truth) / np.linalg.norm(truth) < 0.08  # 4.5–5.2 % over six seeds
    # Loadings scaled to read as the market: B ≈ β / √(mean β²) = β / 1.042, and F ≈ (‖β‖² 0.0256 + 0.0625) / 100
    # = 0.0284 a year.
    assert np.corrcoef(model.loadings[:, 0], beta)[0, 1] > 0.99
    assert model.loadings[:, 0].mean() == pytest.approx(1.0 / 1.042, rel=0.05)
    assert model.factor_covariance[0, 0] == pytest.approx(0.0284, rel=0.10)
    # Specific variance 0.25² = 0.0625 a year for every stock (observed within 9 %).
    assert np.abs(model.specific_variance / 0.0625 - 1).max() < 0.12


def test_the_model_reproduces_the_shrunk_covariances_top_part_and_is_positive_semidefinite():
    # Returns with holes (NaN) in arbitrary places: the pairwise sample covariance need not be PSD, the model is.
    rng = np.random.default_rng(3)
    returns = rng.normal(0, 0.01, (120, 12)) + rng.normal(0, 0.01, (120, 1))
    returns[rng.random(returns.shape) < 0.2] = np.nan
    model = estimate_risk_model([f"S{i}" for i in range(12)], returns, max_factors=3)
    full = model.loadings @ model.factor_covariance @ model.loadings.T + np.diag(model.specific_variance)
    assert np.linalg.eigvalsh(full).min() >= -1e-12
    assert np.allclose(model.factor_covariance, np.diag(np.diag(model.factor_covariance)))
    assert (np.diag(model.factor_covariance) > 0).all() and (model.specific_variance >= MIN_SPECIFIC_VARIANCE).all()
    # B F Bᵀ is exactly the top three eigen-part of 252 × the shrunk covariance.
    shrunk, _ = shrunk_covariance(returns)
    values, vectors = np.linalg.eigh(shrunk * 252)
    top = vectors[:, -3:] @ np.diag(values[-3:]) @ vectors[:, -3:].T
    assert np.allclose(model.loadings @ model.factor_covariance @ model.loadings.T, top, atol=1e-12)


def test_the_estimate_is_deterministic_and_its_signs_fixed():
    returns, _ = one_factor_returns(seed=5, days=300, n=20)
    ids = [f"S{i}" for i in range(20)]
    a, b = estimate_risk_model(ids, returns), estimate_risk_model(ids, returns.copy())
    assert np.array_equal(a.loadings, b.loadings) and np.array_equal(a.factor_covariance, b.factor_covariance)
    assert np.array_equal(a.specific_variance, b.specific_variance)
    assert (a.loadings.sum(axis=0) >= 0).all()  # every factor's loadings sum ≥ 0: a market factor loads positively
    # The same returns with every sign flipped have the same covariance, hence the same model.
    flipped = estimate_risk_model(ids, -returns)
    assert np.allclose(flipped.loadings, a.loadings, atol=1e-9)


def test_the_ledoit_wolf_intensity_is_the_papers_formula():
    # Ledoit & Wolf (2004), constant-correlation target, written out term by term with loops (4 stocks with
    # unlike correlations, 100 days).
    rng = np.random.default_rng(2)
    x = rng.normal(0, 0.01, (100, 4)) * [0.5, 1, 1.5, 2] + rng.normal(0, 0.01, (100, 1)) * [0.2, 1, 2, 0.5]
    t, n = x.shape
    y = x - x.mean(axis=0)
    s = y.T @ y / t
    sd = np.sqrt(np.diag(s))
    r_bar = sum(s[i, j] / (sd[i] * sd[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    target = np.array([[s[i, i] if i == j else r_bar * sd[i] * sd[j] for j in range(n)] for i in range(n)])
    pi = sum(np.mean((y[:, i] * y[:, j] - s[i, j]) ** 2) for i in range(n) for j in range(n))
    theta = lambda i, j: np.mean((y[:, i] ** 2 - s[i, i]) * (y[:, i] * y[:, j] - s[i, j]))  # noqa: E731
    rho = sum(np.mean((y[:, i] ** 2 - s[i, i]) ** 2) for i in range(n)) + sum(
        r_bar / 2 * (sd[j] / sd[i] * theta(i, j) + sd[i] / sd[j] * theta(j, i))
        for i in range(n) for j in range(n) if i != j)
    gamma = ((s - target) ** 2).sum()
    delta = max(0.0, min(1.0, (pi - rho) / gamma / t))
    shrunk, got = shrunk_covariance(x)
    assert 0 < delta < 1 and got == pytest.approx(delta, rel=1e-10)
    assert np.allclose(shrunk, delta * target + (1 - delta) * s, rtol=1e-10, atol=0)


def test_too_little_history_is_said_and_a_short_history_security_is_left_to_the_proxy():
    rng = np.random.default_rng(1)
    returns = rng.normal(0, 0.01, (100, 3))
    returns[:50, 2] = np.nan  # the third listed 50 days ago: 50 returns, fewer than the 60 needed
    model = estimate_risk_model(["A", "B", "C"], returns)
    assert model.security_ids.tolist() == ["A", "B"]
    with pytest.raises(InsufficientHistory, match="needs 60 daily returns.*the most any has in the last 252 days is 59"):
        estimate_risk_model(["A"], returns[:59, :1])


def test_one_security_is_all_specific_and_lockstep_securities_share_one_factor():
    # One security: K = min(5, N − 1) = 0, its whole variance specific. Daily ±1 % alternating: variance (1/n
    # normalization, mean 0) 1e-4 a day, 0.0252 a year.
    alternating = np.where(np.arange(100) % 2 == 0, 0.01, -0.01)[:, None]
    alone = estimate_risk_model(["A"], alternating)
    assert alone.factor_names == () and alone.specific_variance[0] == pytest.approx(0.0252, rel=1e-12)
    # Two in lockstep: one factor carries all of it (Σ = 1e-4 × [[1, 1], [1, 1]]: eigenvalue 2e-4, F = 2e-4 / 2
    # × 252 = 0.0252, loadings √2 × (1/√2) = 1), nothing left but the floor.
    loadings, factor_cov, specific = principal_factors(np.full((2, 2), 1e-4), 5, 1e-6)
    assert loadings[:, 0] == pytest.approx([1.0, 1.0]) and factor_cov[0, 0] == pytest.approx(1e-4)
    assert specific == pytest.approx([1e-6, 1e-6])
    both = estimate_risk_model(["A", "B"], np.hstack([alternating, alternating]))
    assert len(both.factor_names) == 1 and both.factor_covariance[0, 0] == pytest.approx(0.0252, rel=1e-9)
