"""Client data stays private: account ids masked wherever more people look than at the trade files,
and what is written on disk about clients is owner-only."""

from __future__ import annotations

import stat
from pathlib import Path

import polars as pl

from data_contracts.layout import read_day
from data_contracts.privacy import mask_account, mask_text
from data_contracts.validation import validate_day
from tasks.artifacts import masked
from tests.conftest import AS_OF
from tests.helpers import copy_firm, edit_cell


def test_an_account_id_keeps_only_its_last_four_characters():
    assert mask_account("A00000123") == "•••0123" and mask_account("A12") == "•••" and mask_account(None) == ""


def test_known_ids_and_any_account_a_reason_names_are_masked_and_nothing_else():
    known = {"Z9000001"}
    text = "lots of Z9000001; account B7777123: unknown household H0000004; accounts file unusable; Account X1"
    assert mask_text(text, known) == ("lots of •••0001; account •••7123: unknown household H0000004; "
                                      "accounts file unusable; Account ••")  # two characters, both hidden
    # A word that merely contains a known id is not it; a word after "account" with no digit is not an id.
    assert mask_text("Z9000001x and account holds", known) == "Z9000001x and account holds"


def test_frames_shown_on_the_dashboard_mask_the_account_column_and_ids_in_text():
    frame = pl.DataFrame({"account_id": ["A00000123"], "reason": ["A00000999 is a sibling of account C12345678"]})
    shown = masked(frame, {"A00000999"})
    assert shown.row(0) == ("•••0123", "•••0999 is a sibling of account •••5678")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_account_set_aside_by_validation_is_still_known_and_so_masked(small_firm, tmp_path):
    firm = copy_firm(small_firm, tmp_path / "input")
    accounts = firm / "custodians" / "alder" / "accounts.csv"
    bad = edit_cell(accounts, 2, "account_type", "savings-ish")  # a row set aside: its account is nowhere in day.accounts
    day = validate_day(read_day(firm, AS_OF), AS_OF)
    assert bad["account_id"] not in day.accounts["account_id"].to_list()
    assert bad["account_id"] in day.account_ids_seen
    reasons = " ".join(day.exceptions["reason"].to_list())
    shown = " ".join(masked(day.exceptions, day.account_ids_seen)["reason"].to_list())
    assert bad["account_id"] in reasons  # the exception quotes it, unmasked in the desk's own file
    assert bad["account_id"] not in shown and not any(a in shown for a in day.account_ids_seen)


def test_snapshots_checkpoints_and_data_docs_are_owner_only(small_firm, tmp_path):
    from data_contracts.config import RunConfig
    from data_contracts.expectations import QualityRecorder
    from optimizer.problem import SolveParams
    from tasks.optimize import snapshot_note
    from tasks.problems import build_problems
    from tasks.solve import BatchOutcome, save_outcome
    from tasks.validate import write_data_docs

    day = validate_day(read_day(small_firm, AS_OF), AS_OF)
    problem = build_problems(day, day.ready_households.head(1).to_list(), RunConfig())[0]
    snapshots = tmp_path / "var" / "snapshots" / AS_OF.isoformat() / "run"
    snapshot_note(problem, SolveParams(), snapshots)
    assert _mode(snapshots / f"{problem.household_id}.npz") == 0o600
    assert all(_mode(p) == 0o700 for p in (tmp_path / "var", tmp_path / "var" / "snapshots", snapshots.parent, snapshots))

    outcome = BatchOutcome([problem.household_id], {"trades": pl.DataFrame({"a": [1]})}, pl.DataFrame({"e": ["x"]}))
    batch = save_outcome(outcome, tmp_path / "var" / "checkpoints" / AS_OF.isoformat() / "run")
    assert _mode(batch) == 0o700 and _mode(batch.parent) == 0o700 and _mode(batch.parent.parent) == 0o700
    assert [p.name for p in batch.iterdir() if _mode(p) != 0o600] == []

    quality = QualityRecorder("run", AS_OF)
    quality.validate("firm/households.csv", "households", [], day.households)
    docs = write_data_docs(quality, tmp_path / "var" / "data_docs" / AS_OF.isoformat() / "run")
    folder = tmp_path / "var" / "data_docs" / AS_OF.isoformat() / "run"
    assert docs.index_html is not None and Path(docs.index_html).is_file()
    assert _mode(folder) == 0o700 and _mode(folder.parent) == 0o700
    assert [p for p in folder.rglob("*") if _mode(p) != (0o700 if p.is_dir() else 0o600)] == []
