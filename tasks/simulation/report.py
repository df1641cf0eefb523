"""A simulation's files: CSVs of every figure and one self-contained HTML page with the charts.

Written to the output folder: ``summary.csv`` (per strategy), ``yearly.csv`` (per strategy and
year), ``drawdowns.csv`` (per drawdown of the model, peak to recovery, and strategy), ``path.csv`` (per strategy and rebalance date, households summed), ``households.csv`` (per
strategy, household and rebalance date), ``wash_sales.csv`` (every disallowed loss, beside what the strategy stated),
``daily.csv`` (per strategy, household and trading day: values and the model portfolio's return,
what the realized tracking error is computed from), ``substitutes.csv`` (how substitutes were
chosen from the price history, with the correlation of each and, for a ticker left without one,
why), ``prices_carried.csv`` (every price cell carried forward) and ``simulation.html``. Amounts
keep full precision. The definitions are ``tasks.simulation.results``'s docstring; the page states
the tracking-error and tax-alpha ones too.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import polars as pl

from data_contracts.price_history import PriceHistory
from tasks.charts import bars, lines
from tasks.simulation.engine import SimRun
from tasks.simulation.results import DRAWDOWN_MIN, drawdown_windows
from tasks.simulation.setup import SimSetup


def write_results(out: Path, run: SimRun, setup: SimSetup, prices: PriceHistory, path: pl.DataFrame,
                  years: pl.DataFrame, summary: pl.DataFrame) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {"summary": summary, "yearly": years, "drawdowns": drawdown_windows(path, run.liquidation_rate), "path": path, "households": run.path, "daily": run.daily,
             "wash_sales": run.wash_sale_lines, "substitutes": setup.substitutes, "prices_carried": prices.carried}
    written = {}
    drawdowns = files["drawdowns"]
    for name, frame in files.items():
        written[name] = out / f"{name}.csv"
        frame.write_csv(written[name])
    written["html"] = out / "simulation.html"
    written["html"].write_text(simulation_html(run, setup, prices, path, years, summary, drawdowns), encoding="utf-8")
    return written


def _pct(v: float) -> str:
    return f"{v:.2%}"


def _usd(v: float) -> str:
    return f"${v:,.0f}" if v >= 0 else f"−${-v:,.0f}"


SUMMARY_COLUMNS = {
    "strategy": ("strategy", str), "pre_tax_return_annualized": ("pre-tax return, annualized", _pct),
    "after_tax_return_annualized": ("after-tax return, annualized", _pct),
    "excess_after_tax_annualized": ("after-tax excess vs buy-and-hold", _pct),
    "excess_pre_tax_annualized": ("of which pre-tax", _pct),
    "tax_alpha_annualized": ("of which tax (tax alpha)", _pct),
    "tax_management_annualized": ("of the tax part, tax management", _pct),
    "after_tax_excess_vs_naive_annualized": ("after-tax excess vs naive", _pct),
    "realized_tracking_error": ("realized tracking error", _pct),
    "ex_ante_tracking_error_mean": ("ex-ante TE, mean", _pct), "ex_ante_tracking_error_max": ("ex-ante TE, max", _pct),
    "taxes_usd": ("taxes", _usd), "losses_harvested_usd": ("losses harvested", _usd),
    "gains_deferred_usd": ("gains deferred (end)", _usd), "liquidation_usd": ("after-tax liquidation value", _usd),
    "turnover_annual": ("turnover / year", _pct), "wash_sales": ("wash sales (unstated)", str),
    "partial_wash_sales": ("partial wash sales (chosen, priced)", str),
    "seconds_per_rebalance": ("s per household rebalance", lambda v: f"{v:.4f}"),
}
YEAR_COLUMNS = {
    "strategy": ("strategy", str), "year": ("year", str), "pre_tax_return": ("pre-tax return", _pct),
    "after_tax_return": ("after-tax return", _pct), "excess_after_tax": ("after-tax excess vs buy-and-hold", _pct),
    "excess_pre_tax": ("of which pre-tax", _pct), "tax_alpha": ("of which tax (tax alpha)", _pct),
    "tax_management": ("of the tax part, tax management", _pct),
    "taxes_usd": ("taxes", _usd), "losses_harvested_usd": ("losses harvested", _usd),
    "gains_deferred_usd": ("gains deferred", _usd), "realized_tracking_error": ("realized TE", _pct),
    "ex_ante_tracking_error_mean": ("ex-ante TE, mean", _pct), "turnover": ("turnover", _pct),
    "wash_sales": ("wash sales (unstated)", str),
}
DRAWDOWN_COLUMNS = {
    "strategy": ("strategy", str), "peak": ("model's peak", str), "trough": ("trough", str),
    "end": ("back at the peak", str), "recovered": ("recovered", lambda v: "yes" if v else "not by the end"),
    "model_drawdown": ("model's fall", _pct), "pre_tax_return": ("pre-tax return", _pct),
    "after_tax_return": ("after-tax return", _pct), "excess_after_tax": ("after-tax excess vs buy-and-hold", _pct),
    "excess_pre_tax": ("of which pre-tax", _pct), "tax_alpha": ("of which tax (tax alpha)", _pct),
    "tax_management": ("of the tax part, tax management", _pct),
}
SUBSTITUTE_COLUMNS = {
    "ticker": ("ticker", str), "substitute": ("substitute", str), "correlation": ("correlation", lambda v: f"{v:.3f}"),
    "window_days": ("days of returns", str), "reason": ("why none", str),
}
DEFINITIONS = f"""<p><b>Realized tracking error</b>: the annualized standard deviation (× √252) of a household's
daily return minus its model portfolio's, the model portfolio holding the household's target weights
reset at every close (cash earning nothing), over the trading days after the first rebalance; the
mean over households. <b>Ex-ante TE</b>: √(dᵀ(BFBᵀ + D)d) / V after each rebalance's trades, from the
risk model estimated that day from the trailing year of prices (statistical factors, Ledoit–Wolf
shrinkage: optimizer/risk_estimate.py). <b>Tax alpha</b>: against the same portfolio held without tax
management (buy-and-hold of the model): the after-tax excess over buy-and-hold (after-tax returns,
from liquidation values) less its pre-tax part (the difference of the pre-tax, time-weighted
returns); the two parts add up to the excess. A pre-tax excess is itself a gain liquidation taxes: the
tax part less −τ × the pre-tax part (τ the households' long-term liquidation rate) is shown as
<b>tax management</b>, what the tax decisions themselves did. <b>Drawdowns</b>: each fall of the model
portfolio of at least {DRAWDOWN_MIN:.0%} from a peak, from that peak to the first rebalance back at it. The excess over naive (a tax-blind full rebalance each
date) mostly measures naive's turnover.</p>"""


def _table(frame: pl.DataFrame, columns: dict) -> str:
    head = "".join(f"<th>{escape(label)}</th>" for label, _ in columns.values())
    body = "".join("<tr>" + "".join(f"<td>{escape(fmt(r[c])) if r[c] is not None else ''}</td>"
                                    for c, (_, fmt) in columns.items()) + "</tr>" for r in frame.iter_rows(named=True))
    return f"<table><tr>{head}</tr>{body}</table>"


def simulation_html(run: SimRun, setup: SimSetup, prices: PriceHistory, path: pl.DataFrame, years: pl.DataFrame,
                    summary: pl.DataFrame, drawdowns: pl.DataFrame) -> str:
    by = {s[0]: f.sort("date") for s, f in path.partition_by("strategy", as_dict=True).items()}
    baseline, column = ("buy-and-hold", "cumulative_after_tax_excess_vs_buy_and_hold") if "buy-and-hold" in by \
        else ("naive", "cumulative_after_tax_excess_vs_naive")
    alpha = lines({s: (f["date"].to_list(), f[column].to_list()) for s, f in by.items() if s != baseline},
                  f"Cumulative after-tax excess over {baseline}: liquidation value − {baseline}'s, ÷ money put in", _pct,
                  y_label="after-tax excess")
    drift = lines({s: (f["date"].to_list(), f["security_drift"].to_list()) for s, f in by.items()},
                  "Security drift from the model after each rebalance", _pct, y_label="½ Σ |weight − target|")
    harvested = years.sort("year", "strategy")
    harvest = bars([f"{y} {s}" for s, y in harvested.select("strategy", "year").iter_rows()],
                   harvested["losses_harvested_usd"].to_list(), "Losses harvested per year", _usd)
    notes = "".join(f"<li>{escape(n)}</li>" for n in run.notes[:200])
    first, last = path["date"].min(), path["date"].max()
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Lotwise simulation</title>
<style>body{{font:14px sans-serif;margin:24px;color:#222}}table{{border-collapse:collapse;margin:8px 0 20px}}
td,th{{border:1px solid #ddd;padding:3px 8px;text-align:right}}th{{background:#f4f4f4}}td:first-child{{text-align:left}}</style>
</head><body><h1>Lotwise simulation</h1>
<p>{setup.households.height} household(s), {first} to {last}, {summary['rebalances'][0] if summary.height else 0} rebalances
per household; prices from {escape(', '.join(prices.tickers[:8]))}{'…' if len(prices.tickers) > 8 else ''}
({prices.carried.height} missing closes carried forward).</p>
<h2>Summary</h2>{_table(summary, SUMMARY_COLUMNS)}
{DEFINITIONS}
<h2>Charts</h2>{alpha}<br>{harvest}<br>{drift}
<h2>Per year</h2>{_table(years, YEAR_COLUMNS)}
<h2>Over each drawdown of the model, peak to recovery</h2>{_table(drawdowns, DRAWDOWN_COLUMNS)
   if drawdowns.height else f'<p>The model portfolio never fell {DRAWDOWN_MIN:.0%} from a peak.</p>'}
{'<h2>Substitutes chosen from the price history</h2>' + _table(setup.substitutes, SUBSTITUTE_COLUMNS)
   if setup.substitutes.height else ''}
{'<h2>Notes</h2><ul>' + notes + '</ul>' if notes else ''}
</body></html>"""
