"""`lotwise lots replay` end to end: a custodian's transactions in, audited files out."""

import polars as pl
from typer.testing import CliRunner

from flows.cli import REJECTED_ROWS_EXIT, app

CSV = """trade_date,taxpayer,account,account_type,security,side,quantity,price,fees,lot_method,lot_ids
2023-09-21,joe,T1,taxable_individual,M,buy,100,10,0,,A
2024-01-10,joe,T1,taxable_individual,M,buy,50,12,0,,B
2025-02-05,joe,T1,taxable_individual,M,sell,100,7.5,0,specific,A
2025-02-14,joe,IRA,traditional_ira,M,buy,40,8,0,,
2025-02-20,joe,T1,taxable_individual,M,sell,500,8,0,,
2025-02-10,joe,T1,taxable_individual,M,buy,5,8,0,,
2025-03-01,joe,T1,taxable_individual,M,hold,5,8,0,,
2025-03-01,joe,T1,taxable_individual,M,buy,-5,8,0,,
2025-03-02,joe,T1,taxable_individual,M,sell,10,9,0,specific,NOPE
"""


def test_replay_command(tmp_path):
    src = tmp_path / "tx.csv"
    src.write_text(CSV)
    result = CliRunner().invoke(app, ["lots", "replay", "--transactions", str(src), "--out", str(tmp_path / "out")])
    # Five rows rejected (below): everything else is written, and the exit code says the audit is not clean.
    assert result.exit_code == REJECTED_ROWS_EXIT == 5, result.output

    sales = pl.read_csv(tmp_path / "out" / "sales.csv")
    # Lot A: 100 × $7.50 − $1,000 = −$250. Lot B was bought 392 days earlier: no replacement.
    # The IRA buy of 40 shares 9 days later washes 40/100 of the loss ($100) permanently
    # (Rev. Rul. 2008-5); $150 stays deductible.
    (a,) = sales.rows(named=True)
    assert (a["lot_id"], a["gain_usd"], a["wash_disallowed_usd"], a["wash_disallowed_permanently_usd"]) == ("A", -250.0, 100.0, 100.0)
    assert a["recognized_gain_usd"] == -150.0 and a["term"] == "long"

    lots = pl.read_csv(tmp_path / "out" / "open_lots.csv")
    assert sorted(lots["quantity"].to_list()) == [40.0, 50.0]
    assert lots.filter(pl.col("account") == "IRA")["basis_usd"].item() == 320.0  # no basis moves into an IRA

    errors = pl.read_csv(tmp_path / "out" / "errors.csv")
    assert errors["row"].to_list() == [6, 7, 8, 9, 10]
    reasons = dict(zip(errors["row"], errors["reason"]))
    assert reasons[6].startswith("sells 500 shares of M in T1 but 50 are held")
    assert "trade-date order" in reasons[7]
    assert reasons[8].startswith("must be one of buy, sell")
    assert reasons[9].startswith("must be > 0")
    assert reasons[10].startswith("lot NOPE is not open")

    netting = pl.read_csv(tmp_path / "out" / "netting.csv")
    # 2025: LT loss $150 → deducted against ordinary income, nothing carried.
    row = netting.row(0, named=True)
    assert (row["year"], row["lt_losses_usd"], row["ordinary_deduction_usd"], row["lt_carryover_out_usd"]) == (2025, 150.0, 150.0, 0.0)


def test_a_clean_replay_exits_zero(tmp_path):
    src = tmp_path / "tx.csv"
    src.write_text("\n".join(CSV.splitlines()[:4]) + "\n")  # the two buys and the sale of lot A: nothing rejected
    result = CliRunner().invoke(app, ["lots", "replay", "--transactions", str(src), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert pl.read_csv(tmp_path / "out" / "errors.csv").height == 0
