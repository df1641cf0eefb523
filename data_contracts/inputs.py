"""Contracts of the canonical input layout: one pydantic model per file.

A day's drop is a folder::

    firm/securities.csv  firm/prices.csv  firm/models.csv  firm/households.csv
    firm/risk_loadings.csv  firm/risk_factor_covariance.csv  firm/risk_specific.csv   (optional, together)
    custodians/<custodian_id>/{accounts,positions,lots,transactions,cash}.csv

Files are CSV with a header row, UTF-8, ISO dates (YYYY-MM-DD), '.' as decimal point and no
thousands separator. Each model's docstring states the file's grain. Rows are validated
frame-wise from these models (``data_contracts.frames``); a model is never built per row.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Optional

from pydantic import BaseModel, ConfigDict, Field

from data_contracts.types import (
    AccountId,
    AccountType,
    CustodianId,
    FilingStatus,
    HouseholdId,
    LotId,
    ModelId,
    NonNegativeUsd,
    PositiveShares,
    PositiveUsd,
    Rate,
    SecurityId,
    SecurityType,
    TransactionType,
    Usd,
    Weight,
)


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def usd(description: str, **kw) -> dict:
    return dict(description=description, json_schema_extra={"unit": "USD"}, **kw)


def shares(description: str, **kw) -> dict:
    return dict(description=description, json_schema_extra={"unit": "shares"}, **kw)


def fraction(description: str, **kw) -> dict:
    return dict(description=description, json_schema_extra={"unit": "fraction"}, **kw)


class SecurityRecord(Record):
    """Securities master: one row per security."""

    security_id: SecurityId = Field(description="Ticker-like identifier used in every other file.")
    name: str = Field(description="Display name.")
    security_type: SecurityType = Field(description="etf, stock or mutual_fund.")
    asset_class: str = Field(min_length=1, description="Firm asset class the security counts toward.")
    fund_family: Optional[str] = Field(None, description="Fund family (ETFs and mutual funds), for product preferences.")
    sector: Optional[str] = Field(None, description="GICS-like sector (stocks; blank for funds).")
    industry: Optional[str] = Field(None, description="Industry within the sector (stocks).")
    tags: Optional[str] = Field(None, description="Semicolon-separated tags, e.g. 'esg_leader;fossil_fuel'.")
    identical_group: Optional[str] = Field(
        None, description="Substantially-identical group for wash sales; blank = identical only to itself."
    )
    substitute_id: Optional[SecurityId] = Field(
        None, description="Security to hold instead after harvesting a loss (not substantially identical)."
    )
    substitute_cost: Optional[float] = Field(
        None, ge=0, le=1, description="When this security stands in as a substitute: its cost per dollar held "
                                      "(tracking gap; blank = the run's default).", json_schema_extra={"unit": "fraction"}
    )
    beta: Optional[float] = Field(None, description="Factor exposure: market beta.", json_schema_extra={"unit": "z"})
    size: Optional[float] = Field(None, description="Factor exposure: size (z-score).", json_schema_extra={"unit": "z"})
    value: Optional[float] = Field(None, description="Factor exposure: value (z-score).", json_schema_extra={"unit": "z"})
    momentum: Optional[float] = Field(
        None, description="Factor exposure: momentum (z-score).", json_schema_extra={"unit": "z"}
    )


class PriceRecord(Record):
    """Closing prices: one row per security × price date (the latest date on or before as-of is used)."""

    security_id: SecurityId = Field(description="Security priced.")
    price_date: dt.date = Field(description="Date of the close.")
    close_usd: PositiveUsd = Field(**usd("Closing price per share."))


class ModelTargetRecord(Record):
    """Firm models: one row per model × security; weights of a model sum to 1. Cash is security 'CASH'."""

    model_id: ModelId = Field(description="Model (target allocation) identifier.")
    security_id: SecurityId = Field(description="Security the model holds, or CASH.")
    target_weight: Weight = Field(**fraction("Target fraction of the household's total value."))


class HouseholdRecord(Record):
    """Households and their tax profiles: one row per household."""

    household_id: HouseholdId = Field(description="Household identifier.")
    model_id: ModelId = Field(description="Model the household is managed to (across all its accounts).")
    filing_status: FilingStatus = Field(description="Federal filing status.")
    federal_ordinary_rate: Rate = Field(**fraction("Marginal federal ordinary rate (short-term gains)."))
    federal_ltcg_rate: Rate = Field(**fraction("Federal long-term capital gains rate (0, 0.15 or 0.20)."))
    state_rate: Rate = Field(**fraction("Marginal state income tax rate on capital gains."))
    niit_applies: bool = Field(description="Whether the 3.8 % net investment income tax applies at the margin.")
    ytd_realized_st_gain_usd: Usd = Field(**usd("Net short-term gain realized this year so far (negative = loss)."))
    ytd_realized_lt_gain_usd: Usd = Field(**usd("Net long-term gain realized this year so far (negative = loss)."))
    st_loss_carryforward_usd: NonNegativeUsd = Field(**usd("Short-term capital loss carried into this year."))
    lt_loss_carryforward_usd: NonNegativeUsd = Field(**usd("Long-term capital loss carried into this year."))


class AccountRecord(Record):
    """Accounts held at the custodian: one row per account."""

    account_id: AccountId = Field(description="Account identifier (unique across custodians).")
    household_id: HouseholdId = Field(description="Owning household.")
    custodian_id: CustodianId = Field(description="Custodian holding the account.")
    account_type: AccountType = Field(description="Tax treatment: taxable_*/trust, traditional_ira or roth_ira.")
    min_cash_usd: NonNegativeUsd = Field(**usd("Cash the account must keep after trading."))


class PositionRecord(Record):
    """Positions: one row per account × security at the as-of date."""

    as_of_date: dt.date = Field(description="Business day the file describes.")
    account_id: AccountId = Field(description="Account holding the position.")
    security_id: SecurityId = Field(description="Security held.")
    quantity_shares: PositiveShares = Field(**shares("Shares held."))
    market_value_usd: NonNegativeUsd = Field(**usd("Custodian's market value of the position."))


class LotRecord(Record):
    """Open tax lots: one row per lot at the as-of date."""

    as_of_date: dt.date = Field(description="Business day the file describes.")
    lot_id: LotId = Field(description="Custodian lot identifier, unique across the firm.")
    account_id: AccountId = Field(description="Account holding the lot.")
    security_id: SecurityId = Field(description="Security of the lot.")
    quantity_shares: PositiveShares = Field(**shares("Open shares in the lot."))
    cost_basis_usd: NonNegativeUsd = Field(**usd("Total adjusted cost basis of the open shares."))
    acquisition_date: dt.date = Field(description="Trade date of the acquisition (holding period starts the day after).")


class TransactionRecord(Record):
    """Transactions of the last 60 days: one row per transaction."""

    transaction_id: str = Field(min_length=1, description="Custodian transaction identifier.")
    account_id: AccountId = Field(description="Account of the transaction.")
    trade_date: dt.date = Field(description="Trade date.")
    transaction_type: TransactionType = Field(description="buy, sell, deposit, withdrawal, dividend, ...")
    security_id: Optional[SecurityId] = Field(None, description="Security traded (blank for cash movements).")
    quantity_shares: Optional[PositiveShares] = Field(None, **shares("Shares bought or sold."))
    amount_usd: NonNegativeUsd = Field(**usd("Gross amount of the transaction (always positive)."))
    cost_basis_usd: Optional[NonNegativeUsd] = Field(None, **usd("Sells: basis of the lots relieved."))


class CashRecord(Record):
    """Cash balances: one row per account at the as-of date."""

    as_of_date: dt.date = Field(description="Business day the file describes.")
    account_id: AccountId = Field(description="Account.")
    cash_usd: Usd = Field(**usd("Settled cash balance (negative = debit)."))


# ---- The day's risk model (optional as a set: all three files, or none; data_contracts.risk_model)

FactorName = Annotated[str, Field(min_length=1, max_length=64)]


class RiskLoadingRecord(Record):
    """Risk model loadings: one row per security × factor (a pair not given is a zero loading).

    A security is in the risk model when it has a row in ``risk_specific.csv``; its loadings are
    optional. All three risk files come together, or none (then the day has no risk model)."""

    security_id: SecurityId = Field(description="Security the loading is for.")
    factor: FactorName = Field(description="Factor name, as in risk_factor_covariance.csv (e.g. market, sector:energy, size).")
    loading: float = Field(description="Exposure of the security's return to the factor's return (1.0 = one for one).",
                           json_schema_extra={"unit": "return per factor return"})


class RiskFactorCovarianceRecord(Record):
    """Risk model factor covariance: one row per factor pair (both triangles, or one: mirrored).

    Annualized, returns as fractions (a factor of 16 % volatility has variance 0.0256). Every factor
    has its variance row (factor_1 = factor_2); a pair not given is zero covariance. The matrix must
    be symmetric (where both triangles are given they agree to 1e-9 × the largest variance) and
    positive semi-definite (no eigenvalue below −1e-10 × the largest); otherwise the file is unusable.
    The file's first factor is taken for the market: a security not covered, of an asset class with
    no covered security, is priced as loading 1 on it (optimizer.risk.RiskModel.for_securities)."""

    factor_1: FactorName = Field(description="First factor of the pair.")
    factor_2: FactorName = Field(description="Second factor of the pair (equal to factor_1: the factor's variance).")
    covariance: float = Field(description="Covariance of the two factors' annual returns.",
                              json_schema_extra={"unit": "fraction² per year"})


class RiskSpecificRecord(Record):
    """Risk model specific risk: one row per security covered by the model."""

    security_id: SecurityId = Field(description="Security covered by the risk model.")
    specific_volatility: float = Field(
        ge=0, le=5, description="Annualized volatility of the security's return no factor explains (0.25 = 25 % a "
                                "year; above 5 is taken for a percent written as a number and refused).",
        json_schema_extra={"unit": "fraction per √year"})
