"""Input layouts: canonical CSV and Parquet, custodian shapes by mapping file, OFX statements."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest

from data_contracts.custodian_layout import CustodianLayout, load_layout
from data_contracts.layout import read_day
from data_contracts.sample_firm import write_sample_firm
from data_contracts.validation import PreviousDay, validate_day
from tests.conftest import AS_OF
from tests.ofx_fixture import write_statement

STAGED = ("accounts", "positions", "lots", "transactions", "cash")


def staged(folder: Path) -> dict[str, pl.DataFrame]:
    day = validate_day(read_day(folder, AS_OF), AS_OF)
    out = {}
    for name in STAGED:
        frame = getattr(day, name).drop("_line", "_file", strict=False)
        frame = frame.with_columns(pl.col(c).cast(pl.String) for c, t in frame.schema.items() if t == pl.Categorical)
        out[name] = frame.sort(frame.columns)
    return out | {"exceptions": day.exceptions, "ready": day.ready_households}


@pytest.fixture(scope="module")
def both_shapes(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("shapes")
    write_sample_firm(40, 11, AS_OF, root / "canonical")
    write_sample_firm(40, 11, AS_OF, root / "custodian", layouts="custodian")
    return root / "canonical", root / "custodian"


def test_custodian_shapes_read_exactly_as_the_canonical_layout(both_shapes):
    """Same firm, written once canonically and once in birch's and cedar's own shapes (thousands
    separators, parentheses, MM/DD/YYYY and YYYYMMDD dates, decimal commas, cents, codes, negative
    sells, pipes): after mapping, every validated row is identical, value for value."""
    canonical, shaped = (staged(p) for p in both_shapes)
    assert (both_shapes[1] / "custodians" / "cedar" / "pos.txt").exists()
    for name in STAGED:
        assert canonical[name].height > 0
        assert canonical[name].equals(shaped[name]), name
    assert shaped["exceptions"].filter(pl.col("severity") == "error").height == 0
    assert shaped["ready"].to_list() == canonical["ready"].to_list()


def test_an_error_in_a_mapped_file_names_the_custodians_file_line_and_column(both_shapes, tmp_path):
    firm = tmp_path / "firm"
    shutil.copytree(both_shapes[1], firm)
    path = firm / "custodians" / "birch" / f"BIRCH_POSITIONS_{AS_OF:%Y%m%d}.csv"
    lines = path.read_text().splitlines()
    fields = lines[3].split(",")
    fields[2] = "NOT_A_SECURITY"  # line 4, Symbol
    lines[3] = ",".join(fields)
    lines[5] = lines[5].replace("11/20/2026", "20/11/2026", 1)  # line 6: day first, not MM/DD/YYYY
    path.write_text("\n".join(lines) + "\n")
    day = validate_day(read_day(firm, AS_OF), AS_OF)
    exc = day.exceptions
    label = f"custodians/birch/{path.name}"
    date_error = exc.filter((pl.col("file") == label) & (pl.col("row") == 6))
    assert date_error["field"].to_list() == ["Business Date (as_of_date)"]
    assert "not a date" in date_error["reason"].item()
    unknown = exc.filter((pl.col("file") == label) & (pl.col("row") == 4))
    assert any("unknown security NOT_A_SECURITY" in r for r in unknown["reason"])


def test_canonical_parquet_reads_like_csv(both_shapes, tmp_path):
    firm = tmp_path / "firm"
    shutil.copytree(both_shapes[0], firm)
    alder = firm / "custodians" / "alder"
    for csv in alder.glob("*.csv"):
        pl.read_csv(csv, try_parse_dates=True).write_parquet(csv.with_suffix(".parquet"))
        csv.unlink()
    assert load_layout(alder).format == "parquet"
    parquet, canonical = staged(firm), staged(both_shapes[0])
    for name in STAGED:
        assert parquet[name].equals(canonical[name]), name


def test_a_broken_mapping_file_holds_only_that_custodian(both_shapes, tmp_path):
    firm = tmp_path / "firm"
    shutil.copytree(both_shapes[1], firm)
    clean = validate_day(read_day(firm, AS_OF), AS_OF)
    (firm / "custodians" / "cedar" / "layout.yaml").write_text("name: cedar\nfiles: {pos: {file: x}}\n")
    # With the last validated day saying whose accounts cedar holds, only those households are held.
    previous = PreviousDay(AS_OF - dt.timedelta(days=1), clean.accounts.select("account_id", "household_id", "custodian_id"),
                           clean.positions.select("account_id", "security_id", "quantity_shares"))
    day = validate_day(read_day(firm, AS_OF), AS_OF, previous=previous)
    reasons = day.exceptions.filter(pl.col("file") == "custodians/cedar/layout.yaml")["reason"]
    assert reasons.len() > 0 and "files.pos: not a custodian file" in reasons[0]
    cedar = set(clean.accounts.filter(pl.col("custodian_id").cast(pl.String) == "cedar")["household_id"])
    assert set(day.held) == cedar and day.ready_households.len() > 0  # alder's and birch's other households proceed
    # On a first run nothing says whose accounts cedar holds: any household may be missing some, so none is
    # solved on what may be part of its books, and the reason says so.
    first = validate_day(read_day(firm, AS_OF), AS_OF)
    assert first.ready_households.len() == 0
    assert first.exceptions["reason"].str.contains("no earlier validated day says whose accounts it holds").any()


def test_layout_rejects_unknown_fields():
    with pytest.raises(ValueError, match="unknown field"):
        CustodianLayout.model_validate({"name": "x", "files": {"cash": {"file": "c.csv", "columns": {"cash": "C"}}}})


def test_ofx_statement_gives_positions_transactions_cash_and_fifo_lots(tmp_path):
    """One account, ticker VTI: buys 10 @ $100 (2024-01-10) and 5 @ $120 (2026-10-01), sells 4 on
    2026-11-02. FIFO relief (Pub. 550 when shares are not identified) leaves 6 shares of the first
    lot with basis 6/10 × $1,000 = $600, and the 5-share lot at $600: 11 shares, the position."""
    firm = tmp_path / "day"
    folder = firm / "custodians" / "oak"
    folder.mkdir(parents=True)
    (folder / "layout.yaml").write_text("name: oak\nformat: ofx\n")
    pl.DataFrame({"account_id": ["X1"], "household_id": ["H1"], "custodian_id": ["oak"],
                  "account_type": ["taxable_individual"], "min_cash_usd": [0.0]}).write_csv(folder / "accounts.csv")
    write_statement(folder / "X1.ofx", account="X1", as_of=AS_OF, cash_usd="250.00",
                    positions=[("VTI", "11", "130.00", "1430.00")],
                    trades=[("F1", "2024-01-10", "BUY", "VTI", "10", "1000.00"),
                            ("F2", "2026-10-01", "BUY", "VTI", "5", "600.00"),
                            ("F3", "2026-11-02", "SELL", "VTI", "4", "520.00")])
    day = read_day(firm, AS_OF)
    oak = day.custodians["oak"]
    lots = oak["lots"].good.sort("acquisition_date")
    assert lots["lot_id"].to_list() == ["X1:F1", "X1:F2"]
    assert lots["quantity_shares"].to_list() == [6.0, 5.0]
    assert lots["cost_basis_usd"].to_list() == [600.0, 600.0]
    assert lots["acquisition_date"].cast(pl.String).to_list() == ["2024-01-10", "2026-10-01"]
    assert oak["positions"].good["quantity_shares"].to_list() == [11.0]
    assert oak["cash"].good["cash_usd"].to_list() == [250.0]
    txns = oak["transactions"].good.sort("trade_date")
    assert txns["transaction_type"].to_list() == ["buy", "buy", "sell"]
    assert txns["quantity_shares"].to_list() == [10.0, 5.0, 4.0]  # OFX sells carry negative units


def test_an_unreadable_ofx_statement_holds_that_custodian(tmp_path):
    folder = tmp_path / "custodians" / "oak"
    folder.mkdir(parents=True)
    (folder / "layout.yaml").write_text("name: oak\nformat: ofx\n")
    (folder / "X1.ofx").write_text("this is not OFX")
    oak = read_day(tmp_path, AS_OF).custodians["oak"]
    assert "unreadable OFX" in oak["positions"].file_error
    assert oak["accounts"].file_error.endswith("file missing")
