"""Contracts parse files frame-wise and name file, row and field for every problem."""

from pathlib import Path

import polars as pl

from data_contracts.frames import column_specs, read_and_parse
from data_contracts.inputs import LotRecord
from data_contracts.reference import render
from data_contracts.registry import INPUT_FILES

LOTS = INPUT_FILES["lots"]
HEADER = "as_of_date,lot_id,account_id,security_id,quantity_shares,cost_basis_usd,acquisition_date\n"


def write(tmp_path: Path, text: str, name="lots.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_specs_come_from_the_pydantic_model():
    specs = {s.name: s for s in column_specs(LotRecord)}
    assert specs["quantity_shares"].gt == 0 and specs["quantity_shares"].dtype is float
    assert specs["cost_basis_usd"].ge == 0
    assert specs["lot_id"].required


def test_good_file_parses_typed(tmp_path):
    f = write(tmp_path, HEADER + "2026-11-20,L1,A1,VTI,10.5,1000.00,2024-01-05\n")
    parsed = read_and_parse(f, LOTS, "lots.csv")
    assert parsed.errors.height == 0 and parsed.file_error is None
    assert parsed.good.schema["quantity_shares"] == pl.Float64
    assert parsed.good["acquisition_date"].to_list()[0].isoformat() == "2024-01-05"


def test_bad_values_name_row_and_field(tmp_path):
    f = write(tmp_path, HEADER
              + "2026-11-20,L1,A1,VTI,ten,1000.00,2024-01-05\n"      # line 2: non-numeric quantity
              + "2026-11-20,L2,A1,VTI,5,-3,2024-01-05\n"             # line 3: negative basis
              + "2026-11-20,L3,A1,VTI,5,300,20240105\n"              # line 4: bad date
              + "2026-11-20,L4,A1,VTI,5,300,2024-01-05\n"            # line 5: good
              + "2026-11-20,L4,A1,VTI,6,300,2024-01-05\n")           # line 6: duplicate lot id
    parsed = read_and_parse(f, LOTS, "lots.csv")
    errors = {(r["row"], r["field"]): r["reason"] for r in parsed.errors.iter_rows(named=True)}
    assert errors[(2, "quantity_shares")] == "not a number"
    assert errors[(3, "cost_basis_usd")] == "must be ≥ 0"
    assert errors[(4, "acquisition_date")] == "not a date (YYYY-MM-DD)"
    assert errors[(6, "lot_id")].startswith("duplicate key, first seen on line 5")
    assert parsed.good["lot_id"].to_list() == ["L4"]
    assert sorted(parsed.bad_rows["_line"].to_list()) == [2, 3, 4, 6]


def test_missing_column_is_a_file_error(tmp_path):
    f = write(tmp_path, "as_of_date,lot_id,account_id,security_id,cost_basis_usd,acquisition_date\n2026-11-20,L1,A1,VTI,1,2024-01-05\n")
    parsed = read_and_parse(f, LOTS, "custodians/x/lots.csv")
    assert parsed.file_error == "custodians/x/lots.csv: missing column(s) quantity_shares"
    assert parsed.good.height == 0


def test_bom_blank_lines_and_extra_columns(tmp_path):
    f = write(tmp_path, "\ufeff" + HEADER.replace("\n", ",note\n") + "2026-11-20,L1,A1,VTI,1,10,2024-01-05,hi\n\n")
    parsed = read_and_parse(f, LOTS, "lots.csv")
    assert parsed.good["lot_id"].to_list() == ["L1"]
    assert parsed.warnings == ["lots.csv: ignored unexpected column(s) note"]


def test_missing_file(tmp_path):
    parsed = read_and_parse(tmp_path / "nope.csv", LOTS, "custodians/x/lots.csv")
    assert parsed.file_error == "custodians/x/lots.csv: file missing"


def test_contracts_reference_is_up_to_date():
    # docs/contracts.md is generated: regenerate with `make docs` when a contract changes.
    doc = Path(__file__).resolve().parents[1] / "docs" / "contracts.md"
    assert doc.read_text() == render()
