"""Bad input is quarantined with file, row, field and reason; every other household proceeds."""

import polars as pl

from data_contracts.layout import read_day
from data_contracts.validation import validate_day
from tests.conftest import AS_OF
from tests.helpers import copy_firm, drop_column, edit_cell, household_of_account, households_at


def test_clean_firm_has_no_errors(small_firm):
    day = validate_day(read_day(small_firm, AS_OF), AS_OF)
    assert day.exceptions.filter(pl.col("severity") == "error").height == 0
    assert day.ready_households.len() == day.households.height == 60


def test_bad_rows_hold_only_their_households(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "firm")
    lots = firm / "custodians" / "alder" / "lots.csv"
    row_a = edit_cell(lots, 2, "quantity_shares", "abc")
    row_b = edit_cell(lots, 40, "security_id", "ZZZZ")
    bad = {household_of_account(firm, row_a["account_id"]), household_of_account(firm, row_b["account_id"])}

    day = validate_day(read_day(firm, AS_OF), AS_OF)
    errors = day.exceptions.filter(pl.col("severity") == "error")
    assert set(day.held.to_list()) == bad
    assert day.ready_households.len() == 60 - len(bad)
    rows = {(r["file"], r["row"], r["field"]) for r in errors.iter_rows(named=True)}
    assert ("custodians/alder/lots.csv", 2, "quantity_shares") in rows
    assert ("custodians/alder/lots.csv", 40, "security_id") in rows
    unknown = errors.filter(pl.col("field") == "security_id")["reason"].to_list()
    assert "unknown security ZZZZ" in unknown


def test_lots_that_do_not_sum_to_the_position_hold_the_household(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "firm")
    positions = firm / "custodians" / "birch" / "positions.csv"
    row = edit_cell(positions, 5, "quantity_shares", "123456")
    day = validate_day(read_day(firm, AS_OF), AS_OF)
    assert set(day.held.to_list()) == {household_of_account(firm, row["account_id"])}
    assert day.exceptions.filter(pl.col("reason").str.contains("sum to"))["household_id"].len() == 1


def test_missing_column_holds_that_custodians_households(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "firm")
    drop_column(firm / "custodians" / "cedar" / "cash.csv", "cash_usd")
    day = validate_day(read_day(firm, AS_OF), AS_OF)
    at_cedar = households_at(firm, "cedar")
    assert at_cedar and set(day.held.to_list()) == at_cedar
    reason = day.exceptions.filter(pl.col("household_id") == sorted(at_cedar)[0])["reason"].to_list()
    assert any("custodians/cedar/cash.csv: missing column(s) cash_usd" in r for r in reason)
    assert day.ready_households.len() == 60 - len(at_cedar) > 0


def test_stale_and_missing_prices_hold_holders(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "firm")
    prices = firm / "firm" / "prices.csv"
    sec = edit_cell(prices, 2, "price_date", "2026-10-01")["security_id"]  # the first ETF: widely held
    day = validate_day(read_day(firm, AS_OF), AS_OF)
    holders = set(day.lots.filter(pl.col("security_id") == sec)["household_id"].to_list())
    on_model = set(day.households.join(day.models.filter(pl.col("security_id") == sec), on="model_id")["household_id"].to_list())
    assert set(day.held.to_list()) == holders | on_model
    assert day.exceptions.filter(pl.col("reason").str.contains("stale")).height > 0


def test_an_account_delivered_by_two_custodians_holds_both_claimants(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "firm")
    alder = firm / "custodians" / "alder" / "accounts.csv"
    birch = pl.read_csv(firm / "custodians" / "birch" / "accounts.csv", infer_schema=False)
    stolen = birch.row(0, named=True)
    with alder.open("a") as f:  # alder also claims birch's first account, for another household
        f.write(f"{stolen['account_id']},H0000000,alder,taxable_individual,0\n")
    day = validate_day(read_day(firm, AS_OF), AS_OF)
    dup = day.exceptions.filter(pl.col("reason").str.contains("delivered by more than one custodian"))
    assert set(dup["household_id"]) == {stolen["household_id"], "H0000000"}
    assert {stolen["household_id"], "H0000000"} <= set(day.held)


