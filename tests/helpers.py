"""Test helpers: copy a generated firm and damage one of its files on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl


def copy_firm(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def edit_cell(path: Path, line: int, column: str, value: str) -> dict:
    """Set one cell (``line`` is the 1-based file line, header = 1); returns the row as it was."""
    df = pl.read_csv(path, infer_schema=False)
    i = line - 2
    before = df.row(i, named=True)
    df = df.with_columns(pl.when(pl.int_range(pl.len()) == i).then(pl.lit(value)).otherwise(pl.col(column)).alias(column))
    df.write_csv(path)
    return before


def drop_column(path: Path, column: str) -> None:
    pl.read_csv(path, infer_schema=False).drop(column).write_csv(path)


def household_of_account(firm: Path, account_id: str) -> str:
    accounts = pl.concat([pl.read_csv(p, infer_schema=False) for p in firm.glob("custodians/*/accounts.csv")])
    return accounts.filter(pl.col("account_id") == account_id)["household_id"].item()


def households_at(firm: Path, custodian: str) -> set[str]:
    return set(pl.read_csv(firm / "custodians" / custodian / "accounts.csv", infer_schema=False)["household_id"])
