"""The day's risk model between frames (files, warehouse) and arrays (optimizer.risk.RiskModel).

Frames, long and annualized (returns as fractions):
    loadings            security_id, factor, loading                 (a missing pair is a zero loading)
    factor covariance   factor_1, factor_2, covariance               (both triangles, or one: mirrored)
    specific            security_id, specific_variance
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import polars as pl

from data_contracts.risk_model import covariance_matrix, factor_names
from optimizer.risk import RiskModel


def risk_model_from_frames(loadings: pl.DataFrame, covariance: pl.DataFrame, specific: pl.DataFrame) -> RiskModel:
    """A ``RiskModel`` from the three frames; securities sorted, factors in order of first appearance
    in the covariance, row by row (then the loadings): the first is the market."""
    factors = list(dict.fromkeys(factor_names(covariance) + loadings["factor"].to_list()))
    f_index = {f: i for i, f in enumerate(factors)}
    securities = sorted(set(specific["security_id"].to_list()) | set(loadings["security_id"].to_list()))
    s_index = {s: i for i, s in enumerate(securities)}
    k = len(factors)
    cov = covariance_matrix(covariance, factors)  # one triangle is enough; both given: validation checked they agree
    b = np.zeros((len(securities), k))
    rows = np.array([s_index[s] for s in loadings["security_id"].to_list()], dtype=np.int64)
    cols = np.array([f_index[f] for f in loadings["factor"].to_list()], dtype=np.int64)
    b[rows, cols] = loadings["loading"].to_numpy().astype(float)
    d = np.zeros(len(securities))
    d[[s_index[s] for s in specific["security_id"].to_list()]] = specific["specific_variance"].to_numpy().astype(float)
    return RiskModel(np.array(securities, dtype=object), tuple(factors), b, cov, d)


def risk_frames(model: RiskModel) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(loadings, factor covariance, specific) frames of a model: non-zero loadings, the full covariance."""
    s, f = np.nonzero(model.loadings)
    loadings = pl.DataFrame({"security_id": model.security_ids[s].astype(str).tolist(),
                             "factor": [model.factor_names[x] for x in f], "loading": model.loadings[s, f]},
                            schema={"security_id": pl.String, "factor": pl.String, "loading": pl.Float64})
    k = len(model.factor_names)
    i, j = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    covariance = pl.DataFrame({"factor_1": [model.factor_names[x] for x in i.ravel()],
                               "factor_2": [model.factor_names[x] for x in j.ravel()],
                               "covariance": model.factor_covariance.ravel()},
                              schema={"factor_1": pl.String, "factor_2": pl.String, "covariance": pl.Float64})
    specific = pl.DataFrame({"security_id": model.security_ids.astype(str).tolist(),
                             "specific_variance": model.specific_variance},
                            schema={"security_id": pl.String, "specific_variance": pl.Float64})
    return loadings, covariance, specific


@dataclass(frozen=True)
class SecurityRisk:
    """The day's risk model per security, proxies filled in (``RiskModel.for_securities``): a
    household's arrays are rows of these, by numpy indexing."""

    security_ids: tuple[str, ...]
    loadings: np.ndarray  # float[N, K]  B
    specific_variance: np.ndarray  # float[N]  D
    covered: np.ndarray  # bool[N]: in the model (else a proxy)
    factor_root: np.ndarray  # float[K, R]  L with F = L Lᵀ, shared by every household

    def aligned(self, security_ids: list[str]) -> "SecurityRisk":
        """The same, in the order of ``security_ids`` (each one of ours)."""
        row = {s: i for i, s in enumerate(self.security_ids)}
        idx = np.array([row[s] for s in security_ids], dtype=np.int64)
        return SecurityRisk(tuple(security_ids), self.loadings[idx], self.specific_variance[idx], self.covered[idx],
                            self.factor_root)


_day_lock = threading.Lock()
_day_cache: tuple[tuple[pl.DataFrame, ...], SecurityRisk] | None = None


def security_risk(securities: pl.DataFrame, loadings: pl.DataFrame | None, covariance: pl.DataFrame | None,
                  specific: pl.DataFrame | None) -> SecurityRisk | None:
    """Every security of the master in the day's risk model (None: the day has none), built once a day.

    Batches of one run share the day's frames, so the result is kept for the last frames seen (by
    identity: holding them keeps their ids from being reused) and only rebuilt for another day."""
    global _day_cache
    if loadings is None or covariance is None or specific is None:
        return None
    key = (securities, loadings, covariance, specific)
    with _day_lock:
        if _day_cache is not None and all(a is b for a, b in zip(_day_cache[0], key)):
            return _day_cache[1]
        model = risk_model_from_frames(loadings, covariance, specific)
        ids, classes = securities["security_id"].to_list(), securities["asset_class"].to_list()
        b, d, covered = model.for_securities(ids, classes, dict(zip(ids, classes)))
        result = SecurityRisk(tuple(ids), b, d, covered, model.factor_root)
        _day_cache = (key, result)
        return result
