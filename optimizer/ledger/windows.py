"""What the optimizer needs from the ledger, as of a date: wash-sale windows, days to long-term,
year-to-date realized gains and carryforwards."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from optimizer.ledger.engine import WINDOW_DAYS, Ledger
from optimizer.ledger.netting import net_sales
from optimizer.tax import long_term_from


@dataclass(frozen=True)
class BuyBlock:
    taxpayer: str
    group: str
    last_loss_sale: dt.date
    blocked_through: dt.date  # the last day a buy would still wash the loss


@dataclass(frozen=True)
class LossSaleBlock:
    taxpayer: str
    lot_id: str
    group: str
    last_acquisition: dt.date
    blocked_through: dt.date  # the last day a loss sale would be washed by that acquisition


@dataclass(frozen=True)
class YearToDate:
    taxpayer: str
    realized_st_usd: float
    realized_lt_usd: float
    st_carryforward_usd: float  # carried into this year
    lt_carryforward_usd: float


def buy_blocks(ledger: Ledger, as_of: dt.date) -> list[BuyBlock]:
    """Groups sold at a loss (taxable accounts) within the last 30 days: do not buy until after ``blocked_through``."""
    out = []
    for (taxpayer, group), sold in sorted(ledger.last_loss_sale.items()):
        if 0 <= (as_of - sold).days <= WINDOW_DAYS:
            out.append(BuyBlock(taxpayer, group, sold, sold + dt.timedelta(days=WINDOW_DAYS)))
    return out


def loss_sale_blocks(ledger: Ledger, as_of: dt.date) -> list[LossSaleBlock]:
    """Open taxable lots whose group was acquired (any account) within the last 30 days: no loss sale yet."""
    recent = {k: d for k, d in ledger.last_acquisition.items() if 0 <= (as_of - d).days <= WINDOW_DAYS}
    return [
        LossSaleBlock(lot.taxpayer, lot.lot_id, lot.group, recent[(lot.taxpayer, lot.group)],
                      recent[(lot.taxpayer, lot.group)] + dt.timedelta(days=WINDOW_DAYS))
        for lot in ledger.open_lots() if not lot.is_ira and (lot.taxpayer, lot.group) in recent
    ]


def days_to_long_term(ledger: Ledger, as_of: dt.date) -> dict[str, int]:
    """Per open lot: days until a sale is long-term (0 when it already is)."""
    lots = ledger.open_lots()
    if not lots:
        return {}
    starts = np.array([lot.holding_start for lot in lots], dtype="datetime64[D]")
    days = (long_term_from(starts) - np.datetime64(as_of, "D")).astype(int)
    return {lot.lot_id: int(max(d, 0)) for lot, d in zip(lots, days)}


def year_to_date(ledger: Ledger, as_of: dt.date, filing_status: dict[str, str] | None = None) -> list[YearToDate]:
    """Recognized ST/LT gains this year up to ``as_of``, and what earlier years carry into it."""
    sales = [s for s in ledger.sales if s.trade_date <= as_of]
    prior = {}
    for n in net_sales([s for s in sales if s.trade_date.year < as_of.year], filing_status, through_year=as_of.year - 1):
        if n.year == as_of.year - 1:
            prior[n.taxpayer] = (n.st_carryover_out_usd, n.lt_carryover_out_usd)
    out = {}
    for s in sales:
        if s.taxable and s.trade_date.year == as_of.year:
            st, lt = out.get(s.taxpayer, (0.0, 0.0))
            g = s.recognized_gain_usd
            out[s.taxpayer] = (st + g, lt) if s.term == "short" else (st, lt + g)
    taxpayers = sorted(set(out) | set(prior))
    return [YearToDate(tp, *out.get(tp, (0.0, 0.0)), *prior.get(tp, (0.0, 0.0))) for tp in taxpayers]
