"""A small OFX 2.2 investment statement writer for tests (the parser under test is ofxtools)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ofxtools.header import make_header

OK = "<STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>"


def _secid(ticker: str) -> str:
    # A CUSIP-like id that is not the ticker, so the test proves the SECLIST ticker is used.
    return f"<SECID><UNIQUEID>{ticker}00000</UNIQUEID><UNIQUEIDTYPE>CUSIP</UNIQUEIDTYPE></SECID>"


def _d(iso: str | dt.date) -> str:
    return str(iso).replace("-", "")


def write_statement(path: Path, account: str, as_of: dt.date, cash_usd: str,
                    positions: list[tuple[str, str, str, str]], trades: list[tuple[str, str, str, str, str, str]]) -> None:
    """positions: (ticker, units, unit price, market value); trades: (fitid, date, BUY|SELL, ticker, units, total)."""
    txns = []
    for fitid, date, side, ticker, units, total in trades:
        inv = (f"<INVTRAN><FITID>{fitid}</FITID><DTTRADE>{_d(date)}</DTTRADE></INVTRAN>{_secid(ticker)}"
               f"<UNITS>{units if side == 'BUY' else '-' + units}</UNITS>"
               f"<UNITPRICE>{float(total) / float(units):.4f}</UNITPRICE>"
               f"<TOTAL>{'-' + total if side == 'BUY' else total}</TOTAL><SUBACCTSEC>CASH</SUBACCTSEC><SUBACCTFUND>CASH</SUBACCTFUND>")
        txns.append(f"<BUYSTOCK><INVBUY>{inv}</INVBUY><BUYTYPE>BUY</BUYTYPE></BUYSTOCK>" if side == "BUY"
                    else f"<SELLSTOCK><INVSELL>{inv}</INVSELL><SELLTYPE>SELL</SELLTYPE></SELLSTOCK>")
    pos = "".join(
        f"<POSSTOCK><INVPOS>{_secid(t)}<HELDINACCT>CASH</HELDINACCT><POSTYPE>LONG</POSTYPE><UNITS>{u}</UNITS>"
        f"<UNITPRICE>{p}</UNITPRICE><MKTVAL>{v}</MKTVAL><DTPRICEASOF>{_d(as_of)}</DTPRICEASOF></INVPOS></POSSTOCK>"
        for t, u, p, v in positions)
    tickers = sorted({t for t, *_ in positions} | {t[3] for t in trades})
    seclist = "".join(f"<STOCKINFO><SECINFO>{_secid(t)}<SECNAME>{t} Inc</SECNAME><TICKER>{t}</TICKER></SECINFO></STOCKINFO>"
                      for t in tickers)
    body = (
        f"<OFX><SIGNONMSGSRSV1><SONRS>{OK}<DTSERVER>{_d(as_of)}</DTSERVER><LANGUAGE>ENG</LANGUAGE></SONRS></SIGNONMSGSRSV1>"
        f"<INVSTMTMSGSRSV1><INVSTMTTRNRS><TRNUID>1</TRNUID>{OK}<INVSTMTRS><DTASOF>{_d(as_of)}</DTASOF><CURDEF>USD</CURDEF>"
        f"<INVACCTFROM><BROKERID>custodian.example</BROKERID><ACCTID>{account}</ACCTID></INVACCTFROM>"
        f"<INVTRANLIST><DTSTART>20000101</DTSTART><DTEND>{_d(as_of)}</DTEND>{''.join(txns)}</INVTRANLIST>"
        f"<INVPOSLIST>{pos}</INVPOSLIST>"
        f"<INVBAL><AVAILCASH>{cash_usd}</AVAILCASH><MARGINBALANCE>0</MARGINBALANCE><SHORTBALANCE>0</SHORTBALANCE></INVBAL>"
        f"</INVSTMTRS></INVSTMTTRNRS></INVSTMTMSGSRSV1>"
        f"<SECLISTMSGSRSV1><SECLIST>{seclist}</SECLIST></SECLISTMSGSRSV1></OFX>"
    )
    path.write_text(str(make_header(version=220)) + body, encoding="utf-8")
