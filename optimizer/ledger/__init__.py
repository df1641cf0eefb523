"""The tax-lot ledger (IRS Publication 550): pure Python, shared by the optimizer, reports and simulator."""

from optimizer.ledger.engine import Ledger
from optimizer.ledger.model import LedgerError, LedgerEvent, Lot, SaleLine

__all__ = ["Ledger", "LedgerError", "LedgerEvent", "Lot", "SaleLine"]
