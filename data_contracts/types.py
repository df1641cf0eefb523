"""Identifier, money and quantity types shared by every contract.

Units are part of the name: ``*_usd`` is US dollars, ``*_shares`` is a share count (fractional
shares allowed), ``*_rate`` is a fraction (0.37 means 37 %), ``*_weight`` is a fraction of a
household's total value. Money is carried as float64 dollars end to end; where a file rounds
(trade files write cents), its contract says so.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

HouseholdId = Annotated[str, Field(min_length=1, max_length=64)]
AccountId = Annotated[str, Field(min_length=1, max_length=64)]
SecurityId = Annotated[str, Field(min_length=1, max_length=32)]
LotId = Annotated[str, Field(min_length=1, max_length=64)]
ModelId = Annotated[str, Field(min_length=1, max_length=64)]
CustodianId = Annotated[str, Field(min_length=1, max_length=32)]

Usd = float
NonNegativeUsd = Annotated[float, Field(ge=0)]
PositiveUsd = Annotated[float, Field(gt=0)]
PositiveShares = Annotated[float, Field(gt=0)]
Rate = Annotated[float, Field(ge=0, le=1)]
Weight = Annotated[float, Field(ge=0, le=1)]

AccountType = Literal["taxable_individual", "taxable_joint", "trust", "traditional_ira", "roth_ira"]
TAXABLE_ACCOUNT_TYPES: frozenset[str] = frozenset({"taxable_individual", "taxable_joint", "trust"})

FilingStatus = Literal["single", "married_joint", "married_separate", "head_of_household"]
SecurityType = Literal["etf", "stock", "mutual_fund"]
TransactionType = Literal[
    "buy", "sell", "deposit", "withdrawal", "dividend", "reinvested_dividend", "transfer_in"
]
Side = Literal["buy", "sell"]
Term = Literal["short", "long"]
Severity = Literal["error", "warning"]

# The models file names cash with this reserved security id (cash is never in the securities master).
CASH_SECURITY_ID = "CASH"
CASH_ASSET_CLASS = "cash"
