"""The sample firm's risk model: a factor model consistent with its securities master and models.

Factors (K = 1 + 10 asset classes + 11 sectors + 3 styles = 25 for the default firm), annualized:

    market              the equity market, 16 % a year
    class:<asset class> what a class does beyond its market beta (bonds: nearly all of their risk)
    sector:<sector>     what a sector's stocks do beyond the market, 4–9 % a year
    size, value, momentum   style returns per unit of z-score, 3–4 % a year

Loadings: an ETF loads its class's market beta (``MARKET_BETA``) and 1 on its class factor; both
ETFs of a class load identically and carry a specific volatility of 3–6 % of the class's volatility
(0.5–1 % for equity, 0.1–0.4 % for bonds), so they are nearly collinear (correlation above 0.99).
A stock loads its securities-master beta on the market, 1 on its class and on its sector, and its
master z-scores on the styles, with a specific volatility of 20–35 %. The large-cap ETFs load like
the direct-index sleeve they stand for: its weighted beta, sector weights and style scores.

The factor covariance is positive definite by construction: F = diag(σ) R diag(σ) with R the
correlation of A Aᵀ + I (A: factors × a few latent drivers — rates, real assets, value against
momentum — plus a little seeded noise), and symmetric to the last bit. It is drawn from its own
random stream (the firm's seed + 2), so the firm's other files are unchanged by it.
"""

from __future__ import annotations

import numpy as np
import polars as pl

MARKET_VOLATILITY = 0.16
# An asset class's market beta; its class factor carries the rest of its volatility.
MARKET_BETA = {"us_large_cap": 1.0, "us_small_cap": 1.1, "intl_developed": 0.8, "emerging_markets": 0.9,
               "us_aggregate_bonds": 0.0, "treasury_inflation": 0.0, "municipal_bonds": 0.05, "high_yield_bonds": 0.35,
               "us_reits": 0.8, "commodities": 0.3}
MIN_CLASS_VOLATILITY = 0.02  # a class factor always has some risk of its own
STYLE_VOLATILITY = {"size": 0.03, "value": 0.03, "momentum": 0.04}
# Latent drivers of the factors' correlations: factor → loading on (rates, real assets, value-vs-momentum)
LATENT = {"class:us_aggregate_bonds": (1.5, 0.0, 0.0), "class:treasury_inflation": (1.2, 0.3, 0.0),
          "class:municipal_bonds": (1.0, 0.0, 0.0), "class:high_yield_bonds": (0.5, 0.0, 0.0),
          "class:us_reits": (0.3, 0.6, 0.0), "class:commodities": (0.0, 0.6, 0.0), "sector:energy": (0.0, 0.5, 0.0),
          "sector:materials": (0.0, 0.4, 0.0), "sector:real_estate": (0.3, 0.6, 0.0), "value": (0.0, 0.0, 0.7),
          "momentum": (0.0, 0.0, -0.7)}


def sample_risk_model(securities: pl.DataFrame, models: pl.DataFrame, class_volatility: dict[str, float],
                      sectors: list[str], sleeve_model: str, seed: int) -> dict[str, pl.DataFrame]:
    """The three risk files of the sample firm as frames (risk_loadings, risk_factor_covariance, risk_specific)."""
    rng = np.random.default_rng(seed + 2)
    classes = list(class_volatility)
    styles = list(STYLE_VOLATILITY)
    factors = ["market"] + [f"class:{c}" for c in classes] + [f"sector:{s}" for s in sectors] + styles
    col = {f: k for k, f in enumerate(factors)}
    covariance = _factor_covariance(factors, classes, class_volatility, rng)

    ids = securities["security_id"].to_list()
    is_stock = (securities["security_type"] == "stock").to_numpy()
    asset_class = securities["asset_class"].to_list()
    b = np.zeros((len(ids), len(factors)))
    b[:, col["market"]] = [MARKET_BETA[c] for c in asset_class]
    b[np.arange(len(ids)), [col[f"class:{c}"] for c in asset_class]] = 1.0
    stocks = np.flatnonzero(is_stock)
    b[stocks, col["market"]] = securities["beta"].to_numpy()[stocks]
    b[stocks, [col[f"sector:{s}"] for s in securities["sector"].gather(stocks).to_list()]] = 1.0
    for s in styles:
        b[stocks, col[s]] = securities[s].to_numpy()[stocks]
    # The large-cap ETFs stand for the direct-index sleeve: its weighted loadings (class and all).
    sleeve = models.filter((pl.col("model_id") == sleeve_model)
                           & pl.col("security_id").is_in([ids[i] for i in stocks]))
    if sleeve.height:
        row = {s: i for i, s in enumerate(ids)}
        members = np.array([row[s] for s in sleeve["security_id"].to_list()], dtype=np.int64)
        w = sleeve["target_weight"].to_numpy()
        etfs = [i for i in range(len(ids)) if not is_stock[i] and asset_class[i] == asset_class[members[0]]]
        b[etfs] = (w / w.sum()) @ b[members]
    class_vol = np.array([class_volatility[c] for c in asset_class])
    specific_volatility = np.where(is_stock, rng.uniform(0.20, 0.35, len(ids)), class_vol * rng.uniform(0.03, 0.06, len(ids)))

    s_idx, f_idx = np.nonzero(np.round(b, 6))
    loadings = pl.DataFrame({"security_id": [ids[i] for i in s_idx], "factor": [factors[k] for k in f_idx],
                             "loading": np.round(b[s_idx, f_idx], 6)})
    i, j = np.meshgrid(np.arange(len(factors)), np.arange(len(factors)), indexing="ij")
    cov_frame = pl.DataFrame({"factor_1": [factors[k] for k in i.ravel()], "factor_2": [factors[k] for k in j.ravel()],
                              "covariance": covariance.ravel()})
    specific = pl.DataFrame({"security_id": ids, "specific_volatility": np.round(specific_volatility, 6)})
    return {"risk_loadings": loadings, "risk_factor_covariance": cov_frame, "risk_specific": specific}


def _factor_covariance(factors: list[str], classes: list[str], class_volatility: dict[str, float],
                       rng: np.random.Generator) -> np.ndarray:
    """F = diag(σ) R diag(σ), R the correlation of A Aᵀ + I: positive definite, exactly symmetric."""
    sigma = np.empty(len(factors))
    for k, f in enumerate(factors):
        kind, _, name = f.partition(":")
        if f == "market":
            sigma[k] = MARKET_VOLATILITY
        elif kind == "class":
            rest = class_volatility[name] ** 2 - (MARKET_BETA[name] * MARKET_VOLATILITY) ** 2
            sigma[k] = np.sqrt(max(rest, MIN_CLASS_VOLATILITY ** 2))
        elif kind == "sector":
            sigma[k] = rng.uniform(0.04, 0.09)
        else:
            sigma[k] = STYLE_VOLATILITY[f]
    latent = np.array([LATENT.get(f, (0.0, 0.0, 0.0)) for f in factors]) + rng.normal(0.0, 0.15, (len(factors), 3))
    latent[0] = 0.0  # the market: the class and sector factors are what is left beyond it
    gram = latent @ latent.T + np.eye(len(factors))
    scale = 1.0 / np.sqrt(np.diag(gram))
    covariance = (gram * np.outer(scale, scale)) * np.outer(sigma, sigma)
    return np.round((covariance + covariance.T) / 2, 12)  # rounding is elementwise: symmetry survives
