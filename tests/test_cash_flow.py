"""The cash-flow flow on a real local Prefect: deposits invested, withdrawals raised, requests validated."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from data_contracts.cash_flow import CashFlowRejected
from tests.conftest import AS_OF


@pytest.fixture(scope="module")
def daily(small_firm, tmp_path_factory, prefect_local):
    from flows.daily_rebalance import daily_rebalance

    var = tmp_path_factory.mktemp("cashflow") / "var"
    summary = daily_rebalance(input_dir=small_firm, as_of=AS_OF, var_dir=var)
    accounts = pl.concat([pl.read_csv(p, infer_schema=False) for p in small_firm.glob("custodians/*/accounts.csv")])
    trades = pl.read_csv(Path(summary["output_dir"]) / "trades.csv", infer_schema=False)
    # A household the daily run traded, with a taxable account: its published trades must be applied first.
    taxable = accounts.filter(pl.col("account_type").str.starts_with("taxable"))
    household = trades.filter(pl.col("household_id").is_in(taxable["household_id"].implode()))["household_id"][0]
    return dict(var=var, summary=summary, firm=small_firm, household=household, accounts=accounts)


def _run(daily, amount: str, **kw) -> dict:
    from flows.cash_flow_rebalance import cash_flow_rebalance

    return cash_flow_rebalance(household_id=kw.pop("household", daily["household"]), amount_usd=amount,
                               var_dir=daily["var"], **kw)


def _frame(summary: dict, name: str) -> pl.DataFrame:
    return pl.read_csv(Path(summary["output_dir"]) / name)


def _cash_before(daily, account: str) -> float:
    """The account's cash in the custodian file, moved by the daily run's published trades of it."""
    cash = pl.concat([pl.read_csv(p) for p in daily["firm"].glob("custodians/*/cash.csv")])
    start = cash.filter(pl.col("account_id") == account)["cash_usd"].sum()
    t = pl.read_csv(Path(daily["summary"]["output_dir"]) / "trades.csv").filter(pl.col("account_id") == account)
    sells = t.filter(pl.col("side") == "sell")["est_amount_usd"].sum()
    buys = t.filter(pl.col("side") == "buy")["est_amount_usd"].sum()
    return start + sells - buys


def test_a_deposit_is_invested_in_its_account(daily):
    s = _run(daily, "50000", event_id="deposit-1", occurred="2026-11-20T15:00:00+00:00")
    assert s["status"] == "published" and s["amount_usd"] == 50000.0 and Path(s["output_dir"]).is_absolute()
    assert s["applied_runs"] == [daily["summary"]["run_id"]]  # the day's published trades come first
    a = s["account_id"]
    t = _frame(s, "trades.csv")
    assert set(t["account_id"]) <= set(daily["accounts"].filter(pl.col("household_id") == daily["household"])["account_id"])
    mine = t.filter(pl.col("account_id") == a)
    bought = mine.filter(pl.col("side") == "buy")["est_amount_usd"].sum()
    sold = mine.filter(pl.col("side") == "sell")["est_amount_usd"].sum()
    # Cash identity of the account: cash after = cash before + deposit + sells − buys (to the cent, per row rounding).
    assert s["cash_after_usd"] == pytest.approx(_cash_before(daily, a) + 50_000 + sold - bought, abs=0.01 * (mine.height + 1))
    assert bought - sold > 0.9 * 50_000  # the deposit is put to work, not left in cash
    assert s["seconds_to_publish"] > 0  # recorded for the dashboard (speed is measured, not asserted)


def test_a_withdrawal_is_raised_after_the_deposit_without_wash_sales(daily):
    first = _run(daily, "50000", event_id="deposit-1", occurred="2026-11-20T15:00:00+00:00")
    s = _run(daily, "-20000.50", event_id="withdrawal-1", occurred="2026-11-20T16:00:00+00:00")
    assert s["status"] == "published"
    assert s["applied_runs"] == [daily["summary"]["run_id"], first["run_id"]]  # both earlier runs, in event order
    min_cash = float(daily["accounts"].filter(pl.col("account_id") == s["account_id"])["min_cash_usd"][0])
    assert s["cash_after_usd"] >= 20_000.50 + min_cash - 0.005  # raised: the account can pay it out
    # Wash sales across every account: no loss sale of anything bought by today's published runs.
    bought_today = set()
    for summary in (daily["summary"], first):
        t = _frame(summary, "trades.csv")
        bought_today |= set(t.filter((pl.col("household_id") == daily["household"]) & (pl.col("side") == "buy"))["security_id"])
    sales = _frame(s, "lot_sales.csv")
    losses = sales.filter((pl.col("gain_usd") < 0) & pl.col("taxable"))
    assert not set(losses["security_id"]) & bought_today
    # Lot availability: no lot sells more than what the earlier runs left of it.
    sold_before = pl.concat([_frame(x, "lot_sales.csv") for x in (daily["summary"], first)]).filter(
        pl.col("household_id") == daily["household"]).group_by("lot_id").agg(pl.col("quantity_shares").sum().alias("before"))
    lots = pl.concat([pl.read_csv(p, infer_schema=False) for p in daily["firm"].glob("custodians/*/lots.csv")]).select(
        "lot_id", pl.col("quantity_shares").cast(pl.Float64).alias("held"))
    check = sales.join(lots, on="lot_id", how="left").join(sold_before, on="lot_id", how="left").with_columns(
        pl.col("held").fill_null(float("inf")), pl.col("before").fill_null(0.0))
    assert (check["quantity_shares"] <= check["held"] - check["before"] + 1e-6).all()
    # The year to date it reports on includes what the day's earlier runs realized (taxable accounts).
    daily_report = _frame(daily["summary"], "tax_report.csv").filter(pl.col("household_id") == daily["household"])
    deposit_gains = _frame(first, "realized_gains_by_household.csv")
    report = _frame(s, "tax_report.csv")
    assert report["household_id"].to_list() == [daily["household"]]
    for side in ("st", "lt"):
        expected = daily_report[f"ytd_{side}_gain_usd"][0] + deposit_gains[f"{side}_gain_usd"].cast(pl.Float64).sum()
        assert report[f"ytd_{side}_gain_before_usd"][0] == pytest.approx(expected, abs=0.02)


def test_a_redelivered_event_rewrites_the_same_files(daily):
    a = _run(daily, "1000", event_id="same-event", occurred="2026-11-20T17:00:00+00:00")
    trades = (Path(a["output_dir"]) / "trades.csv").read_bytes()
    b = _run(daily, "1000", event_id="same-event", occurred="2026-11-20T17:00:00+00:00")
    assert a["run_id"] == b["run_id"] and (Path(b["output_dir"]) / "trades.csv").read_bytes() == trades
    runs = list((daily["var"] / "warehouse" / "parquet" / "fct_runs" / f"as_of_date={AS_OF}").glob(f"run_id={a['run_id']}"))
    assert len(runs) == 1


@pytest.mark.parametrize("household, amount, account, why", [
    ("NOPE", "100", None, "not in the latest validated data"),
    (None, "abc", None, "not an amount in dollars and cents"),
    (None, "12.345", None, "not an amount in dollars and cents"),
    (None, "25,50", None, "not an amount in dollars and cents"),  # a decimal comma: $25.50 or $2,550? never a guess
    (None, "-1,5", None, "not an amount in dollars and cents"),
    (None, "1,000", None, "not an amount in dollars and cents"),
    (None, "$100", None, "not an amount in dollars and cents"),
    (None, "+100", None, "not an amount in dollars and cents"),
    (None, "\u0661\u0660\u0660", None, "not an amount in dollars and cents"),  # Arabic-Indic 100
    (None, "\uff11\uff10\uff10", None, "not an amount in dollars and cents"),  # fullwidth 100
    (None, "0", None, "the amount is zero"),
    (None, "5000000000", None, "more than the $1,000,000,000"),
    (None, "-999999999", None, "is more than account"),
    (None, "100", "A99999999", "account •••9999 does not belong to household"),
    ("H1'; DROP TABLE stg_lots; --", "100", None, "is not an identifier"),
])
def test_a_bad_request_is_rejected_with_its_reason_and_runs_nothing(daily, household, amount, account, why):
    before = sorted((daily["var"] / "runs" / AS_OF.isoformat()).iterdir())
    with pytest.raises(CashFlowRejected, match=why.replace("$", r"\$").replace("(", r"\(")):
        _run(daily, amount, household=household or daily["household"], account_id=account)
    assert sorted((daily["var"] / "runs" / AS_OF.isoformat()).iterdir()) == before


def test_the_cli_rejects_before_emitting(daily):
    from typer.testing import CliRunner

    from flows.cli import app

    result = CliRunner().invoke(app, ["cashflow", "--household", "NOPE", "--amount", "-5", "--var", str(daily["var"])])
    assert result.exit_code == 2 and "not in the latest validated data" in result.output
    # An account of another household is refused here too, masked, before any event (no Prefect server is set).
    other = daily["accounts"].filter(pl.col("household_id") != daily["household"])["account_id"][0]
    result = CliRunner().invoke(app, ["cashflow", "--household", daily["household"], "--amount", "100", "--account", other,
                                      "--var", str(daily["var"])])
    assert result.exit_code == 2 and "does not belong to household" in result.output and other not in result.output


def test_occurred_orders_same_day_cash_flows():
    from data_contracts.cash_flow import parse_request

    r = parse_request(household_id="H1", amount_usd="-1500.50", account_id="None", occurred="2026-11-20T15:00:00Z")
    assert r.amount_usd.as_tuple().exponent == -2 and str(r.amount_usd) == "-1500.50" and r.account_id is None
    assert r.occurred == dt.datetime(2026, 11, 20, 15, tzinfo=dt.timezone.utc) and r.kind == "withdrawal"
