"""Great Expectations suites derived from the pydantic contracts, and each run's Data Docs.

One source of truth: a file's suite is written from the same ``column_specs`` that the frame-wise
parser enforces (``frames.parse_frame``), never as a second hand-kept list:

    contract fact                     expectation
    --------------------------------  ------------------------------------------------------
    the model's fields                expect_table_columns_to_match_set (exact: optional columns too)
    required field                    expect_column_values_to_not_be_null
    ge / gt / le bounds               expect_column_values_to_be_between (strict for gt)
    Literal[...] values               expect_column_values_to_be_in_set
    file key (registry)               expect_column_values_to_be_unique / expect_compound_columns_to_be_unique

A file's batch is its typed values *before* quarantine (a value that does not parse is null), so
the Data Docs show what arrived, while the parser decides row by row what is set aside. The
cross-file checks of ``validation`` hand over their reconciliation frames (lots against positions,
prices of what is held, cash per account, day-over-day quantities, the risk model's covariance
symmetry, eigenvalues and coverage), each with a suite of its own built from ``ValidationConfig``. Results and the HTML Data Docs are written once per run; the docs carry their scripts and styles (``data_docs``), so they open offline.

Great Expectations is imported lazily: reading files without a recorder does not pay for it.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from data_contracts.data_docs import localize
from data_contracts.frames import column_specs
from data_contracts.registry import FileContract
from data_contracts.risk_model import PSD_TOLERANCE, SYMMETRY_TOLERANCE

# Partial unexpected lists are what makes GE slow on millions of rows; counts and percentages stay.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}


def file_expectations(contract: FileContract) -> list[Any]:
    """The suite of one input file, derived from its pydantic model and its key."""
    import great_expectations as gx

    E = gx.expectations
    out: list[Any] = [E.ExpectTableColumnsToMatchSet(column_set=contract.columns, exact_match=True,
                                                     meta={"source": f"fields of {contract.model.__name__}"})]
    for s in column_specs(contract.model):
        why = {"source": f"{contract.model.__name__}.{s.name}"}
        if s.required:
            out.append(E.ExpectColumnValuesToNotBeNull(column=s.name, meta=why))
        low = s.ge if s.ge is not None else s.gt
        if low is not None or s.le is not None:
            out.append(E.ExpectColumnValuesToBeBetween(column=s.name, min_value=low, max_value=s.le,
                                                       strict_min=s.gt is not None, meta=why))
        if s.allowed:
            out.append(E.ExpectColumnValuesToBeInSet(column=s.name, value_set=list(s.allowed), meta=why))
    key_why = {"source": f"key of {contract.filename} (data_contracts.registry)"}
    if len(contract.key) == 1:
        out.append(E.ExpectColumnValuesToBeUnique(column=contract.key[0], meta=key_why))
    elif contract.key:
        out.append(E.ExpectCompoundColumnsToBeUnique(column_list=list(contract.key), meta=key_why))
    return out


def reconciliation_expectations(name: str, tolerance_shares: float, stale_price_days: int) -> list[Any]:
    """The suites of the cross-file checks; their frames come from ``validation.reconciliation_frames``."""
    import great_expectations as gx

    E = gx.expectations
    return {
        "lots_vs_positions": [E.ExpectColumnValuesToBeBetween(
            column="difference_shares", min_value=-tolerance_shares, max_value=tolerance_shares,
            meta={"source": "ValidationConfig.lot_position_tolerance_shares"})],
        "prices_of_holdings": [
            E.ExpectColumnValuesToBeInSet(column="in_securities_master", value_set=[True]),
            E.ExpectColumnValuesToNotBeNull(column="price_age_days"),
            E.ExpectColumnValuesToBeBetween(column="price_age_days", min_value=0, max_value=stale_price_days,
                                            meta={"source": "ValidationConfig.stale_price_days"}),
        ],
        "cash_per_account": [E.ExpectColumnValuesToBeInSet(column="has_cash_row", value_set=[True])],
        "day_over_day": [E.ExpectColumnValuesToBeBetween(
            column="unexplained_shares", min_value=-tolerance_shares, max_value=tolerance_shares,
            meta={"source": "quantity change not explained by the day's transactions"})],
        # The risk model (data_contracts.risk_model): file-level facts as frames, so the Data Docs show them.
        "risk_covariance_symmetry": [E.ExpectColumnValuesToBeBetween(
            column="asymmetry", min_value=0, max_value=SYMMETRY_TOLERANCE,
            meta={"source": "firm/risk_factor_covariance.csv: |C(i,j) − C(j,i)| ÷ the largest entry"})],
        "risk_covariance_eigenvalues": [E.ExpectColumnValuesToBeBetween(
            column="relative_eigenvalue", min_value=-PSD_TOLERANCE,
            meta={"source": "firm/risk_factor_covariance.csv: positive semi-definite (eigenvalue ÷ the largest)"})],
        "risk_coverage": [E.ExpectColumnValuesToBeInSet(
            column="in_risk_model", value_set=[True],
            meta={"source": "held and model securities in firm/risk_specific.csv (else a documented proxy)"})],
    }[name]


def _to_pandas(frame: pl.DataFrame):
    """pandas 3 keeps text Arrow-backed (compact); numbers stay numpy."""
    return frame.to_pandas()


def _release_arrow_memory() -> None:
    """pandas 3 keeps text in Arrow buffers; Arrow's allocator keeps freed pages for reuse unless
    told otherwise, which at firm scale is gigabytes the process no longer needs."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


