"""Malformed custodian files: the read never crashes, every good row arrives at its true line, and
every damaged row is set aside with its line (property tests over random damage)."""

from __future__ import annotations

import codecs
import datetime as dt
import shutil

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_contracts.frames import read_and_parse
from data_contracts.layout import read_day
from data_contracts.registry import INPUT_FILES
from data_contracts.validation import validate_day
from tests.conftest import AS_OF

LOTS = INPUT_FILES["lots"]
HEADER = ["as_of_date", "lot_id", "account_id", "security_id", "quantity_shares", "cost_basis_usd", "acquisition_date"]

# Row-level damage: each makes exactly its row unusable.
ROW_DAMAGE = {
    "negative_quantity": lambda r: r | {"quantity_shares": "-5"},
    "zero_quantity": lambda r: r | {"quantity_shares": "0"},
    "huge_number": lambda r: r | {"cost_basis_usd": "9" * 400},
    "not_a_number": lambda r: r | {"quantity_shares": "12,5x"},
    "bad_date": lambda r: r | {"acquisition_date": "2024-02-30"},
    "blank_required": lambda r: r | {"security_id": " "},
    "extra_field": None,  # handled in rendering: one more field than the header
}


def _rows(n: int) -> list[dict]:
    return [{"as_of_date": "2026-11-20", "lot_id": f"L{i:05d}", "account_id": f"A{i % 7}", "security_id": "VTI",
             "quantity_shares": f"{1 + i * 0.25}", "cost_basis_usd": f"{100 + i}.50", "acquisition_date": "2024-03-01"}
            for i in range(n)]


@st.composite
def damaged_files(draw):
    n = draw(st.integers(3, 30))
    rows = _rows(n)
    damage = draw(st.dictionaries(st.integers(0, n - 2), st.sampled_from(sorted(ROW_DAMAGE)), max_size=5))
    duplicate_of = draw(st.one_of(st.none(), st.integers(0, n - 1)))
    return dict(
        rows=rows, damage=damage, duplicate_of=duplicate_of,
        blank_lines=draw(st.sets(st.integers(1, n), max_size=3)),
        bom=draw(st.booleans()), encoding=draw(st.sampled_from(["utf-8", "utf-16", "cp1252-text"])),
        extra_column=draw(st.booleans()), duplicated_column=draw(st.sampled_from([None, "same", "differs"])),
        truncate=draw(st.booleans()), crlf=draw(st.booleans()),
    )


