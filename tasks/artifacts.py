"""What a run shows in the Prefect dashboard: a markdown summary, tables, links to its files.

Account numbers never appear in full in logs or artifacts (``data_contracts.privacy``): the
dashboard is seen by more people than the trade files are. Artifacts are keyed by run kind so the
dashboard's artifact pages show each key's history across runs; a run's keys never repeat. Links
point at the reports server (``lotwise reports serve``, ``tasks.reports_server``): a browser on the
dashboard will not open a ``file://`` address.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from data_contracts.config import DEFAULT_REPORTS_BASE_URL
from data_contracts.privacy import mask_account, mask_text
from tasks.reports_server import report_url

TOP_ROWS = 25


def masked(frame: pl.DataFrame, account_ids: set[str] | None = None) -> pl.DataFrame:
    """The frame with its account column masked, and account ids inside its text masked too (``mask_text``)."""
    if "account_id" in frame.columns:
        frame = frame.with_columns(pl.col("account_id").map_elements(mask_account, return_dtype=pl.String))
    return frame.with_columns(pl.col(c).map_elements(lambda t: mask_text(t, account_ids or ()), return_dtype=pl.String)
                              for c, t in frame.schema.items() if t == pl.String and c != "account_id")


def artifact_key(text: str) -> str:
    """Prefect's artifact keys take lowercase letters, digits and dashes only."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def order_file_links(out_dir: Path) -> dict[str, tuple[str, Path]]:
    """One link per custodian order file: ``orders-<custodian>``, with the file's name where a custodian has several."""
    links: dict[str, tuple[str, Path]] = {}
    for folder in sorted(p for p in Path(out_dir).glob("custodians/*") if p.is_dir()):
        files = sorted(p for p in folder.iterdir() if p.is_file())
        for f in files:
            key = artifact_key(f"orders-{folder.name}" + (f"-{f.name}" if len(files) > 1 else ""))
            if key in links:  # two custodian ids that differ only in case or punctuation
                key = f"{key}-{len(links) + 1}"
            links[key] = (f"order file of {folder.name}", f)
    return links


def _rows(frame: pl.DataFrame) -> list[dict]:
    rows = []
    for r in frame.head(TOP_ROWS).iter_rows(named=True):
        rows.append({k: (round(v, 2) if isinstance(v, float) and k.endswith("_usd") else
                         round(v, 6) if isinstance(v, float) else "" if v is None else v) for k, v in r.items()})
    return rows


def daily_failure_markdown(as_of: dt.date, run_id: str, reason: str) -> str:
    """The summary of a daily run that could not run: what failed and what the desk should do."""
    return (f"## Lotwise run {run_id} (as of {as_of}): FAILED\n\n**{reason}**\n\nNothing was solved, staged or "
            "published for this day; cash flows keep using the latest day that validated. Deliver the day's files "
            "and run the day again.\n")


def publish_failure(kind: str, markdown: str) -> None:
    """The summary artifact of a run that failed before it could solve (same key as a finished run's)."""
    create_markdown_artifact(markdown, key=f"{kind}-summary", description="Run summary: failed")


def publish_artifacts(kind: str, markdown: str, tables: dict[str, tuple[str, pl.DataFrame]],
                      links: dict[str, tuple[str, Path]], account_ids: set[str] | None = None,
                      base_url: str = DEFAULT_REPORTS_BASE_URL, var_dir: Path = Path("var")) -> None:
    """The run's artifacts: ``kind`` prefixes every key (daily, cash-flow); tables show their first
    rows with account ids masked, in their columns and inside their text; links are the files'
    addresses on the reports server at ``base_url`` serving ``var_dir``, each an artifact of its own
    and all of them under the summary's figures."""
    keys = [f"{kind}-summary"] + [f"{kind}-{k}" for k in [*tables, *links]]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated or any(k != artifact_key(k) for k in keys):
        raise ValueError(f"artifact keys must be unique and lowercase-dashed: {repeated or keys}")
    urls = {key: report_url(base_url, var_dir, path) for key, (_, path) in links.items()}
    if links:
        markdown += "\n\n" + " · ".join(f"[{text}]({urls[key]})" for key, (text, _) in links.items())
    create_markdown_artifact(markdown, key=f"{kind}-summary", description="Run summary")
    for key, (description, frame) in tables.items():
        create_table_artifact(_rows(masked(frame.head(TOP_ROWS), account_ids)), key=f"{kind}-{key}", description=description)
    for key, (text, _) in links.items():
        create_link_artifact(urls[key], link_text=text, key=f"{kind}-{key}", description=text)


def money(x: float) -> str:
    return f"${x:,.2f}" if x >= 0 else f"−${-x:,.2f}"


def daily_figures(s: dict) -> list[tuple[str, str]]:
    """The daily run's story: who was solved, held, relaxed; what it realized and saved; how long each stage took."""
    timings = " · ".join(f"{t['stage']} {t['seconds']:.1f} s" for t in s["stage_timings"])
    rows = [
        ("households", f"{s['households_total']:,}"),
        ("solved and verified", f"{s['households_solved']:,} ({s['households_with_trades']:,} with trades; "
                                f"{s.get('households_reused', 0):,} carried over from an earlier run of the day; "
                                f"{s.get('batches_resumed', 0):,} batches resumed)"),
        ("held back (bad input)", f"{s['households_quarantined']:,}"),
        ("infeasible", f"{s['households_infeasible']:,}"),
        ("solved after relaxing a soft limit", f"{s['households_relaxed']:,}"),
        ("failed verification", f"{s['households_failed_verification']:,}"),
        ("trades", f"{s['trades']:,}: buys {money(s['buy_amount_usd'])}, sells {money(s['sell_amount_usd'])}"),
        ("estimated tax this run adds (netted with the year)", money(s["est_tax_usd"])),
        ("estimated taxes saved or deferred vs a tax-naive rebalance",
         f"{money(s.get('tax_saved_usd', 0.0))} (loss harvesting {money(s.get('tax_saved_harvesting_usd', 0.0))}, "
         f"gains deferral {money(s.get('tax_saved_deferral_usd', 0.0))})"),
        ("data checks", f"{s.get('expectations_failed', 0):,} of {s.get('expectations_evaluated', 0):,} expectations failed"),
        ("stage timings", timings),
        ("batches", f"{s.get('batches', 0):,} on {s.get('task_runner', 'threads')} (started in "
                    f"{s.get('task_runner_start_seconds', 0.0):.1f} s); orchestration overhead "
                    f"{100 * s.get('orchestration_overhead_share', 0.0):.1f}% of the run"),
    ]
    return rows


def daily_title(s: dict) -> str:
    """The summary's first line; a partial day says so there, naming the custodians that sent nothing."""
    title = f"Daily rebalance {s['as_of_date']} — run {s['run_id']}"
    missing = s.get("missing_custodians") or []
    if missing:
        title += (f" — PARTIAL DAY: no files from {', '.join(missing)}; "
                  f"{s['households_quarantined']:,} households held")
    return title


def markdown_table(title: str, figures: list[tuple[str, str]]) -> str:
    return "\n".join([f"# {title}", "", "| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in figures])
