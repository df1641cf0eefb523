"""Contracts of ``lotwise lots replay``: the transactions it reads and the files it writes.

Output amounts are written rounded half-even to cents and shares to 6 decimals, as every output file.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Optional

from pydantic import Field

from data_contracts.inputs import Record, shares, usd
from data_contracts.types import AccountType, FilingStatus, NonNegativeUsd, PositiveShares


class LedgerTransactionRecord(Record):
    """Transactions to replay: one row per transaction, in trade-date order per taxpayer."""

    trade_date: dt.date = Field(description="Trade date.")
    taxpayer: str = Field(min_length=1, description="Taxpayer (a person, or a married couple filing jointly).")
    account: str = Field(min_length=1, description="Account of the taxpayer.")
    account_type: AccountType = Field(description="taxable_individual, taxable_joint, trust, traditional_ira, roth_ira.")
    security: str = Field(min_length=1, description="Security identifier.")
    side: Literal["buy", "sell", "transfer_in", "reinvest"] = Field(
        description="buy, sell, transfer_in (carried basis) or reinvest (reinvested dividend).")
    quantity: PositiveShares = Field(**shares("Shares."))
    price: NonNegativeUsd = Field(**usd("Price per share (transfer_in: ignored)."))
    fees: Optional[NonNegativeUsd] = Field(None, **usd("Commission and fees: added to a buy's basis, taken from a sale's proceeds."))
    lot_method: Optional[Literal["fifo", "hifo", "specific"]] = Field(None, description="Sells: lot relief (default fifo).")
    lot_ids: Optional[str] = Field(
        None, description="Sells with specific: 'LOT[:SHARES];LOT2' in relief order. Buys/transfers: the new lot's id.")
    acquisition_date: Optional[dt.date] = Field(None, description="transfer_in: the carried acquisition date.")
    basis: Optional[NonNegativeUsd] = Field(None, **usd("transfer_in: the carried total basis."))
    filing_status: Optional[FilingStatus] = Field(None, description="For netting (first value per taxpayer; default single).")


class LedgerSaleRecord(Record):
    """sales.csv: one row per lot relieved by a sale."""

    row: int = Field(description="Line of the sale in the transactions file.")
    taxpayer: str = Field(description="Taxpayer.")
    account: str = Field(description="Account.")
    account_type: str = Field(description="Account type.")
    security: str = Field(description="Security.")
    lot_id: str = Field(description="Lot relieved.")
    trade_date: dt.date = Field(description="Sale date.")
    acquisition_date: dt.date = Field(description="The lot's acquisition trade date.")
    holding_period_start: dt.date = Field(description="Adjusted date the holding period counts from (wash-sale tacking).")
    quantity: float = Field(**shares("Shares sold from the lot."))
    proceeds_usd: float = Field(**usd("Proceeds, net of the sale's fees pro rata."))
    basis_usd: float = Field(**usd("Adjusted basis of the shares sold."))
    gain_usd: float = Field(**usd("proceeds − basis."))
    term: Literal["short", "long"] = Field(description="short or long (held more than one year).")
    taxable: bool = Field(description="False for IRA sales (nothing is recognized).")
    wash_disallowed_usd: float = Field(**usd("Loss disallowed by the wash-sale rule."))
    wash_disallowed_permanently_usd: float = Field(**usd("Part of it lost for good (replacement bought in an IRA)."))
    recognized_gain_usd: float = Field(**usd("gain + disallowed loss: what Form 8949 reports (0 in IRAs)."))
    replacement_lots: Optional[str] = Field(None, description="Lots that absorbed the disallowed loss (';'-separated).")


class LedgerOpenLotRecord(Record):
    """open_lots.csv: one row per lot still open after the replay."""

    taxpayer: str = Field(description="Taxpayer.")
    account: str = Field(description="Account.")
    account_type: str = Field(description="Account type.")
    security: str = Field(description="Security.")
    lot_id: str = Field(description="Lot id (a '.wN' suffix marks shares split off by a wash-sale adjustment).")
    quantity: float = Field(**shares("Open shares."))
    basis_usd: float = Field(**usd("Adjusted basis of the open shares."))
    acquisition_date: dt.date = Field(description="Acquisition trade date.")
    holding_period_start: dt.date = Field(description="Adjusted holding-period start.")
    wash_adjustment_usd: float = Field(**usd("Disallowed losses added to the basis."))


class LedgerNettingRecord(Record):
    """netting.csv: one row per taxpayer and year, from the first year with a sale to the last."""

    taxpayer: str = Field(description="Taxpayer.")
    year: int = Field(description="Tax year.")
    st_gains_usd: float = Field(**usd("Recognized short-term gains."))
    st_losses_usd: float = Field(**usd("Recognized short-term losses (positive)."))
    lt_gains_usd: float = Field(**usd("Recognized long-term gains."))
    lt_losses_usd: float = Field(**usd("Recognized long-term losses (positive)."))
    st_carryover_in_usd: float = Field(**usd("Short-term loss carried in."))
    lt_carryover_in_usd: float = Field(**usd("Long-term loss carried in."))
    taxable_st_usd: float = Field(**usd("Net short-term gain taxed at ordinary rates."))
    taxable_lt_usd: float = Field(**usd("Net long-term gain taxed at long-term rates."))
    ordinary_deduction_usd: float = Field(**usd("Net capital loss deducted from ordinary income (≤ $3,000; $1,500 MFS)."))
    st_carryover_out_usd: float = Field(**usd("Short-term loss carried to next year."))
    lt_carryover_out_usd: float = Field(**usd("Long-term loss carried to next year."))


class LedgerErrorRecord(Record):
    """errors.csv: one row per transaction that could not be applied (it is skipped, never silently)."""

    row: Optional[int] = Field(None, description="Line in the transactions file (header = 1).")
    field: str = Field(description="Column at fault.")
    reason: str = Field(description="What is wrong.")


