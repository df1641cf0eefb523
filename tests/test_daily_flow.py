"""The daily flow end to end on a real local Prefect, a real DuckDB file and real Parquet."""

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from data_contracts.registry import OUTPUT_FILES
from tests.conftest import AS_OF
from tests.helpers import copy_firm, drop_column, edit_cell, household_of_account, households_at


@pytest.fixture(scope="module")
def damaged_run(small_firm, tmp_path_factory, prefect_local):
    from flows.daily_rebalance import daily_rebalance

    root = tmp_path_factory.mktemp("flow")
    firm = copy_firm(small_firm, root / "input")
    lots = firm / "custodians" / "alder" / "lots.csv"
    bad_qty = edit_cell(lots, 3, "quantity_shares", "n/a")
    bad_sec = edit_cell(lots, 50, "security_id", "NOPE")
    drop_column(firm / "custodians" / "cedar" / "positions.csv", "market_value_usd")
    held = {household_of_account(firm, bad_qty["account_id"]), household_of_account(firm, bad_sec["account_id"])}
    held |= households_at(firm, "cedar")
    # One otherwise clean household whose account must keep more cash than it could ever raise:
    # minimum cash is a soft limit, relaxed (and reported) so the household still rebalances.
    accounts = pl.read_csv(firm / "custodians" / "birch" / "accounts.csv", infer_schema=False)
    clean = accounts.filter(~pl.col("household_id").is_in(list(held)))
    line = accounts["account_id"].to_list().index(clean["account_id"][0]) + 2
    edit_cell(firm / "custodians" / "birch" / "accounts.csv", line, "min_cash_usd", "1000000000")
    relaxed = clean["household_id"][0]

    var = root / "var"
    first = daily_rebalance(input_dir=firm, as_of=AS_OF, var_dir=var)
    trades_first = (var / "runs" / AS_OF.isoformat() / first["run_id"] / "trades.csv").read_bytes()
    second = daily_rebalance(input_dir=firm, as_of=AS_OF, var_dir=var)
    return dict(firm=firm, var=var, first=first, second=second, held=held, relaxed=relaxed,
                trades_first=trades_first, bad_qty=bad_qty, bad_sec=bad_sec)


def out(run, name):
    return run["var"] / "runs" / AS_OF.isoformat() / run["first"]["run_id"] / name


def test_every_household_is_accounted_for(damaged_run):
    s = damaged_run["first"]
    assert s["households_total"] == 60
    assert s["households_quarantined"] == len(damaged_run["held"])
    assert s["households_infeasible"] == 0
    assert s["households_relaxed"] == 1
    assert s["households_failed_verification"] == 0
    assert s["households_solved"] + s["households_quarantined"] == 60
    assert [t["stage"] for t in s["stage_timings"]] == ["ingest", "validate", "stage", "solve", "persist", "export"]


def test_exceptions_name_file_row_field(damaged_run):
    exc = pl.read_csv(out(damaged_run, "exceptions.csv"))
    rows = {(r["file"], r["row"], r["field"]) for r in exc.iter_rows(named=True)}
    assert ("custodians/alder/lots.csv", 3, "quantity_shares") in rows
    assert ("custodians/alder/lots.csv", 50, "security_id") in rows
    cedar = exc.filter(pl.col("reason").str.contains("custodians/cedar/positions.csv: missing column"))
    assert set(cedar["household_id"]) == households_at(damaged_run["firm"], "cedar")
    relaxed = exc.filter(pl.col("stage") == "optimize")
    assert relaxed["household_id"].to_list() == [damaged_run["relaxed"]]
    assert relaxed["severity"].to_list() == ["warning"]
    assert "cannot reach its minimum cash" in relaxed["reason"][0]
    assert "relaxed the minimum cash of" in relaxed["reason"][0]
    # Its solver input was snapshotted for `lotwise replay`, and the exception says where.
    snapshot = relaxed["reason"][0].split("lotwise replay ")[1].rstrip("]")
    assert snapshot.endswith(f"{damaged_run['relaxed']}.npz") and Path(snapshot).is_file()


def test_no_trades_for_held_households(damaged_run):
    trades = pl.read_csv(out(damaged_run, "trades.csv"))
    assert trades.height > 0
    assert not set(trades["household_id"]) & damaged_run["held"]
    assert damaged_run["relaxed"] in set(trades["household_id"])


