"""Great Expectations suites derived from the contracts, reconciliation suites, Data Docs, and the
checks that need yesterday (day-over-day quantities, a custodian whose accounts file is unusable)."""

from __future__ import annotations

import datetime as dt
import shutil
import typing
from pathlib import Path

import polars as pl
import pytest

from data_contracts.expectations import QualityRecorder, file_expectations
from data_contracts.layout import read_day
from data_contracts.registry import INPUT_FILES
from data_contracts.types import AccountType
from data_contracts.validation import PreviousDay, validate_day
from tests.conftest import AS_OF
from tests.helpers import drop_column, edit_cell, households_at


def _kinds(contract) -> dict[tuple[str, str], dict]:
    out = {}
    for e in file_expectations(contract):
        config = e.configuration
        kw = dict(config.kwargs)
        out[(config.type, str(kw.get("column") or kw.get("column_list") or ""))] = kw
    return out


def test_suites_are_derived_from_the_pydantic_models():
    lots = _kinds(INPUT_FILES["lots"])
    assert lots[("expect_column_values_to_be_between", "quantity_shares")]["strict_min"] is True  # PositiveShares: gt 0
    assert lots[("expect_column_values_to_be_between", "cost_basis_usd")]["min_value"] == 0  # NonNegativeUsd
    assert ("expect_column_values_to_be_unique", "lot_id") in lots  # the registry's key
    assert ("expect_column_values_to_not_be_null", "acquisition_date") in lots
    accounts = _kinds(INPUT_FILES["accounts"])
    assert set(accounts[("expect_column_values_to_be_in_set", "account_type")]["value_set"]) == set(typing.get_args(AccountType))
    positions = _kinds(INPUT_FILES["positions"])
    assert positions[("expect_compound_columns_to_be_unique", "['account_id', 'security_id']")]
    txns = _kinds(INPUT_FILES["transactions"])
    assert ("expect_column_values_to_not_be_null", "security_id") not in txns  # optional in the model


@pytest.fixture
def damaged(small_firm, tmp_path):
    firm = tmp_path / "firm"
    shutil.copytree(small_firm, firm)
    lots = firm / "custodians" / "alder" / "lots.csv"
    edit_cell(lots, 2, "quantity_shares", "-3")  # breaks PositiveShares and lots = positions
    text = lots.read_text().splitlines()
    lots.write_text("\n".join(text + [text[3]]) + "\n")  # line 4 again at the end: a duplicated lot
    return firm


def test_suites_and_parser_agree_and_data_docs_are_written(damaged, tmp_path):
    quality = QualityRecorder("test-run", AS_OF)
    day = validate_day(read_day(damaged, AS_OF, quality=quality), AS_OF, quality=quality)
    report = quality.write_docs(tmp_path / "docs")
    failed = {(f["asset"], f["expectation"], f["column"]): f["unexpected_count"] for f in report.failures}
    alder_lots = "custodians--alder--lots.csv"
    # The suite sees the file as it arrived: one negative quantity, two rows sharing a lot id.
    assert failed[(alder_lots, "expect_column_values_to_be_between", "quantity_shares")] == 1
    assert failed[(alder_lots, "expect_column_values_to_be_unique", "lot_id")] == 2
    # The parser set aside the same rows (line 2, and the repeat of line 4 as the last line).
    errs = day.exceptions.filter(pl.col("file") == "custodians/alder/lots.csv")
    assert set(errs.filter(pl.col("field") == "quantity_shares")["row"]) >= {2}
    assert errs.filter(pl.col("reason").str.contains("duplicate key")).height == 1
    # The cross-file suites see the broken reconciliation too.
    assert failed[("reconciliation--lots_vs_positions", "expect_column_values_to_be_between", "difference_shares")] >= 1
    assert report.evaluated > 60 and report.failed == len(report.failures)
    index = (tmp_path / "docs" / "index.html").read_text()
    assert "lots" in index and report.index_html.endswith("index.html")
    # Every batch's pandas copy is released once its results are stored (at firm scale it is gigabytes).
    manager = quality.source.get_execution_engine().batch_manager
    assert manager.batch_data_cache == {} and manager.active_batch is None


def test_position_change_without_transactions_is_reported(small_firm, tmp_path):
    """Yesterday account X held q − 10 shares of S; today q, and no transaction in between: 10
    shares unexplained → a warning on today's position row. A buy of 10 on the as-of date explains it."""
    today = validate_day(read_day(small_firm, AS_OF), AS_OF)
    row = today.positions.row(0, named=True)
    yesterday = today.positions.select("account_id", "security_id", "quantity_shares").with_columns(
        pl.when((pl.col("account_id") == row["account_id"]) & (pl.col("security_id") == row["security_id"]))
        .then(pl.col("quantity_shares") - 10).otherwise(pl.col("quantity_shares")).alias("quantity_shares"))
    previous = PreviousDay(AS_OF - dt.timedelta(days=1), today.accounts.select("account_id", "household_id", "custodian_id"),
                           yesterday)
    checked = validate_day(read_day(small_firm, AS_OF), AS_OF, previous=previous)
    odd = checked.exceptions.filter(pl.col("reason").str.contains("transactions since explain"))
    assert odd.height == 1
    assert odd["severity"].item() == "warning" and odd["household_id"].item() == row["household_id"]
    assert odd["row"].item() == row["_line"]

    firm = tmp_path / "firm"
    shutil.copytree(small_firm, firm)
    custodian = str(row["custodian_id"])
    txns = firm / "custodians" / custodian / "transactions.csv"
    with txns.open("a") as f:
        f.write(f"TX-EXPLAINS,{row['account_id']},{AS_OF},buy,{row['security_id']},10,1000,\n")
    explained = validate_day(read_day(firm, AS_OF), AS_OF, previous=previous)
    assert explained.exceptions.filter(pl.col("reason").str.contains("transactions since explain")).height == 0


def test_unusable_accounts_file_holds_yesterdays_households_of_that_custodian(small_firm, tmp_path):
    today = validate_day(read_day(small_firm, AS_OF), AS_OF)
    previous = PreviousDay(AS_OF - dt.timedelta(days=1), today.accounts.select("account_id", "household_id", "custodian_id"),
                           today.positions.select("account_id", "security_id", "quantity_shares"))
    firm = tmp_path / "firm"
    shutil.copytree(small_firm, firm)
    drop_column(firm / "custodians" / "birch" / "accounts.csv", "account_type")
    checked = validate_day(read_day(firm, AS_OF), AS_OF, previous=previous)
    assert households_at(small_firm, "birch") <= set(checked.held)
    assert checked.ready_households.len() > 0


def test_data_docs_accept_a_relative_folder(small_firm, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # `make demo` writes under ./var
    quality = QualityRecorder("relative", AS_OF)
    read_day(small_firm, AS_OF, quality=quality)
    report = quality.write_docs(Path("var") / "docs")
    assert (tmp_path / "var" / "docs" / "index.html").exists() and Path(report.index_html).is_absolute()
