"""The day's risk model as data (issue 15, item 1): files, contracts and suites, the sample firm's
model, what a bad or missing file does, and the arrays each household problem gets."""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError

from data_contracts.config import RunConfig
from data_contracts.expectations import QualityRecorder
from data_contracts.layout import read_day
from data_contracts.mandates import MandateFile
from data_contracts.sample_firm import ASSET_CLASSES, write_sample_firm
from data_contracts.validation import validate_day
from tasks.optimize import solve_params
from tasks.problems import build_problems
from tasks.reuse import household_fingerprints
from tasks.risk import risk_model_from_frames
from tasks.stage import stage
from tests.conftest import AS_OF
from tests.helpers import copy_firm, edit_cell

RISK_FILES = ("risk_loadings.csv", "risk_factor_covariance.csv", "risk_specific.csv")


def validated(firm, quality=None):
    return validate_day(read_day(firm, AS_OF, quality=quality), AS_OF, quality=quality)


def model_of(day):
    return risk_model_from_frames(day.risk_loadings, day.risk_factor_covariance, day.risk_specific)


def two_factor_model(firm, covariance_rows: list[tuple[str, str, float]]) -> None:
    """Replace the firm's risk files: every security loads 1 on 'market', 20 % specific volatility."""
    ids = pl.read_csv(firm / "firm" / "securities.csv", infer_schema=False)["security_id"]
    pl.DataFrame({"security_id": ids, "factor": "market", "loading": 1.0}).write_csv(firm / "firm" / "risk_loadings.csv")
    pl.DataFrame({"security_id": ids, "specific_volatility": 0.2}).write_csv(firm / "firm" / "risk_specific.csv")
    pl.DataFrame(covariance_rows, schema=["factor_1", "factor_2", "covariance"], orient="row").write_csv(
        firm / "firm" / "risk_factor_covariance.csv")


def line_of(path, security_id: str) -> int:
    """1-based file line (header = 1) of a security's row."""
    ids = pl.read_csv(path, infer_schema=False)["security_id"].to_list()
    return ids.index(security_id) + 2


def held_by(day, security_id: str) -> set[str]:
    return set(day.lots.filter(pl.col("security_id") == security_id)["household_id"].to_list())


def risk_warnings(day) -> pl.DataFrame:
    return day.exceptions.filter(pl.col("reason").str.contains("risk model") & (pl.col("severity") == "warning"))


# ---- the sample firm's model


def test_the_sample_firms_model_is_psd_and_covers_every_held_and_model_security(small_firm):
    day = validated(small_firm)
    assert day.exceptions.filter(pl.col("severity") == "error").height == 0
    model = model_of(day)
    assert np.linalg.eigvalsh(model.factor_covariance).min() > 0  # positive definite by construction
    assert model.factor_names[0] == "market"
    assert {"size", "value", "momentum"} <= set(model.factor_names)
    assert {f"class:{c}" for c in ASSET_CLASSES} <= set(model.factor_names)
    wanted = set(day.lots["security_id"].to_list()) | set(day.models.filter(pl.col("security_id") != "CASH")["security_id"])
    assert wanted <= set(model.security_ids.tolist())
    assert risk_warnings(day).height == 0
    # Annualized: a stock's total volatility is what a stock's is (about 25–45 %), a bond ETF's a few percent.
    sigma = model.loadings @ model.factor_covariance @ model.loadings.T + np.diag(model.specific_variance)
    vol = dict(zip(model.security_ids.tolist(), np.sqrt(np.diag(sigma))))
    stocks = day.securities.filter(pl.col("security_type") == "stock")["security_id"].to_list()
    assert all(0.2 < vol[s] < 0.5 for s in stocks)
    assert 0.03 < vol["BND"] < 0.08 and 0.14 < vol["VTI"] < 0.2


def test_etfs_of_one_asset_class_are_nearly_collinear(small_firm):
    model = model_of(validated(small_firm))
    sigma = model.loadings @ model.factor_covariance @ model.loadings.T + np.diag(model.specific_variance)
    vol = np.sqrt(np.diag(sigma))
    corr = sigma / np.outer(vol, vol)
    row = {s: i for i, s in enumerate(model.security_ids.tolist())}
    pairs = [(t[0], u) for t, _, _ in ASSET_CLASSES.values() for u in t[1:]]
    assert len(pairs) == 11
    for a, b in pairs:
        assert corr[row[a], row[b]] > 0.95, (a, b)
    # Across classes they are not: large caps against aggregate bonds.
    assert corr[row["VTI"], row["BND"]] < 0.5