@dataclass
class QualityReport:
    """What the run's suites found, and where their Data Docs are."""

    evaluated: int = 0
    failed: int = 0
    index_html: str | None = None
    seconds: float = 0.0  # time spent inside Great Expectations
    failures: list[dict] = field(default_factory=list)  # asset, expectation, column, unexpected_count


class QualityRecorder:
    """One ephemeral GE context per run: validate batches as they pass, then write the Data Docs."""

    def __init__(self, run_name: str, as_of: dt.date) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults, ProgressBarsConfig

        self._gx = gx
        self.context = gx.get_context(mode="ephemeral", project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            progress_bars=ProgressBarsConfig(globally=False), analytics_enabled=False))
        self.source = self.context.data_sources.add_pandas("lotwise_day")
        self.run_id = RunIdentifier(run_name=run_name, run_time=dt.datetime.combine(as_of, dt.time(), dt.timezone.utc))
        self.report = QualityReport()

    def validate(self, asset: str, suite_name: str, expectations: list[Any], frame: pl.DataFrame) -> bool:
        """Run one suite (freshly built expectations) on one batch; returns whether every expectation held."""
        gx = self._gx
        asset = asset.replace("/", "--")  # GE's file store takes no slashes in names
        suite = self.context.suites.add_or_update(gx.ExpectationSuite(name=suite_name, expectations=expectations))
        batch = self.source.add_dataframe_asset(asset).add_batch_definition_whole_dataframe("file")
        definition = self.context.validation_definitions.add(gx.ValidationDefinition(name=asset, data=batch, suite=suite))
        start = time.perf_counter()
        result = definition.run(batch_parameters={"dataframe": _to_pandas(frame)}, result_format=RESULT_FORMAT,
                                run_id=self.run_id)
        self.report.seconds += time.perf_counter() - start
        # The engine caches every batch it loaded, and its data separately; at firm scale that is
        # gigabytes of pandas. Results are already stored, so the data can go (reset_batch_cache
        # alone keeps the data cache).
        manager = self.source.get_execution_engine().batch_manager
        manager.reset_batch_cache()
        manager.batch_data_cache.clear()
        _release_arrow_memory()
        for r in result.results:
            self.report.evaluated += 1
            if not r.success:
                self.report.failed += 1
                self.report.failures.append({
                    "asset": asset, "expectation": r.expectation_config.type,
                    "column": r.expectation_config.kwargs.get("column") or ",".join(r.expectation_config.kwargs.get("column_list", [])),
                    "unexpected_count": (r.result or {}).get("unexpected_count"),
                })
        return bool(result.success)

    def write_docs(self, folder: Path) -> QualityReport:
        """Render every result of this run as HTML Data Docs under ``folder`` (index.html), opening
        with no network (``data_docs.localize``)."""
        folder = Path(folder).resolve()  # GE's file store takes absolute paths only
        self.context.add_data_docs_site(site_name="lotwise", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(folder)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
        self.context.build_data_docs(site_names=["lotwise"])
        localize(folder)  # GE's pages load their scripts from CDNs: offline they would be blank
        self.report.index_html = str((folder / "index.html").resolve())  # absolute, like every path in the summary
        return self.report


def file_check(quality: QualityRecorder | None, contract: FileContract, label: str):
    """The ``on_typed`` hook of ``frames.parse_frame`` that runs the file's suite, or None."""
    if quality is None:
        return None
    return lambda typed: quality.validate(label, contract.name, file_expectations(contract), typed)
