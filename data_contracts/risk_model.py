"""The day's risk model files: the checks a row contract cannot make, and the validated frames.

Three firm files, all or none (row contracts: ``data_contracts.inputs.Risk*Record``)::

    firm/risk_loadings.csv            security_id, factor, loading
    firm/risk_factor_covariance.csv   factor_1, factor_2, covariance        annualized, fraction²
    firm/risk_specific.csv            security_id, specific_volatility      annualized, fraction

What a bad delivery does, in the project's bad-input terms. An unusable firm file holds every
household (as an unusable securities master does): each household's risk cost and tracking-error
cap come from this model, so solving without it would quietly drop what the desk controls.

    none of the three files               no risk model for the day: a firm-level exception
                                          (``ValidationConfig.missing_risk_model_severity``, a warning
                                          by default: "tracking error not controlled"); households
                                          solve on the drift penalties, except one whose mandate caps
                                          its tracking error (held: its cap cannot be measured)
    one or two of them                    the missing ones are unusable firm files
    a covariance that is not symmetric,   firm/risk_factor_covariance.csv is unusable, with the reason
    not positive semi-definite, has a     (the day has no risk model)
    factor without its variance row, a
    row set aside, or no rows
    a bad loading or specific row         set aside (error naming file, line and field); its security
    (negative or non-finite volatility,   leaves the model, since a partial loading vector would be
    a duplicate key, ...)                 wrong silently, and is priced with the proxy below
    a loading on a factor the covariance  the same, field ``factor``
    does not have
    a security with loadings but no       its loadings are dropped: it is not covered
    specific row
    a held or model security not covered  a warning per household naming the security (validation);
                                          the optimizer prices it with the documented proxy of
                                          ``optimizer.risk.RiskModel.for_securities``

Symmetry: where both (i, j) and (j, i) are given they agree to ``SYMMETRY_TOLERANCE`` × the largest
entry (the largest variance, in a PSD matrix). Positive semi-definite: the mirrored matrix's smallest eigenvalue is at least
−``PSD_TOLERANCE`` × its largest. Both also run as Great Expectations suites on derived frames
(``reconciliation/risk_covariance_symmetry`` and ``…_eigenvalues``), so the Data Docs show them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl

from data_contracts.frames import ERROR_SCHEMA, ParsedFile, empty_good
from data_contracts.registry import INPUT_FILES
from data_contracts.text_files import LINE

RISK_FILES = ("risk_loadings", "risk_factor_covariance", "risk_specific")
SYMMETRY_TOLERANCE = 1e-9  # × the largest factor variance
PSD_TOLERANCE = 1e-10  # × the largest eigenvalue
NAMED_AT_MOST = 5  # lines or factors quoted in one reason


def check_risk_files(firm: dict[str, ParsedFile]) -> tuple[dict[str, ParsedFile], dict[str, pl.DataFrame]]:
    """(replacement ParsedFiles for the day's firm files, frames for the covariance suites).

    No risk file at all: nothing to replace. Otherwise a missing one becomes unusable, a broken
    covariance becomes unusable with its reason, and securities with a bad row leave the loadings
    and specific files (their rows reported, the rest kept)."""
    if not any(name in firm for name in RISK_FILES):
        return {}, {}
    out: dict[str, ParsedFile] = {}
    listed = ", ".join(f"firm/{n}.csv" for n in RISK_FILES)
    for name in RISK_FILES:
        if name not in firm:
            label = f"firm/{name}.csv"
            out[name] = ParsedFile(label, empty_good(INPUT_FILES[name].model),
                                   file_error=f"{label}: file missing (the risk model comes as all of {listed}, or none)")
    reconciliation: dict[str, pl.DataFrame] = {}
    covariance = firm.get("risk_factor_covariance")
    factors: list[str] | None = None
    if covariance is not None and covariance.file_error is None:
        problems, reconciliation = covariance_problems(covariance)
        if problems:
            out["risk_factor_covariance"] = dataclasses.replace(
                covariance, file_error=f"{covariance.label}: {'; '.join(problems)} (the day has no risk model)")
        else:
            factors = factor_names(covariance.good)
    loadings, specific = firm.get("risk_loadings"), firm.get("risk_specific")
    if loadings is not None and specific is not None and loadings.file_error is None and specific.file_error is None:
        if factors is not None:
            loadings = _unknown_factors_set_aside(loadings, factors)
        out["risk_loadings"], out["risk_specific"] = _quarantine_securities(loadings, specific)
    return out, reconciliation


def factor_names(covariance: pl.DataFrame) -> list[str]:
    """Factors in order of first appearance (factor_1, then factor_2 of each row): the first is the market."""
    return list(dict.fromkeys(x for pair in covariance.select("factor_1", "factor_2").iter_rows() for x in pair))


def covariance_matrix(covariance: pl.DataFrame, factors: list[str]) -> np.ndarray:
    """The K × K matrix of a covariance frame, each given pair mirrored (where both triangles are given,
    their mean: the symmetry check has bounded their difference)."""
    index = {f: i for i, f in enumerate(factors)}
    i = np.array([index[f] for f in covariance["factor_1"].to_list()], dtype=np.int64)
    j = np.array([index[f] for f in covariance["factor_2"].to_list()], dtype=np.int64)
    values = covariance["covariance"].to_numpy().astype(float)
    total, count = np.zeros((len(factors),) * 2), np.zeros((len(factors),) * 2)
    np.add.at(total, (i, j), values)
    np.add.at(count, (i, j), 1.0)
    off = i != j
    np.add.at(total, (j[off], i[off]), values[off])
    np.add.at(count, (j[off], i[off]), 1.0)
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


def covariance_problems(parsed: ParsedFile) -> tuple[list[str], dict[str, pl.DataFrame]]:
    """(why the covariance file cannot be used, in words; the symmetry and eigenvalue frames for GE)."""
    good = parsed.good
    problems = []
    if parsed.errors.height:
        lines = sorted(set(parsed.errors["row"].to_list()))
        problems.append(f"row(s) set aside at line(s) {_few(lines)}: a covariance with an entry missing cannot be used")
    if good.height == 0:
        return problems + ["no usable rows"], {}
    factors = factor_names(good)
    diagonal = good.filter(pl.col("factor_1") == pl.col("factor_2"))
    no_variance = sorted(set(factors) - set(diagonal["factor_1"].to_list()))
    if no_variance:
        problems.append(f"factor(s) {_few(no_variance)} have no variance row (factor_1 = factor_2)")
    negative = diagonal.filter(pl.col("covariance") < 0)
    if negative.height:
        problems.append("negative variance of "
                        + _few([f"{f} (line {n})" for f, n in negative.select("factor_1", LINE).iter_rows()]))
    scale = max(float(good["covariance"].abs().max()), 1e-300)  # the largest variance, when the matrix is PSD
    # Both triangles given: each pair against its mirror.
    mirror = good.select(pl.col("factor_2").alias("factor_1"), pl.col("factor_1").alias("factor_2"),
                         pl.col("covariance").alias("mirrored"), pl.col(LINE).alias("mirror_line"))
    symmetry = good.filter(pl.col("factor_1") != pl.col("factor_2")).join(mirror, on=["factor_1", "factor_2"], how="left") \
        .with_columns(((pl.col("covariance") - pl.col("mirrored")).abs() / scale).alias("asymmetry"))
    asymmetric = symmetry.filter((pl.col("asymmetry") > SYMMETRY_TOLERANCE) & (pl.col(LINE) < pl.col("mirror_line")))
    if asymmetric.height:
        pairs = asymmetric.select("factor_1", "factor_2", "covariance", LINE, "mirrored", "mirror_line").iter_rows()
        problems.append("not symmetric: " + _few([f"({a}, {b}) is {x:g} on line {n} but ({b}, {a}) is {y:g} on line {m}"
                                                  for a, b, x, n, y, m in pairs]))
    eigenvalues = np.linalg.eigvalsh(covariance_matrix(good, factors))
    largest = max(float(eigenvalues.max()), 0.0)
    if eigenvalues.min() < -PSD_TOLERANCE * largest:
        problems.append(f"not positive semi-definite: smallest eigenvalue {eigenvalues.min():.3g} against a largest of "
                        f"{largest:.3g} (at least −{PSD_TOLERANCE:g} × the largest is needed)")
    frames = {
        "risk_covariance_symmetry": symmetry.select("factor_1", "factor_2", "covariance", "mirrored", "asymmetry"),
        "risk_covariance_eigenvalues": pl.DataFrame({
            "eigenvalue": eigenvalues,
            "relative_eigenvalue": eigenvalues / largest if largest > 0 else np.zeros_like(eigenvalues)}),
    }
    return problems, frames


def _few(items: list) -> str:
    shown = ", ".join(str(x) for x in items[:NAMED_AT_MOST])
    return shown + (f" and {len(items) - NAMED_AT_MOST} more" if len(items) > NAMED_AT_MOST else "")


def _unknown_factors_set_aside(loadings: ParsedFile, factors: list[str]) -> ParsedFile:
    """Loading rows on a factor the covariance does not have: errors, set aside with their row."""
    unknown = loadings.good.filter(~pl.col("factor").is_in(factors))
    if unknown.height == 0:
        return loadings
    errors = unknown.select(pl.lit(loadings.label).alias("file"), pl.col(LINE).alias("row"), pl.lit("factor").alias("field"),
                            pl.col("factor").alias("value"),
                            pl.lit("not a factor of firm/risk_factor_covariance.csv").alias("reason")).cast(ERROR_SCHEMA)
    return _set_aside(loadings, unknown[LINE], errors)


def _set_aside(parsed: ParsedFile, lines: pl.Series, errors: pl.DataFrame | None = None) -> ParsedFile:
    """The file with these lines moved from its good rows to its bad rows (and ``errors`` added)."""
    keep = ~pl.col(LINE).is_in(lines.implode())
    moved = parsed.raw.filter(~keep) if parsed.raw is not None else parsed.bad_rows.clear()
    return dataclasses.replace(
        parsed, good=parsed.good.filter(keep),
        errors=parsed.errors if errors is None else pl.concat([parsed.errors, errors]).sort("row", "field"),
        bad_rows=pl.concat([parsed.bad_rows, moved.select(parsed.bad_rows.columns)]))


def _quarantine_securities(loadings: ParsedFile, specific: ParsedFile) -> tuple[ParsedFile, ParsedFile]:
    """A security with any row set aside in either file leaves both; loadings of a security with no
    specific row are dropped too (it is not covered). Only the rows' own errors are reported here:
    what that means for the households holding it is validation's coverage warning."""
    bad = pl.concat([p.bad_rows.select(pl.col("security_id").str.strip_chars()) for p in (loadings, specific)]
                    ).drop_nulls()["security_id"].unique()
    specific_ok = specific.good.filter(~pl.col("security_id").is_in(bad.implode()))
    drop_specific = specific.good.filter(pl.col("security_id").is_in(bad.implode()))[LINE]
    drop_loadings = loadings.good.filter(~pl.col("security_id").is_in(specific_ok["security_id"].implode()))[LINE]
    # Dropped rows are good rows of a quarantined security: off the model, not errors of their own.
    return (dataclasses.replace(loadings, good=loadings.good.filter(~pl.col(LINE).is_in(drop_loadings.implode()))),
            dataclasses.replace(specific, good=specific.good.filter(~pl.col(LINE).is_in(drop_specific.implode()))))


def risk_model_frames(firm: dict[str, ParsedFile]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame] | None:
    """(loadings, factor covariance, specific) of the day, or None when there is no usable model.

    The specific frame carries the file's ``specific_volatility`` and its square,
    ``specific_variance`` (what ``tasks.risk.risk_model_from_frames`` reads)."""
    if any(name not in firm or firm[name].file_error for name in RISK_FILES):
        return None
    specific = firm["risk_specific"].good.with_columns(
        (pl.col("specific_volatility") ** 2).alias("specific_variance"))
    return firm["risk_loadings"].good, firm["risk_factor_covariance"].good, specific