def test_outputs_follow_their_contracts(damaged_run):
    for name, contract in OUTPUT_FILES.items():
        frame = pl.read_csv(out(damaged_run, contract.filename), infer_schema=False)
        assert frame.columns == contract.columns, name
    summary = json.loads(out(damaged_run, "run_summary.json").read_text())
    assert summary["run_id"] == damaged_run["first"]["run_id"]
    # Every path absolute, every amount a number.
    assert all(Path(summary[k]).is_absolute() for k in ("input_dir", "output_dir", "data_docs"))
    assert all(isinstance(v, (int, float)) for k, v in summary.items() if k.endswith("_usd"))


def test_lot_sales_never_exceed_lots_and_add_up_to_trades(damaged_run):
    sales = pl.read_csv(out(damaged_run, "lot_sales.csv"))
    lots = pl.concat([pl.read_csv(p, infer_schema=False).select("lot_id", pl.col("quantity_shares").cast(pl.Float64, strict=False))
                      for p in damaged_run["firm"].glob("custodians/*/lots.csv")], how="vertical_relaxed")
    joined = sales.join(lots.rename({"quantity_shares": "lot_qty"}), on="lot_id", how="left")
    assert joined["lot_qty"].null_count() == 0
    assert (joined["quantity_shares"] <= joined["lot_qty"] + 1e-6).all()
    sells = pl.read_csv(out(damaged_run, "trades.csv")).filter(pl.col("side") == "sell")
    by_trade = sales.group_by("account_id", "security_id").agg(pl.col("quantity_shares").sum().alias("lots"))
    check = sells.join(by_trade, on=["account_id", "security_id"])
    assert check.height == sells.height
    assert ((check["quantity_shares"] - check["lots"]).abs() < 1e-5 * check.height).all()


def test_tax_report_adds_up(damaged_run):
    report, gains, drift = (pl.read_csv(out(damaged_run, f)) for f in ("tax_report.csv", "realized_gains_by_household.csv", "drift.csv"))
    summary = damaged_run["first"]
    # One row per solved household, and only those.
    assert sorted(report["household_id"]) == sorted(drift["household_id"])
    assert report.height == summary["households_solved"]
    # YTD including the run = YTD before + the run; the run's figures are the realized-gains file's.
    for side in ("st", "lt"):
        assert ((report[f"ytd_{side}_gain_usd"] - report[f"ytd_{side}_gain_before_usd"] - report[f"run_{side}_gain_usd"])
                .abs() <= 0.011).all()
    joined = report.join(gains, on="household_id", how="left").with_columns(pl.col("st_gain_usd").fill_null(0.0))
    assert ((joined["run_st_gain_usd"] - joined["st_gain_usd"]).abs() <= 0.011).all()
    split = report["tax_saved_harvesting_usd"] + report["tax_saved_deferral_usd"] - report["tax_saved_usd"]
    assert (split.abs() <= 0.011).all()
    assert summary["tax_saved_usd"] == pytest.approx(report["tax_saved_usd"].sum(), abs=0.01 * report.height)
    # One estimated tax: the summary's is the report's netted "tax this run adds", summed, and so is each
    # household's in the realized-gains file; the marginal-rate figure beside it is named as such.
    assert summary["est_tax_usd"] == pytest.approx(report["est_tax_run_usd"].sum(), abs=0.01 * report.height)
    both = gains.join(report.select("household_id", "est_tax_run_usd"), on="household_id")
    assert both.height == gains.height and ((both["est_tax_usd"] - both["est_tax_run_usd"]).abs() <= 0.011).all()
    assert "est_tax_at_marginal_rates_usd" in gains.columns
    html = out(damaged_run, "desk_report.html").read_text(encoding="utf-8")
    from tasks.artifacts import money
    assert f"<th>estimated tax this run adds (netted with the year)</th><td>{money(summary['est_tax_usd'])}</td>" in html
    assert (report["losses_harvested_usd"] >= 0).all()
    # The demo firm has loss lots and recent buys: the naive baseline trips wash sales Lotwise avoids.
    assert report["wash_sales_avoided"].sum() > 0
    assert report["tax_saved_usd"].sum() > 0


def test_the_desk_report_is_one_self_contained_file(damaged_run):
    import re
    import stat
    import xml.etree.ElementTree as ET

    path = out(damaged_run, "desk_report.html")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    html = path.read_text(encoding="utf-8")
    # Opens offline: no scripts, nothing fetched (links only to the files next to it).
    assert "<script" not in html and not re.search(r'(src|href)="(https?:|//)', html)
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) == 4 and all(ET.fromstring(s) is not None for s in svgs)
    for heading in ("Drift before and after", "Taxes saved against a tax-naive rebalance", "Turnover", "Exceptions by reason"):
        assert f"<h2>{heading}</h2>" in html
    # The exceptions chart counts the held households under "held: bad input".
    held = re.search(r">held: bad input</text><rect[^>]*/><text[^>]*>([\d,]+)</text>", html)
    assert held and int(held[1].replace(",", "")) == len(damaged_run["held"])
    accounts = pl.concat([pl.read_csv(p, infer_schema=False) for p in damaged_run["firm"].glob("custodians/*/accounts.csv")])
    assert not any(a in html for a in accounts["account_id"])  # masked, as in the dashboard


