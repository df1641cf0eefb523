"""The desk's files: custodian order files, blocks and allocations, pre-trade checks, the review queue."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest

from data_contracts.config import RunConfig
from data_contracts.validation import EXCEPTION_SCHEMA, ValidatedDay
from tasks.desk import block_trades, pre_trade_checks, review_queue
from tests.conftest import AS_OF

TRADE_SCHEMA = {"household_id": pl.String, "account_id": pl.String, "security_id": pl.String, "side": pl.String,
                "quantity_shares": pl.Float64, "est_price_usd": pl.Float64, "reason": pl.String, "custodian_id": pl.String}


def _trades(rows):
    return pl.DataFrame([r + ("x", "alder") for r in rows], schema=TRADE_SCHEMA, orient="row")


def test_blocks_allocate_fills_pro_rata():
    # X bought 3 shares in A1 and 1 in A2: one block of 4; A1 gets 3/4 of every fill, A2 1/4.
    blocks, alloc = block_trades(_trades([("H1", "A1", "X", "buy", 3.0, 10.0), ("H2", "A2", "X", "buy", 1.0, 10.0),
                                          ("H1", "A1", "Y", "sell", 2.5, 4.0)]))
    x = blocks.filter(pl.col("block_id") == "X-buy").row(0, named=True)
    assert (x["quantity_shares"], x["est_amount_usd"], x["accounts"]) == (4.0, 40.0, 2)  # 4 × $10
    assert dict(alloc.filter(pl.col("block_id") == "X-buy").select("account_id", "allocation_fraction").iter_rows()) == {
        "A1": 0.75, "A2": 0.25}
    assert alloc.group_by("block_id").agg(pl.col("allocation_fraction").sum())["allocation_fraction"].to_list() == [1.0, 1.0]


def _day(transactions: list[tuple]) -> ValidatedDay:
    """One taxable account T of household H: $1,000 cash (minimum $100), one lot L1 of 1 share of Y."""
    sec = pl.DataFrame({"security_id": ["X", "Y"], "identical_group": [None, None]}, schema={
        "security_id": pl.String, "identical_group": pl.String})
    accounts = pl.DataFrame({"account_id": ["T"], "household_id": ["H"], "account_type": ["taxable_individual"],
                             "min_cash_usd": [100.0]})
    lots = pl.DataFrame({"lot_id": ["L1"], "account_id": ["T"], "household_id": ["H"], "security_id": ["Y"],
                         "quantity_shares": [1.0], "cost_basis_usd": [40.0], "acquisition_date": [dt.date(2020, 1, 2)]})
    txns = pl.DataFrame([(*t, None)[:8] for t in transactions], orient="row", schema={
        "household_id": pl.String, "account_id": pl.String, "security_id": pl.String, "trade_date": pl.Date,
        "transaction_type": pl.String, "amount_usd": pl.Float64, "cost_basis_usd": pl.Float64,
        "quantity_shares": pl.Float64})
    cash = pl.DataFrame({"account_id": ["T"], "cash_usd": [1000.0]})
    empty = pl.DataFrame()
    return ValidatedDay(AS_OF, sec, empty, empty, empty, accounts, empty, lots, txns, cash,
                        pl.DataFrame(schema=EXCEPTION_SCHEMA), pl.Series([], dtype=pl.String))


def _sales(qty: float, gain: float, washed_usd: float = 0.0):
    return pl.DataFrame({"household_id": ["H"], "account_id": ["T"], "lot_id": ["L1"], "security_id": ["Y"],
                         "acquisition_date": [dt.date(2020, 1, 2)], "quantity_shares": [qty], "gain_usd": [gain],
                         "wash_disallowed_usd": [washed_usd], "taxable": [True]})


def _status(checks: pl.DataFrame) -> dict[str, str]:
    return dict(checks.select("check", "status").iter_rows())


def test_pre_trade_checks_pass_a_clean_account():
    # cash 1,000 + sell 1 Y × $50 − buy 9 X × $100 = 150 ≥ minimum 100.
    checks = pre_trade_checks(_trades([("H", "T", "X", "buy", 9.0, 100.0), ("H", "T", "Y", "sell", 1.0, 50.0)]),
                              _sales(1.0, 10.0), _day([]))
    assert _status(checks) == {"cash": "pass", "lot_availability": "pass", "wash_sale_window": "pass",
                               "restricted_securities": "pass"}
    assert "= 150.0 (minimum 100.0)" in checks.filter(pl.col("check") == "cash")["detail"][0]


def test_pre_trade_checks_catch_each_breach():
    # cash 1,000 + sells 2 × $50 − buys 10.5 × $100 = 50 < minimum 100: fails.
    # Y: 2 shares sold, the lot holds 1. X: sold at a loss ($500 for $600 basis) 10 days ago, bought today.
    loss_sale = ("H", "T", "X", AS_OF - dt.timedelta(days=10), "sell", 500.0, 600.0)
    checks = pre_trade_checks(_trades([("H", "T", "X", "buy", 10.5, 100.0), ("H", "T", "Y", "sell", 2.0, 50.0)]),
                              _sales(2.0, 60.0), _day([loss_sale]))
    assert _status(checks) == {"cash": "fail", "lot_availability": "fail", "wash_sale_window": "fail",
                               "restricted_securities": "pass"}
    assert "buy of X within 30 days of a loss sale" in checks.filter(pl.col("check") == "wash_sale_window")["detail"][0]
    # The same loss sale 31 days ago is outside the window: the buy passes.
    old = (*loss_sale[:3], AS_OF - dt.timedelta(days=31), *loss_sale[4:])
    assert _status(pre_trade_checks(_trades([("H", "T", "X", "buy", 1.0, 100.0)]), _sales(0.0, 0.0).clear(),
                                    _day([old])))["wash_sale_window"] == "pass"


def test_a_trade_a_mandate_forbids_fails_the_restricted_securities_check():
    from data_contracts.mandates import MANDATE_SCHEMA

    def day_with(*rules):
        rows = [dict(household_id="H", account_id=acc, security_id=sec, rule=rule, effective_from=dt.date(2026, 1, 1),
                     effective_to=None, sell_by=None, amount_usd=None, source=f"firm/mandates/H.yaml:{i + 3}", reason=None)
                for i, (sec, rule, acc) in enumerate(rules)]
        return dataclasses.replace(_day([]), mandates=pl.DataFrame(rows, schema=MANDATE_SCHEMA))

    trades = _trades([("H", "T", "X", "buy", 1.0, 100.0), ("H", "T", "Y", "sell", 1.0, 50.0)])
    check = lambda day: pre_trade_checks(trades, _sales(1.0, 10.0), day).filter(  # noqa: E731
        pl.col("check") == "restricted_securities").row(0, named=True)
    assert check(day_with(("X", "never_sell", None)))["status"] == "pass"  # a buy of X breaks no never-sell
    assert check(day_with(("X", "never_buy", "OTHER")))["status"] == "pass"  # another account's mandate
    failed = check(day_with(("X", "never_buy", None), ("Y", "never_trade", "T")))
    assert failed["status"] == "fail"
    assert failed["detail"] == ("buy of X breaks never_buy (firm/mandates/H.yaml:3); "
                                "sell of Y breaks never_trade (firm/mandates/H.yaml:4)")


def test_a_loss_sale_of_something_bought_in_the_window_fails():
    bought = ("H", "T", "Y", AS_OF - dt.timedelta(days=5), "buy", 50.0, None)  # how many shares: not stated
    checks = pre_trade_checks(_trades([("H", "T", "Y", "sell", 1.0, 30.0)]), _sales(1.0, -10.0), _day([bought]))
    assert _status(checks)["wash_sale_window"] == "fail"


def test_a_partial_wash_sale_passes_only_with_the_loss_publication_550_disallows():
    # Lot L1 (held since 2020) sells 1 share at a $10 loss; 0.4 share of Y was bought 5 days ago, so
    # 0.4 of the share sold is matched: 0.4 × $10 = $4 is disallowed, $6 stays a loss.
    bought = ("H", "T", "Y", AS_OF - dt.timedelta(days=5), "buy", 20.0, None, 0.4)
    day = _day([bought])
    recent = pl.DataFrame({"lot_id": ["LR"], "account_id": ["T"], "household_id": ["H"], "security_id": ["Y"],
                           "quantity_shares": [0.4], "cost_basis_usd": [20.0], "acquisition_date": [bought[3]]})
    day = dataclasses.replace(day, lots=pl.concat([day.lots, recent]))
    trades = _trades([("H", "T", "Y", "sell", 1.0, 30.0)])
    assert _status(pre_trade_checks(trades, _sales(1.0, -10.0, washed_usd=4.0), day))["wash_sale_window"] == "pass"
    # Without the lot of that purchase the replacement shares are not known: the whole loss counts.
    assert _status(pre_trade_checks(trades, _sales(1.0, -10.0, washed_usd=4.0), _day([bought])))["wash_sale_window"] == "fail"
    wrong = pre_trade_checks(trades, _sales(1.0, -10.0, washed_usd=0.0), day)
    row = wrong.filter(pl.col("check") == "wash_sale_window").row(0, named=True)
    assert row["status"] == "fail" and "states $0.0 of its loss washed, Publication 550 disallows $4.0" in row["detail"]


def test_review_queue_puts_held_households_first():
    exc = pl.DataFrame([
        ("H_relaxed", "warning", "optimize", None, None, None, "relaxed the minimum cash"),
        ("H_held", "error", "validate", "lots.csv", 3, "quantity_shares", "not a number"),
        ("H_infeasible", "error", "optimize", None, None, None, "infeasible"),
    ], schema=EXCEPTION_SCHEMA, orient="row")
    outputs = {
        "exceptions": exc,
        "drift": pl.DataFrame({"household_id": ["H_big", "H_tax", "H_relaxed"], "total_value_usd": [2e6, 5e5, 1e5]}),
        "trades": _trades([("H_big", "B1", "X", "buy", 6000.0, 100.0)]),  # $600,000 of $2M = 30% turnover
        "realized_gains_by_household": pl.DataFrame({"household_id": ["H_tax"], "est_tax_usd": [12_000.0]}),
    }
    checks = pl.DataFrame({"household_id": ["H_check"], "account_id": ["C"], "check": ["cash"], "status": ["fail"],
                           "detail": ["cash below minimum"]})
    q = review_queue(outputs, checks, RunConfig())
    assert q["household_id"].to_list() == ["H_held", "H_check", "H_infeasible", "H_relaxed", "H_tax", "H_big"]
    assert q["priority"].to_list() == [100, 95, 90, 60, 50, 45] and q["rank"].to_list() == [1, 2, 3, 4, 5, 6]


@pytest.fixture(scope="module")
def shaped_run(tmp_path_factory, prefect_local):
    from data_contracts.sample_firm import write_sample_firm
    from flows.daily_rebalance import daily_rebalance

    root = tmp_path_factory.mktemp("desk")
    write_sample_firm(40, 5, AS_OF, root / "input", layouts="custodian")
    return daily_rebalance(input_dir=root / "input", as_of=AS_OF, var_dir=root / "var")


def test_order_files_are_in_each_custodians_layout_and_read_back_to_the_trades(shaped_run):
    from pathlib import Path

    from data_contracts.custodian_layout import CustodianLayout, to_canonical
    from data_contracts.layout import custodians_in
    from tasks.export import custodian_layouts

    out = Path(shaped_run["output_dir"])
    trades = pl.read_csv(out / "trades.csv", infer_schema=False)
    drop = Path(shaped_run["input_dir"])
    layouts = custodian_layouts(drop, custodians_in(drop))
    assert layouts["alder"] == CustodianLayout.canonical() and layouts["birch"].name == "birch"
    for cust, layout in layouts.items():
        path = layout.path(out / "custodians" / cust, "trades", AS_OF)
        assert path.stat().st_mode & 0o077 == 0  # owner-only
    var = out.parents[2]
    for private in [var / "warehouse" / "lotwise.duckdb", *(var / "warehouse" / "parquet").rglob("*.parquet")]:
        assert private.stat().st_mode & 0o077 == 0, private
        raw = pl.read_csv(path, separator=layout.delimiter, infer_schema=False, encoding=layout.encoding)
        back, error = to_canonical(raw.with_row_index("_line"), layout, "trades", AS_OF)
        assert error is None
        mine = trades.filter(pl.col("custodian_id") == cust)
        assert back.height == mine.height > 0
        cols = ["account_id", "security_id", "side", "quantity_shares", "est_price_usd", "est_amount_usd"]
        as_numbers = lambda f: f.select(cols).with_columns(pl.col(c).cast(pl.Float64) for c in cols[3:]).sort(cols[:3])  # noqa: E731
        assert as_numbers(back).equals(as_numbers(mine)), cust