def render(spec) -> tuple[bytes, dict[str, int], set[str]]:
    """The file's bytes, the line each good row must arrive on (by lot id), and the damaged lot ids."""
    header = HEADER + (["note"] if spec["extra_column"] else []) + (["quantity_shares"] if spec["duplicated_column"] else [])
    lines, expected, damaged = [",".join(header)], {}, set()
    rows = list(spec["rows"]) + ([spec["rows"][spec["duplicate_of"]]] if spec["duplicate_of"] is not None else [])
    for i, row in enumerate(rows):
        if len(lines) in spec["blank_lines"]:
            lines.append("")
        kind = spec["damage"].get(i) if i < len(spec["rows"]) else None
        values = ROW_DAMAGE[kind](row) if kind and ROW_DAMAGE[kind] else row
        fields = [values[h] for h in HEADER]
        if spec["extra_column"]:
            fields.append("café" if spec["encoding"] == "cp1252-text" else "note")
        if spec["duplicated_column"]:
            fields.append(values["quantity_shares"] if spec["duplicated_column"] == "same" or i != 0 else "777")
        if kind == "extra_field":
            fields.append("surplus")
        lines.append(",".join(f'"{f}"' if "," in f else f for f in fields))
        line_no = len(lines)
        # A repeated lot id is set aside only when an earlier copy was good (the parser keeps the first good one).
        bad = kind is not None or (spec["duplicated_column"] == "differs" and i == 0) or row["lot_id"] in expected
        if bad:
            damaged.add(row["lot_id"]) if i < len(spec["rows"]) else None
        else:
            expected[row["lot_id"]] = line_no
    sep = "\r\n" if spec["crlf"] else "\n"
    text = sep.join(lines) + sep
    if spec["truncate"]:  # cut the last row in half: it must be set aside, not read as a short row
        last = lines[-1]
        text = sep.join(lines[:-1]) + sep + last[: max(1, len(last) // 2)]
        cut = rows[-1]["lot_id"]
        if cut in expected and expected[cut] == len(lines):
            del expected[cut]
        damaged.add(cut)
    if spec["encoding"] == "utf-16":
        data = text.encode("utf-16")  # carries its own byte-order mark
    elif spec["encoding"] == "cp1252-text":
        data = text.encode("cp1252")
    else:
        data = text.encode("utf-8")
    if spec["bom"] and spec["encoding"] != "utf-16":
        data = codecs.BOM_UTF8 + data
    return data, expected, damaged


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=damaged_files())
def test_damaged_lots_file_never_crashes_and_loses_no_good_row(spec, tmp_path_factory):
    data, expected, damaged = render(spec)
    path = tmp_path_factory.mktemp("fuzz") / "lots.csv"
    path.write_bytes(data)
    parsed = read_and_parse(path, LOTS, "custodians/x/lots.csv")
    assert parsed.file_error is None
    arrived = dict(zip(parsed.good["lot_id"].to_list(), parsed.good["_line"].to_list()))
    assert arrived == expected  # every good row, on its true line; nothing else
    set_aside = set(parsed.bad_rows["lot_id"].str.strip_chars().to_list()) if parsed.bad_rows.height else set()
    truncated = {rid for rid in damaged if rid not in set_aside}
    assert truncated <= {spec["rows"][-1]["lot_id"]} if spec["truncate"] else not truncated
    assert parsed.errors["row"].null_count() == 0 and parsed.errors["reason"].null_count() == 0


def test_missing_required_column_is_a_file_error_naming_it(tmp_path):
    path = tmp_path / "lots.csv"
    pl.DataFrame(_rows(3)).drop("cost_basis_usd").write_csv(path)
    parsed = read_and_parse(path, LOTS, "lots.csv")
    assert parsed.file_error == "lots.csv: missing column(s) cost_basis_usd"


def test_damaged_custodian_file_holds_only_its_rows_households(small_firm, tmp_path):
    """Future acquisition date, duplicated lot, a cp1252 byte and a truncated tail in alder's lots:
    the run proceeds, the affected households are held with file/row/field, the rest are ready."""
    firm = tmp_path / "firm"
    shutil.copytree(small_firm, firm)
    path = firm / "custodians" / "alder" / "lots.csv"
    lines = path.read_bytes().split(b"\n")
    future = (AS_OF + dt.timedelta(days=3)).isoformat().encode()
    lines[1] = lines[1].rsplit(b",", 1)[0] + b"," + future  # line 2: acquired after the as-of date
    lines.insert(3, lines[2])  # line 4 repeats line 3: a duplicated lot
    lines[5] = lines[5] + b"\xe9"  # an undecodable byte
    path.write_bytes(b"\n".join(lines[:-1])[:-40])  # and the last row cut off mid-row
    day = validate_day(read_day(firm, AS_OF), AS_OF)
    exc = day.exceptions.filter(pl.col("file") == "custodians/alder/lots.csv")
    by_row = {r: set(exc.filter(pl.col("row") == r)["reason"]) for r in (2, 4)}
    assert any("after the as-of date" in r for r in by_row[2])
    assert any("duplicate key, first seen on line 3" in r for r in by_row[4])
    assert any("truncated" in r for r in exc["reason"])
    assert any("not valid UTF-8" in r for r in day.exceptions["reason"])
    assert set(exc.filter(pl.col("severity") == "error")["household_id"].drop_nulls()) <= set(day.held)
    assert day.ready_households.len() > 0