def _previous(day) -> "PreviousDay":  # noqa: F821
    """A clean validation of the same firm, as the last validated day (the day before)."""
    import datetime as dt

    from data_contracts.validation import PreviousDay

    return PreviousDay(AS_OF - dt.timedelta(days=1), day.accounts.select("account_id", "household_id", "custodian_id"),
                       day.positions.select("account_id", "security_id", "quantity_shares"))


def test_an_account_row_naming_an_unknown_household_holds_the_household_it_was_yesterday(small_firm, tmp_path):
    previous = _previous(validate_day(read_day(small_firm, AS_OF), AS_OF))
    firm = copy_firm(small_firm, tmp_path / "input")
    row = edit_cell(firm / "custodians" / "birch" / "accounts.csv", 4, "household_id", "H9999999")
    day = validate_day(read_day(firm, AS_OF), AS_OF, previous=previous)
    exc = day.exceptions.filter(pl.col("reason") == f"account {row['account_id']}: unknown household H9999999")
    # One exception, with file, line and field, on the household the account was yesterday: held, not solved
    # on its other accounts.
    assert exc.select("household_id", "file", "row", "field").rows() == [
        (row["household_id"], "custodians/birch/accounts.csv", 4, "household_id")]
    assert row["household_id"] in set(day.held)


def test_an_empty_accounts_file_holds_that_custodians_households_with_one_root_cause(small_firm, tmp_path):
    clean = validate_day(read_day(small_firm, AS_OF), AS_OF)
    firm = copy_firm(small_firm, tmp_path / "input")
    accounts = firm / "custodians" / "alder" / "accounts.csv"
    accounts.write_text(accounts.read_text().splitlines()[0] + "\n")  # the header, no row
    day = validate_day(read_day(firm, AS_OF), AS_OF, previous=_previous(clean))
    alder = set(clean.accounts.filter(pl.col("custodian_id").cast(pl.String) == "alder")["household_id"])
    assert set(day.held) == alder
    why = day.exceptions.filter(pl.col("reason").str.contains("it has no account row, yet the custodian's positions"))
    assert why.height > 0 and set(why["household_id"].drop_nulls()) == alder
    # Its positions, lots, cash and transactions are that root cause's consequences: no row per orphan.
    assert day.exceptions.filter(pl.col("reason").str.starts_with("unknown account")).height == 0


def test_rows_of_an_unknown_account_are_one_exception_per_file_and_account(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "input")
    for name in ("positions", "transactions"):
        path = firm / "custodians" / "alder" / f"{name}.csv"
        frame = pl.read_csv(path, infer_schema=False)
        stray = frame.head(3).with_columns(pl.lit("Z00000001").alias("account_id"))
        if name == "transactions":  # its own rows, not duplicates of the first three
            stray = stray.with_columns(pl.format("TZ{}", pl.int_range(pl.len())).alias("transaction_id"))
        pl.concat([frame, stray]).write_csv(path)
    day = validate_day(read_day(firm, AS_OF), AS_OF)
    stray = day.exceptions.filter(pl.col("reason").str.starts_with("unknown account Z00000001"))
    # Three rows in each file: one exception each (a transaction of an unknown account is no longer dropped
    # unseen), at the first stray line, firm-level since no day says whose the account is.
    assert sorted(stray["file"]) == ["custodians/alder/positions.csv", "custodians/alder/transactions.csv"]
    assert all("3 row(s) of this file" in r for r in stray["reason"]) and stray["household_id"].null_count() == 2


def test_the_days_prices_come_in_the_files_order_in_every_process(small_firm, tmp_path):
    """The latest close per security, in the order the prices file lists them (then by date): a hash
    grouping would stage them in another order in every process, and a rerun would not rewrite the same bytes."""
    firm = copy_firm(small_firm, tmp_path / "firm")
    prices = pl.read_csv(firm / "firm" / "prices.csv", try_parse_dates=True)
    earlier = prices.with_columns(pl.col("price_date") - pl.duration(days=1), pl.col("close_usd") - 1)
    pl.concat([earlier, prices]).write_csv(firm / "firm" / "prices.csv")  # each security's older close first
    day = validate_day(read_day(firm, AS_OF), AS_OF)
    assert day.prices["security_id"].to_list() == prices["security_id"].to_list()
    assert day.prices["close_usd"].to_list() == prices["close_usd"].to_list()  # the latest close, not the older one
