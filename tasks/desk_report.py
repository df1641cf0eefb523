"""The run's HTML desk report: one self-contained file (inline CSS and SVG, no scripts, nothing
fetched), so it opens offline from the run folder or a mail attachment.

It shows the run's key figures, then four charts — drift before and after, taxes saved against the
tax-naive rebalance, the turnover distribution, exceptions by reason — and the top of the review
queue. Account ids are masked as in the dashboard; the report sits next to the trade files and
links to them by relative path.
"""

from __future__ import annotations

import os
import uuid
from html import escape
from pathlib import Path

import polars as pl

from data_contracts.config import RunConfig
from tasks.artifacts import masked, money
from tasks.charts import bars, histogram, nice_edges
from tasks.desk import REVIEW_REASONS, review_reasons

REPORT_FILE = "desk_report.html"
REVIEW_ROWS = 30
LINKED_FILES = ("trades.csv", "block_trades.csv", "allocations.csv", "pre_trade_checks.csv", "review_queue.csv",
                "tax_report.csv", "exceptions.csv", "drift.csv")

CSS = """body{font:14px/1.4 sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}
td.n{text-align:right;font-variant-numeric:tabular-nums}.note{color:#666;font-size:12px}"""


def pct(x: float) -> str:
    return f"{100 * x:.3g}%"


def household_turnover(outputs: dict[str, pl.DataFrame]) -> pl.Series:
    """Dollars traded ÷ household value, for every solved household (0 for those without trades)."""
    traded = outputs["trades"].group_by("household_id").agg(
        (pl.col("quantity_shares") * pl.col("est_price_usd")).sum().alias("traded"))
    joined = outputs["drift"].join(traded, on="household_id", how="left")
    return (joined["traded"].fill_null(0.0) / joined["total_value_usd"]).fill_nan(0.0)


def exception_counts(outputs: dict[str, pl.DataFrame], config: RunConfig) -> tuple[list[str], list[int]]:
    """Households per review reason (a household counts once under each reason it has), then
    firm-level exceptions (a file or row that names no household)."""
    reasons = review_reasons(outputs, outputs["pre_trade_checks"], config)
    per = reasons.group_by("priority").agg(pl.col("household_id").n_unique().alias("n"))
    counts = dict(zip(per["priority"].to_list(), per["n"].to_list()))
    labels = [REVIEW_REASONS[p] for p in sorted(REVIEW_REASONS, reverse=True)]
    values = [counts.get(p, 0) for p in sorted(REVIEW_REASONS, reverse=True)]
    firm = outputs["exceptions"].filter(pl.col("household_id").is_null()).height
    return labels + ["firm-level input problems"], values + [firm]


def chart_figures(outputs: dict[str, pl.DataFrame], config: RunConfig) -> list[tuple[str, str]]:
    """What the report's charts show, in words, for the dashboard's summary: drift before and after,
    turnover, households by review reason."""
    drift, rows = outputs["drift"], []
    if drift.height:
        before, after = drift["class_drift_before"], drift["class_drift_after"]
        rows.append(("asset-class drift per household, median (largest)",
                     f"{pct(before.median())} ({pct(before.max())}) before trading → "
                     f"{pct(after.median())} ({pct(after.max())}) after"))
        turnover = household_turnover(outputs)
        rows.append(("turnover per household, median (largest)", f"{pct(turnover.median())} ({pct(turnover.max())})"))
    labels, counts = exception_counts(outputs, config)
    rows.append(("households by review reason", " · ".join(f"{k} {n:,}" for k, n in zip(labels, counts) if n) or "none"))
    return rows


def _table(frame: pl.DataFrame) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in frame.columns)
    rows = []
    for r in frame.iter_rows():
        cells = []
        for v in r:
            if isinstance(v, float):
                cells.append(f'<td class="n">{v:,.2f}</td>')
            elif isinstance(v, int) and not isinstance(v, bool):
                cells.append(f'<td class="n">{v:,}</td>')
            else:
                cells.append(f"<td>{escape('' if v is None else str(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def desk_report_html(title: str, figures: list[tuple[str, str]], outputs: dict[str, pl.DataFrame],
                     config: RunConfig, account_ids: set[str] | None = None) -> str:
    drift, tax = outputs["drift"], outputs["tax_report"]
    top = float(drift["class_drift_before"].quantile(0.99) or 0.0) if drift.height else 0.0
    drift_chart = histogram({"before trading": drift["class_drift_before"].to_numpy(),
                             "after trading": drift["class_drift_after"].to_numpy()},
                            nice_edges(min(max(top, 0.05), 1.0)), "Asset-class drift per household", pct)
    saved = [float(tax[c].sum()) for c in ("tax_saved_harvesting_usd", "tax_saved_deferral_usd", "tax_saved_usd")]
    run_tax = [float(tax["est_tax_run_usd"].sum()), float(tax["naive_est_tax_run_usd"].sum())]
    tax_chart = bars(["loss harvesting", "gains deferral", "saved or deferred, total",
                      "tax added by this run", "tax a naive rebalance would add"], saved + run_tax,
                     "Estimated taxes against a tax-naive rebalance", money)
    turnover = household_turnover(outputs).to_numpy()
    turnover_chart = histogram({"households": turnover}, nice_edges(1.0), "Turnover per household", pct)
    labels, counts = exception_counts(outputs, config)
    exception_chart = bars(labels, counts, "Exceptions by reason", lambda v: f"{int(v):,}")
    queue = masked(outputs["review_queue"].head(REVIEW_ROWS), account_ids)
    links = " · ".join(f'<a href="{name}">{name}</a>' for name in LINKED_FILES)
    washes = int(tax["wash_sales_avoided"].sum()) if tax.height else 0
    washed = float(tax["wash_disallowed_usd"].sum()) if tax.height else 0.0
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title><style>{CSS}</style></head><body>
<h1>{escape(title)}</h1>
<table>{''.join(f'<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>' for k, v in figures)}</table>
<p>Files: {links}</p>
<h2>Drift before and after</h2>
<p class="note">½ Σ |class weight − target| per solved household ({drift.height:,} households); the last bin
holds everything beyond it.</p>
{drift_chart}
<h2>Taxes saved against a tax-naive rebalance</h2>
<p class="note">The naive rebalance brings each account exactly to the same model, sells lots first in, first out
and knows no tax; it would create {washes:,} wash sales. Lotwise's partial wash sales (older loss lots sold
while a few shares bought in the last 30 days are held) disallow {money(washed)} of loss, moved into those
shares' basis. Savings are priced on each household's year to date
(tax_report.csv); a loss carried forward counts at {config.carryforward_value:g} × the long-term rate.</p>
{tax_chart}
<h2>Turnover</h2>
<p class="note">Dollars traded ÷ household value; 100% and above in the last bin.</p>
{turnover_chart}
<h2>Exceptions by reason</h2>
<p class="note">Households under each reason (one household may have several).</p>
{exception_chart}
<h2>Review queue, first {min(REVIEW_ROWS, outputs['review_queue'].height)} of {outputs['review_queue'].height:,}</h2>
{_table(queue)}
</body></html>
"""


def write_desk_report(html: str, out_dir: Path) -> Path:
    """Write ``desk_report.html`` into the published run folder, whole (temp file + rename), owner-only."""
    final = Path(out_dir) / REPORT_FILE
    tmp = final.with_name(f".{REPORT_FILE}.{uuid.uuid4().hex}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(html)
    os.replace(tmp, final)
    return final
