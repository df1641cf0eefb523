"""The one list of files Lotwise reads and writes, with each file's grain and key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from data_contracts import inputs, ledger_files, mandates, outputs
from data_contracts.inputs import Record


@dataclass(frozen=True)
class FileContract:
    name: str
    model: type[Record]
    scope: Literal["firm", "custodian", "mandate", "run", "ledger"]
    key: tuple[str, ...]
    required: bool = True  # False: a day may come without it (read only when present)

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def grain(self) -> str:
        return (self.model.__doc__ or "").strip().splitlines()[0]

    @property
    def columns(self) -> list[str]:
        return list(self.model.model_fields)


INPUT_FILES: dict[str, FileContract] = {
    c.name: c
    for c in [
        FileContract("securities", inputs.SecurityRecord, "firm", ("security_id",)),
        FileContract("prices", inputs.PriceRecord, "firm", ("security_id", "price_date")),
        FileContract("models", inputs.ModelTargetRecord, "firm", ("model_id", "security_id")),
        FileContract("households", inputs.HouseholdRecord, "firm", ("household_id",)),
        # The day's risk model: all three or none (data_contracts.risk_model says what either means).
        FileContract("risk_loadings", inputs.RiskLoadingRecord, "firm", ("security_id", "factor"), required=False),
        FileContract("risk_factor_covariance", inputs.RiskFactorCovarianceRecord, "firm", ("factor_1", "factor_2"),
                     required=False),
        FileContract("risk_specific", inputs.RiskSpecificRecord, "firm", ("security_id",), required=False),
        FileContract("accounts", inputs.AccountRecord, "custodian", ("account_id",)),
        FileContract("positions", inputs.PositionRecord, "custodian", ("account_id", "security_id")),
        FileContract("lots", inputs.LotRecord, "custodian", ("lot_id",)),
        FileContract("transactions", inputs.TransactionRecord, "custodian", ("transaction_id",)),
        FileContract("cash", inputs.CashRecord, "custodian", ("account_id",)),
        # Read from firm/mandates/*.yaml|json (data_contracts.mandates), not from a CSV; staged as rows.
        FileContract("mandates", mandates.MandateRecord, "mandate", ("source",)),
    ]
}

OUTPUT_FILES: dict[str, FileContract] = {
    c.name: c
    for c in [
        FileContract("trades", outputs.TradeRecord, "run", ("account_id", "security_id", "side")),
        FileContract("lot_sales", outputs.LotSaleRecord, "run", ("lot_id",)),
        FileContract("realized_gains_by_account", outputs.AccountRealizedGainsRecord, "run", ("account_id",)),
        FileContract("realized_gains_by_household", outputs.HouseholdRealizedGainsRecord, "run", ("household_id",)),
        FileContract("drift", outputs.HouseholdDriftRecord, "run", ("household_id",)),
        FileContract("tax_report", outputs.HouseholdTaxReportRecord, "run", ("household_id",)),
        FileContract("exceptions", outputs.ExceptionRecord, "run", ()),
        FileContract("block_trades", outputs.BlockTradeRecord, "run", ("block_id",)),
        FileContract("allocations", outputs.AllocationRecord, "run", ("block_id", "account_id")),
        FileContract("pre_trade_checks", outputs.PreTradeCheckRecord, "run", ("account_id", "check")),
        FileContract("review_queue", outputs.ReviewQueueRecord, "run", ("household_id",)),
    ]
}

FIRM_FILES = [c for c in INPUT_FILES.values() if c.scope == "firm"]
CUSTODIAN_FILES = [c for c in INPUT_FILES.values() if c.scope == "custodian"]

LEDGER_FILES: dict[str, FileContract] = {
    c.name: c
    for c in [
        FileContract("transactions", ledger_files.LedgerTransactionRecord, "ledger", ()),
        FileContract("sales", ledger_files.LedgerSaleRecord, "ledger", ("row", "lot_id")),
        FileContract("open_lots", ledger_files.LedgerOpenLotRecord, "ledger", ("lot_id",)),
        FileContract("netting", ledger_files.LedgerNettingRecord, "ledger", ("taxpayer", "year")),
        FileContract("errors", ledger_files.LedgerErrorRecord, "ledger", ()),
    ]
}
