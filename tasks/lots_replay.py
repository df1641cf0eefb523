"""``lotwise lots replay``: audit a custodian's cost basis by replaying its transactions (pure, no Prefect)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from data_contracts.frames import LINE, read_and_parse
from data_contracts.registry import LEDGER_FILES
from optimizer.ledger import Ledger, LedgerError, LedgerEvent
from optimizer.ledger.netting import net_sales
from tasks.export import to_contract


@dataclass
class ReplayResult:
    ledger: Ledger
    filing_status: dict[str, str]
    errors: list[dict] = field(default_factory=list)


def _lot_ids(text: str | None) -> tuple[tuple[str, float | None], ...]:
    if not text:
        return ()
    picks = []
    for part in (p.strip() for p in text.split(";") if p.strip()):
        lot, _, qty = part.partition(":")
        picks.append((lot.strip(), float(qty) if qty.strip() else None))
    return tuple(picks)


def events_from_frame(frame: pl.DataFrame) -> list[LedgerEvent]:
    cols = ("_line", "trade_date", "taxpayer", "account", "account_type", "security", "side", "quantity", "price",
            "fees", "lot_method", "lot_ids", "basis", "acquisition_date")
    frame = frame.sort(LINE)
    events = []
    for row, date, taxpayer, account, kind, security, side, qty, price, fees, method, lot_ids, basis, acquired in zip(
            *(frame[c].to_list() for c in cols)):
        acquisition = side != "sell"
        events.append(LedgerEvent(
            row, date, taxpayer, account, kind, security, side, qty, price, fees or 0.0, method or "fifo",
            () if acquisition else _lot_ids(lot_ids), (lot_ids or None) if acquisition else None, basis, acquired,
        ))
    return events


def replay_file(path: Path, identical: dict[str, str] | None = None) -> ReplayResult:
    contract = LEDGER_FILES["transactions"]
    parsed = read_and_parse(Path(path), contract, Path(path).name)
    if parsed.file_error:
        raise ValueError(parsed.file_error)
    errors = [dict(row=r["row"], field=r["field"], reason=f"{r['reason']} (value {r['value'] if r['value'] is not None else 'blank'})")
              for r in parsed.errors.iter_rows(named=True)]
    good = parsed.good
    filing = (good.filter(pl.col("filing_status").is_not_null()).group_by("taxpayer", maintain_order=True)
              .agg(pl.col("filing_status").first()))
    ledger_errors: list[LedgerError] = []
    ledger = Ledger(identical).replay(events_from_frame(good), ledger_errors)
    errors += [dict(row=e.row, field=e.field, reason=e.reason) for e in ledger_errors]
    errors.sort(key=lambda e: (e["row"] or 0, e["field"]))
    return ReplayResult(ledger, dict(zip(filing["taxpayer"], filing["filing_status"])), errors)


def _columns(records: list, fields: dict[str, str]) -> dict[str, list]:
    """Column lists from objects: {output column: attribute}, one pass per column."""
    return {out: [getattr(r, attr) for r in records] for out, attr in fields.items()}


def replay_frames(result: ReplayResult) -> dict[str, pl.DataFrame]:
    sales_list = result.ledger.sales
    sales = pl.DataFrame({
        **_columns(sales_list, dict(row="row", taxpayer="taxpayer", account="account", account_type="account_type",
                                    security="security", lot_id="lot_id", trade_date="trade_date", acquisition_date="acquired",
                                    holding_period_start="holding_start", quantity="quantity", proceeds_usd="proceeds_usd",
                                    basis_usd="basis_usd", gain_usd="gain_usd", term="term", taxable="taxable",
                                    wash_disallowed_usd="disallowed_usd",
                                    wash_disallowed_permanently_usd="disallowed_permanently_usd",
                                    recognized_gain_usd="recognized_gain_usd")),
        "replacement_lots": [";".join(s.replacements) or None for s in sales_list],
    }, schema=_schema("sales"))
    lots = pl.DataFrame(_columns(result.ledger.open_lots(), dict(
        taxpayer="taxpayer", account="account", account_type="account_type", security="security", lot_id="lot_id",
        quantity="quantity", basis_usd="basis_usd", acquisition_date="acquired", holding_period_start="holding_start",
        wash_adjustment_usd="wash_adjustment_usd")), schema=_schema("open_lots"))
    years = net_sales(sales_list, result.filing_status)
    netting = pl.DataFrame(_columns(years, {c: c for c in _schema("netting")}), schema=_schema("netting"))
    errors = pl.DataFrame(result.errors, schema=_schema("errors"))
    return {"sales": sales, "open_lots": lots, "netting": netting, "errors": errors}


def _schema(name: str) -> dict[str, pl.DataType]:
    from data_contracts.frames import polars_schema

    return polars_schema(LEDGER_FILES[name].model)


def write_replay(result: ReplayResult, out_dir: Path) -> dict[str, int]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, frame in replay_frames(result).items():
        contract = LEDGER_FILES[name]
        to_contract(frame, contract).write_csv(out_dir / contract.filename)
        counts[name] = frame.height
    return counts