def test_rerun_is_idempotent(damaged_run):
    assert damaged_run["second"]["run_id"] == damaged_run["first"]["run_id"]
    assert out(damaged_run, "trades.csv").read_bytes() == damaged_run["trades_first"]
    runs = list((damaged_run["var"] / "runs" / AS_OF.isoformat()).iterdir())
    assert [p.name for p in runs] == [damaged_run["first"]["run_id"]]  # no half-written or duplicate folders
    with duckdb.connect(str(damaged_run["var"] / "warehouse" / "lotwise.duckdb"), read_only=True) as con:
        n_trades = con.execute("select count(*) from fct_trades").fetchone()[0]
        n_runs = con.execute("select count(*) from run_log").fetchone()[0]
        staged = con.execute("select count(distinct household_id) from stg_households").fetchone()[0]
    assert n_trades == pl.read_csv(out(damaged_run, "trades.csv")).height
    assert n_runs == 1
    assert staged == 60


def test_corrected_late_file_resolves_only_the_affected_households(damaged_run, small_firm, tmp_path):
    """cedar's positions arrive again, corrected, after the day's run: the rerun solves cedar's
    households and carries every other decision over from the first run unchanged."""
    from flows.daily_rebalance import daily_rebalance

    firm = copy_firm(damaged_run["firm"], tmp_path / "input")
    (firm / "custodians" / "cedar" / "positions.csv").write_bytes(
        (small_firm / "custodians" / "cedar" / "positions.csv").read_bytes())
    first = damaged_run["first"]
    late = daily_rebalance(input_dir=firm, as_of=AS_OF, var_dir=damaged_run["var"])
    assert late["run_id"] != first["run_id"]
    assert late["households_reused"] == first["households_solved"]  # nothing of theirs changed
    newly = late["households_solved"] - late["households_reused"]
    assert newly > 0 and late["households_quarantined"] == first["households_quarantined"] - newly
    cedar = households_at(small_firm, "cedar")
    before = pl.read_csv(out(damaged_run, "trades.csv"))
    after = pl.read_csv(damaged_run["var"] / "runs" / AS_OF.isoformat() / late["run_id"] / "trades.csv")
    carried = after.filter(~pl.col("household_id").is_in(list(cedar))).drop("run_id")
    assert carried.equals(before.drop("run_id"))  # same trades, same order, for everyone not at cedar
    assert after.filter(pl.col("household_id").is_in(list(cedar))).height > 0
    assert late["data_docs"].endswith("index.html") and Path(late["data_docs"]).exists()
    assert late["expectations_evaluated"] > 0


def test_held_households_show_their_value_in_the_review_queue(damaged_run):
    # A held household has no solve to value it: the queue shows the custodians' figures of what validated
    # (positions' market value plus cash), so the desk can see which held households matter most.
    queue = pl.read_csv(out(damaged_run, "review_queue.csv"))
    held = {household_of_account(damaged_run["firm"], damaged_run[k]["account_id"]) for k in ("bad_qty", "bad_sec")}
    rows = queue.filter(pl.col("household_id").is_in(list(held)))
    assert rows.height == len(held) > 0 and rows["total_value_usd"].null_count() == 0
    assert (rows["total_value_usd"] > 0).all()
    positions = pl.concat([pl.read_csv(p) for p in damaged_run["firm"].glob("custodians/*/positions.csv")
                           if "cedar" not in str(p)], how="diagonal_relaxed")
    cash = pl.concat([pl.read_csv(p) for p in damaged_run["firm"].glob("custodians/*/cash.csv")], how="diagonal_relaxed")
    accounts = pl.concat([pl.read_csv(p, infer_schema=False) for p in damaged_run["firm"].glob("custodians/*/accounts.csv")])
    for h, value in rows.select("household_id", "total_value_usd").iter_rows():
        mine = accounts.filter(pl.col("household_id") == h)["account_id"]
        expected = positions.filter(pl.col("account_id").is_in(mine.implode()))["market_value_usd"].sum() \
            + cash.filter(pl.col("account_id").is_in(mine.implode()))["cash_usd"].sum()
        assert value == pytest.approx(expected, abs=0.01)