def test_reruns_write_byte_identical_risk_files_and_staged_model(tmp_path):
    digests = []
    for run in ("a", "b"):
        write_sample_firm(20, 3, AS_OF, tmp_path / run)
        day = validated(tmp_path / run)
        root = tmp_path / f"warehouse-{run}"
        stage.fn(day, root, "r1", household_fingerprints(day, RunConfig()))
        files = sorted((tmp_path / run / "firm").glob("risk_*.csv")) + sorted(root.glob("stg_risk_*/*/*/*.parquet"))
        assert len(files) == 6  # three input files, three staged tables
        digests.append([(p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in files])
    assert digests[0] == digests[1]
    staged = pl.read_parquet(next((tmp_path / "warehouse-a").glob("stg_risk_specific/*/*/*.parquet")))
    assert staged.columns == ["security_id", "specific_volatility", "specific_variance"]


# ---- bad files


def test_an_asymmetric_covariance_makes_the_file_unusable_and_holds_every_household(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "firm")
    # (market, style) is 0.01 on line 3 but (style, market) is 0.02 on line 5.
    two_factor_model(firm, [("market", "market", 0.04), ("market", "style", 0.01), ("style", "style", 0.09),
                            ("style", "market", 0.02)])
    day = validated(firm)
    assert day.risk_loadings is None and day.risk_factor_covariance is None and day.risk_specific is None
    firm_level = day.exceptions.filter(pl.col("household_id").is_null() & (pl.col("severity") == "error"))
    reason = firm_level.filter(pl.col("file") == "firm/risk_factor_covariance.csv")["reason"].item()
    assert "firm/risk_factor_covariance.csv: not symmetric: (market, style) is 0.01 on line 3 but (style, market) " \
           "is 0.02 on line 5" in reason
    assert set(day.held.to_list()) == set(day.households["household_id"].to_list())


def test_a_covariance_that_is_not_positive_semi_definite_is_refused_and_its_suite_fails(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "firm")
    # [[0.04, 0.07], [0.07, 0.09]]: a correlation of 0.07 / (0.2 × 0.3) = 1.17. Trace 0.13, determinant
    # 0.0036 − 0.0049 = −0.0013, so λ = (0.13 ± √(0.0169 + 0.0052)) / 2 = (0.13 ± 0.14866) / 2: −0.00933 and 0.139.
    two_factor_model(firm, [("market", "market", 0.04), ("market", "style", 0.07), ("style", "style", 0.09)])
    quality = QualityRecorder("risk-test", AS_OF)
    day = validated(firm, quality)
    reason = day.exceptions.filter(pl.col("household_id").is_null() & (pl.col("file") == "firm/risk_factor_covariance.csv")
                                   & (pl.col("severity") == "error"))["reason"].item()
    assert "not positive semi-definite: smallest eigenvalue -0.00933 against a largest of 0.139" in reason
    assert "the day has no risk model" in reason
    assert day.risk_factor_covariance is None and day.held.len() == day.households.height
    failed = {(f["asset"], f["column"]) for f in quality.report.failures}
    assert ("reconciliation--risk_covariance_eigenvalues", "relative_eigenvalue") in failed
    assert ("reconciliation--risk_covariance_symmetry", "asymmetry") not in failed  # one triangle: nothing to compare


def test_one_triangle_or_two_that_agree_make_the_same_model(small_firm, tmp_path):
    models = []
    for name, rows in (("one", [("market", "market", 0.04), ("market", "style", 0.006), ("style", "style", 0.09)]),
                       ("both", [("market", "market", 0.04), ("market", "style", 0.006), ("style", "market", 0.006),
                                 ("style", "style", 0.09)])):
        firm = copy_firm(small_firm, tmp_path / name)
        two_factor_model(firm, rows)
        day = validated(firm)
        assert day.exceptions.filter(pl.col("severity") == "error").height == 0
        models.append(model_of(day))
    for m in models:
        np.testing.assert_array_equal(m.factor_covariance, [[0.04, 0.006], [0.006, 0.09]])


def test_a_factor_without_its_variance_row_makes_the_file_unusable(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "firm")
    two_factor_model(firm, [("market", "market", 0.04), ("market", "style", 0.0)])
    day = validated(firm)
    reasons = day.exceptions.filter(pl.col("file") == "firm/risk_factor_covariance.csv")["reason"].to_list()
    assert any("factor(s) style have no variance row" in r for r in reasons)
    assert day.risk_factor_covariance is None


def test_a_negative_volatility_row_is_set_aside_and_its_security_proxied(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "firm")
    clean = validated(small_firm)
    stock = clean.lots.join(clean.securities.filter(pl.col("security_type") == "stock"), on="security_id")["security_id"][0]
    path = firm / "firm" / "risk_specific.csv"
    line = line_of(path, stock)
    edit_cell(path, line, "specific_volatility", "-0.25")
    quality = QualityRecorder("risk-test", AS_OF)
    day = validated(firm, quality)
    error = day.exceptions.filter((pl.col("file") == "firm/risk_specific.csv") & (pl.col("severity") == "error"))
    assert error.select("row", "field", "household_id").rows() == [(line, "specific_volatility", None)]
    assert "must be ≥ 0 (value -0.25)" in error["reason"].item()
    # Quarantined: the security leaves both files, nothing else does, and nobody is held for it.
    assert stock not in day.risk_specific["security_id"].to_list()
    assert stock not in day.risk_loadings["security_id"].to_list()
    assert day.risk_specific.height == clean.risk_specific.height - 1
    assert day.held.len() == 0
    # Each household holding it is told, by a warning naming the security.
    warned = risk_warnings(day).filter(pl.col("reason").str.starts_with(f"{stock} is not in the day's risk model"))
    assert set(warned["household_id"].to_list()) == held_by(day, stock) != set()
    failed = {(f["asset"], f["column"]): f["unexpected_count"] for f in quality.report.failures}
    assert failed[("firm--risk_specific.csv", "specific_volatility")] == 1  # the file's suite saw it too
    assert failed[("reconciliation--risk_coverage", "in_risk_model")] == 1


def test_a_loading_on_an_unknown_factor_is_set_aside_with_its_security(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "firm")
    path = firm / "firm" / "risk_loadings.csv"
    line = pl.read_csv(path)["security_id"].to_list().index("VTI") + 2  # VTI's first loading row (market)
    edit_cell(path, line, "factor", "marketz")
    day = validated(firm)
    error = day.exceptions.filter(pl.col("file") == "firm/risk_loadings.csv")
    assert error.select("row", "field", "severity").rows() == [(line, "factor", "error")]
    assert "not a factor of firm/risk_factor_covariance.csv" in error["reason"].item()
    assert "VTI" not in day.risk_loadings["security_id"].to_list() + day.risk_specific["security_id"].to_list()


def test_an_uncovered_security_is_priced_with_its_class_proxy_and_reported_per_household(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "firm")
    for name in ("risk_loadings.csv", "risk_specific.csv"):
        path = firm / "firm" / name
        pl.read_csv(path).filter(pl.col("security_id") != "BND").write_csv(path)
    day = validated(firm)
    warned = risk_warnings(day)
    # BND is in every model of the sample firm: every household is told, once, and none is held.
    assert warned["household_id"].sort().to_list() == day.households["household_id"].sort().to_list()
    assert warned["reason"].unique().to_list() == [
        "BND is not in the day's risk model: priced with a proxy, the mean loadings of the covered us_aggregate_bonds "
        "securities and the largest specific volatility among them"]
    assert set(warned["file"].to_list()) == {"firm/risk_specific.csv"} and day.held.len() == 0
    # AGG is the class's only covered security, so BND's proxy is exactly AGG's loadings and specific variance.
    problem = build_problems(day, [day.households["household_id"][0]], RunConfig())[0]
    s = problem.security_ids.tolist()
    model = model_of(day)
    agg = model.security_ids.tolist().index("AGG")
    np.testing.assert_array_equal(problem.risk_loadings[s.index("BND")], model.loadings[agg])
    assert problem.risk_specific_variance[s.index("BND")] == model.specific_variance[agg]


def test_no_risk_files_is_reported_and_holds_only_a_household_whose_mandate_caps_tracking_error(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "firm")
    for name in RISK_FILES:
        (firm / "firm" / name).unlink()
    capped = free_household(firm)
    write_cap(firm, capped, 0.01)
    day = validated(firm)
    assert day.risk_loadings is None
    firm_level = day.exceptions.filter(pl.col("household_id").is_null() & pl.col("reason").str.contains("no risk model"))
    assert firm_level.select("severity", "file").rows() == [("warning", "firm/risk_*.csv")]
    assert "tracking error not controlled" in firm_level["reason"].item()
    assert day.held.to_list() == [capped]
    held_why = day.exceptions.filter(pl.col("household_id") == capped)
    assert held_why.select("severity", "field").rows() == [("error", "max_tracking_error")]
    problems = build_problems(day, day.ready_households.to_list()[:3], RunConfig())
    assert all(p.risk_loadings is None and p.max_tracking_error is None for p in problems)


def test_one_risk_file_missing_makes_the_model_unusable(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "firm")
    (firm / "firm" / "risk_specific.csv").unlink()
    day = validated(firm)
    assert day.risk_loadings is None
    firm_level = day.exceptions.filter(pl.col("household_id").is_null() & (pl.col("severity") == "error"))
    assert any("firm/risk_specific.csv: file missing (the risk model comes as all of" in r for r in firm_level["reason"])
    assert day.held.len() == day.households.height


# ---- the household problem's arrays and its cap


def free_household(firm) -> str:
    """A household of the firm without a mandate file."""
    households = pl.read_csv(firm / "firm" / "households.csv")["household_id"].to_list()
    taken = {p.stem for p in (firm / "firm" / "mandates").glob("*.yaml")}
    return next(h for h in households if h not in taken)


def write_cap(firm, household_id: str, cap: float) -> None:
    (firm / "firm" / "mandates" / f"{household_id}.yaml").write_text(
        f"household_id: {household_id}\nmandates:\n  - kind: tracking_error\n    max_tracking_error: {cap}\n"
        "    effective_from: 2026-01-02\n")


def test_build_problems_fills_the_risk_arrays_and_the_tightest_cap_wins(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "firm")
    capped = free_household(firm)
    write_cap(firm, capped, 0.01)
    day = validated(firm)
    other = next(h for h in day.ready_households.to_list() if h != capped and h not in day.mandates["household_id"])
    model = model_of(day)
    k = len(model.factor_names)
    for config, cap_capped, cap_other in ((RunConfig(), 0.01, 0.02),  # mandate 1 % beats the run's 2 %
                                          (RunConfig(max_tracking_error=0.005), 0.005, 0.005),  # the run's is tighter
                                          (RunConfig(max_tracking_error=None), 0.01, None)):  # no run cap: the mandate's
        problems = {p.household_id: p for p in build_problems(day, [capped, other], config)}
        assert problems[capped].max_tracking_error == cap_capped
        assert problems[other].max_tracking_error == cap_other
    for p in problems.values():
        s = p.n_securities
        assert p.risk_loadings.shape == (s, k) and p.risk_specific_variance.shape == (s,)
        assert p.risk_factor_root.shape[0] == k
        np.testing.assert_allclose(p.risk_factor_root @ p.risk_factor_root.T, model.factor_covariance, atol=1e-15)
        rows = [model.security_ids.tolist().index(x) for x in p.security_ids.tolist()]
        np.testing.assert_array_equal(p.risk_loadings, model.loadings[rows])
        np.testing.assert_array_equal(p.risk_specific_variance, model.specific_variance[rows])
    # The file gives volatility; the model carries its square (variance).
    vti = pl.read_csv(firm / "firm" / "risk_specific.csv").filter(pl.col("security_id") == "VTI")["specific_volatility"].item()
    assert model.specific_variance[model.security_ids.tolist().index("VTI")] == pytest.approx(vti ** 2, rel=1e-15)


@pytest.mark.parametrize("entry, words", [
    ({"max_tracking_error": 0}, "greater than 0"),
    ({"max_tracking_error": 1.5}, "less than or equal to 1"),
    ({"max_tracking_error": 0.01, "account_id": "A1"}, "household-wide"),
])
def test_a_tracking_error_mandate_is_validated(entry, words):
    with pytest.raises(ValidationError, match=words):
        MandateFile.model_validate({"household_id": "H1", "mandates": [
            {"kind": "tracking_error", "effective_from": "2026-01-02"} | entry]})


def test_the_run_configuration_maps_to_the_solver_and_refuses_a_cap_out_of_range():
    params = solve_params(RunConfig(risk_aversion=3.0, risk_horizon_years=0.5, tracking_error_tolerance=0.01))
    assert (params.risk_aversion, params.risk_horizon_years, params.tracking_error_tolerance) == (3.0, 0.5, 0.01)
    assert RunConfig().max_tracking_error == 0.02
    with pytest.raises(ValidationError):
        RunConfig(max_tracking_error=0.0)


def test_a_changed_risk_model_changes_every_fingerprint(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "firm")
    path = firm / "firm" / "risk_specific.csv"
    edit_cell(path, line_of(path, "VTI"), "specific_volatility", "0.011")
    before = household_fingerprints(validated(small_firm), RunConfig())
    after = household_fingerprints(validated(firm), RunConfig())
    joined = before.join(after, on="household_id", suffix="_after")
    assert joined.height == before.height and (joined["fingerprint"] != joined["fingerprint_after"]).all()
