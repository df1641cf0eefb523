"""OFX 2.x investment statements → the canonical custodian files (as text), parsed with ofxtools.

A custodian whose layout says ``format: ofx`` delivers one or more statement files (``*.ofx``) in
its folder, plus its ``accounts`` file (account → household, tax type, cash minimum: facts OFX
does not carry). From each INVSTMTRS:

- positions: INVPOSLIST, one row per POS* (units, market value);
- cash: INVBAL/AVAILCASH;
- transactions: INVTRANLIST, mapped buy/sell/dividend/reinvested_dividend/transfer_in/deposit/
  withdrawal; anything else (splits, options, ...) is reported and skipped;
- lots: OFX carries none, so they are rebuilt from the acquisitions in INVTRANLIST (BUY*,
  REINVEST, TRANSFER IN), each relieved first-in first-out by the statement's sales — the rule of
  IRS Publication 550 when shares sold were not specifically identified. Shares the statement's
  history cannot explain stay unexplained: the lots-to-positions reconciliation then holds the
  household rather than invent a basis.

Securities are named by SECLIST ticker when present, else by SECID/UNIQUEID. Each row's ``_line``
is its ordinal within its list in the file (1-based), so errors still point at one entry.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, deque
from decimal import Decimal
from pathlib import Path

import polars as pl

from data_contracts.text_files import LINE

OFX_FILES = ("positions", "lots", "transactions", "cash")
_BUYS = ("BUYSTOCK", "BUYMF", "BUYOTHER", "BUYDEBT")
_SELLS = ("SELLSTOCK", "SELLMF", "SELLOTHER", "SELLDEBT")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value)


def _tickers(ofx) -> dict[str, str]:
    out = {}
    for info in ofx.securities:
        secinfo = info.secinfo
        out[secinfo.secid.uniqueid] = secinfo.ticker or secinfo.secid.uniqueid
    return out


def read_statement(path: Path) -> tuple[dict[str, pl.DataFrame], list[str]]:
    """One OFX file → canonical text frames (with ``_line``) and warnings about what was skipped."""
    from ofxtools.Parser import OFXTree  # imported here: only OFX custodians pay for it

    tree = OFXTree()
    tree.parse(str(path))
    ofx = tree.convert()
    ticker = _tickers(ofx)
    rows: dict[str, list[dict]] = {name: [] for name in OFX_FILES}
    warnings: list[str] = []
    for stmt in ofx.statements:
        if not hasattr(stmt, "invposlist"):
            warnings.append(f"statement of type {type(stmt).__name__} skipped (not an investment statement)")
            continue
        account, as_of = stmt.invacctfrom.acctid, _text(stmt.dtasof)
        for pos in stmt.invposlist or []:
            inv = pos.invpos
            rows["positions"].append({
                "as_of_date": as_of, "account_id": account, "security_id": ticker.get(inv.secid.uniqueid, inv.secid.uniqueid),
                "quantity_shares": _text(inv.units), "market_value_usd": _text(inv.mktval),
            })
        if stmt.invbal is not None:
            rows["cash"].append({"as_of_date": as_of, "account_id": account, "cash_usd": _text(stmt.invbal.availcash)})
        acquisitions, sales = _transactions(stmt, account, ticker, rows["transactions"], warnings)
        rows["lots"] += _lots_fifo(acquisitions, sales, account, as_of)
    frames = {name: _frame(rows[name]) for name in OFX_FILES}
    return frames, warnings


def _frame(rows: list[dict]) -> pl.DataFrame:
    df = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
    df = df.select(pl.all().cast(pl.String)) if df.width else df
    return df.with_row_index(LINE, offset=1).with_columns(pl.col(LINE).cast(pl.Int64))


def _transactions(stmt, account: str, ticker: dict[str, str], out: list[dict], warnings: list[str]):
    """Append canonical transaction rows; return the acquisitions and sales for lot rebuilding."""
    acquisitions: list[tuple] = []  # (date, fitid, security, units, cost)
    sales: list[tuple] = []  # (date, security, units)
    for txn in stmt.invtranlist or []:
        kind = type(txn).__name__
        row = {"account_id": account, "security_id": None, "quantity_shares": None, "cost_basis_usd": None}
        if kind == "INVBANKTRAN":
            t = txn.stmttrn
            amount = Decimal(t.trnamt)
            row |= {"transaction_id": t.fitid, "trade_date": _text(t.dtposted),
                    "transaction_type": "deposit" if amount >= 0 else "withdrawal", "amount_usd": str(abs(amount))}
        elif kind in _BUYS or kind in _SELLS:
            leg = txn.invbuy if kind in _BUYS else txn.invsell
            security = ticker.get(leg.secid.uniqueid, leg.secid.uniqueid)
            units, total = abs(Decimal(leg.units)), abs(Decimal(leg.total))
            row |= {"transaction_id": leg.invtran.fitid, "trade_date": _text(leg.invtran.dttrade),
                    "transaction_type": "buy" if kind in _BUYS else "sell", "security_id": security,
                    "quantity_shares": str(units), "amount_usd": str(total)}
            if kind in _BUYS:
                acquisitions.append((leg.invtran.dttrade.date(), leg.invtran.fitid, security, units, total))
            else:
                sales.append((leg.invtran.dttrade.date(), security, units))
        elif kind in ("INCOME", "REINVEST"):
            security = ticker.get(txn.secid.uniqueid, txn.secid.uniqueid)
            total = abs(Decimal(txn.total))
            row |= {"transaction_id": txn.invtran.fitid, "trade_date": _text(txn.invtran.dttrade),
                    "transaction_type": "dividend" if kind == "INCOME" else "reinvested_dividend",
                    "security_id": security, "amount_usd": str(total)}
            if kind == "REINVEST":
                row["quantity_shares"] = str(abs(Decimal(txn.units)))
                acquisitions.append((txn.invtran.dttrade.date(), txn.invtran.fitid, security, abs(Decimal(txn.units)), total))
        elif kind == "TRANSFER" and txn.tferaction == "IN":
            security = ticker.get(txn.secid.uniqueid, txn.secid.uniqueid)
            basis = Decimal(txn.avgcostbasis or 0) * abs(Decimal(txn.units))
            row |= {"transaction_id": txn.invtran.fitid, "trade_date": _text(txn.invtran.dttrade),
                    "transaction_type": "transfer_in", "security_id": security,
                    "quantity_shares": str(abs(Decimal(txn.units))), "amount_usd": str(basis)}
            # Shares moved in keep their purchase date (and holding period) when the statement gives it.
            acquired = (txn.dtpurchase or txn.invtran.dttrade).date()
            acquisitions.append((acquired, txn.invtran.fitid, security, abs(Decimal(txn.units)), basis))
        else:
            warnings.append(f"account {account}: {kind} transaction skipped (not supported)")
            continue
        out.append(row)
    return acquisitions, sales


def _lots_fifo(acquisitions: list[tuple], sales: list[tuple], account: str, as_of: str | None) -> list[dict]:
    """Open lots after relieving each sale from the earliest acquisitions (Decimal: no rounding)."""
    open_lots: dict[str, deque] = defaultdict(deque)
    # Same-day acquisitions come before same-day sales.
    events = sorted([(a[0], 0, a) for a in acquisitions] + [(s[0], 1, s) for s in sales], key=lambda e: (e[0], e[1]))
    for _, is_sale, event in events:
        if not is_sale:
            date, fitid, security, units, cost = event
            open_lots[security].append([fitid, date, units, cost])
            continue
        _, security, units = event
        queue = open_lots[security]
        while units > 0 and queue:
            lot = queue[0]
            take = min(units, lot[2])
            lot[3] -= lot[3] * take / lot[2]
            lot[2] -= take
            units -= take
            if lot[2] == 0:
                queue.popleft()
    return [
        {"as_of_date": as_of, "lot_id": f"{account}:{fitid}", "account_id": account, "security_id": security,
         "quantity_shares": str(units), "cost_basis_usd": str(cost), "acquisition_date": date.isoformat()}
        for security, queue in sorted(open_lots.items()) for fitid, date, units, cost in queue
    ]
