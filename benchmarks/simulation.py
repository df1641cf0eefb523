"""The simulator's speed: `python -m benchmarks.simulation [--years 10] [--households 100] [--every day]
[--strategies lotwise,naive,buy-and-hold]`.

Two runs, each printing the time per simulated household rebalance (everything a rebalance does:
the books' tax year and dividends, the trailing risk model, the day's frames, ``build_problems``,
the strategy, the ledger, the path figures) and, per strategy, the pre-tax and after-tax returns,
the realized and ex-ante tracking error against the model, and the after-tax excess over
buy-and-hold split into its pre-tax part and its tax part (the tax alpha; definitions in
``tasks/simulation/results.py``), then lotwise's per year, then every strategy's over each drawdown
of the model (peak to recovery). ``--outside-gains-usd`` gives the direct-index household short-term
gains realized elsewhere each year, which its harvested losses can offset at once (the usual direct-
index client, and the literature's tax-alpha setting); without them a harvested loss only waits as
a carryforward, $3,000 a year against income:

1. a 10-year **daily** (``--every``) simulation of one household holding a 100-stock direct index
   (equal weight, a generated 100-stock history with sectors), all three strategies (``--strategies``),
   with a $100 minimum trade. (Naive rebalancing a 100-stock index exactly every day buys slivers of
   most stocks daily — 6,900 lots and 60,000 sale lines in the first year even with the $100
   minimum — so the daily run takes the better part of an hour; ``--every week --strategies
   lotwise,buy-and-hold --households 0`` is the desk's quick look, about a minute and a half.)
2. **100 households monthly** over 10 years: the generated sample firm's first 100 households with
   their own models, accounts and mandates, from cash, on a generated history of the firm's
   securities; all three strategies.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import polars as pl

from benchmarks.common import peak_rss_gib
from data_contracts.sample_firm import write_sample_firm
from data_contracts.sample_prices import firm_groups, generate_prices, sector_universe
from data_contracts.config import RunConfig
from tasks.simulation.engine import SimOptions, simulate
from tasks.simulation.results import DRAWDOWN_MIN, drawdown_windows, portfolio_path, summary, yearly

HISTORY_DAYS = 400  # calendar days of prices before the start: a year of returns for the first risk model
from tasks.simulation.setup import from_firm, from_prices

FIRM_AS_OF = dt.date(2026, 11, 20)


def _pct(value: float | None, width: int = 7) -> str:
    return f"{'':>{width}}" if value is None or value != value else f"{value:{width}.2%}"


def _report(label: str, run, seconds: float) -> None:
    path = portfolio_path(run)
    years = yearly(run, path)
    table = summary(run, path, years)
    print(f"\n{label}: {run.rebalances:,} household rebalances per strategy, {seconds:.1f} s in all, "
          f"peak {peak_rss_gib():.2f} GiB")
    for r in table.iter_rows(named=True):
        print(f"  {r['strategy']:<13} {run.seconds[r['strategy']]:8.1f} s  {r['seconds_per_rebalance'] * 1e3:7.2f} ms/rebalance"
              f"   pre-tax {_pct(r['pre_tax_return_annualized'])}/yr  after-tax {_pct(r['after_tax_return_annualized'])}/yr"
              f"   vs buy-and-hold {_pct(r['excess_after_tax_annualized'])} = pre-tax {_pct(r['excess_pre_tax_annualized'])}"
              f" + tax {_pct(r['tax_alpha_annualized'])} (on pre-tax {_pct(r['tax_on_pre_tax_annualized'])},"
              f" management {_pct(r['tax_management_annualized'])})   TE realized {_pct(r['realized_tracking_error'], 6)}"
              f" ex-ante mean {_pct(r['ex_ante_tracking_error_mean'], 6)} max {_pct(r['ex_ante_tracking_error_max'], 6)}"
              f"   taxes ${r['taxes_usd']:,.0f}  harvested ${r['losses_harvested_usd']:,.0f}  wash sales {r['wash_sales']}")
    for strategy, rows in run.path.partition_by("strategy", as_dict=True, maintain_order=True).items():
        worst = rows.sort(pl.col("largest_weight") - pl.col("largest_weight_target"), descending=True).row(0, named=True)
        print(f"  {strategy[0]:<13} largest position {worst['largest_weight']:.2%} against its target "
              f"{worst['largest_weight_target']:.2%} ({worst['household_id']}, {worst['date']})")
    untraded = [n for n in run.notes if ": no trades: " in n]  # infeasible or a solver failure: withheld, as on the desk
    if untraded:
        print(f"  {len(untraded)} household rebalances made no trades (first: {untraded[0][:160]})")
    print("  lotwise per year:  pre-tax   after-tax  vs b&h = pre-tax + tax (management)   harvested     realized TE  ex-ante TE")
    for r in years.filter(pl.col("strategy") == "lotwise").iter_rows(named=True):
        print(f"    {r['year']}          {_pct(r['pre_tax_return'])}  {_pct(r['after_tax_return'])}   "
              f"{_pct(r['excess_after_tax'])} = {_pct(r['excess_pre_tax'])} + {_pct(r['tax_alpha'])} "
              f"({_pct(r['tax_management'])})  ${r['losses_harvested_usd']:>11,.0f}   {_pct(r['realized_tracking_error'])}    "
              f"{_pct(r['ex_ante_tracking_error_mean'])}")
    windows = drawdown_windows(path, run.liquidation_rate)
    print(f"  drawdowns of the model ≥ {DRAWDOWN_MIN:.0%}, peak → trough → recovery: after-tax excess over buy-and-hold "
          "= pre-tax + tax (of which tax management), not annualized")
    for r in windows.filter(pl.col("strategy") != "buy-and-hold").iter_rows(named=True):
        print(f"    {r['strategy']:<8} {r['peak']} → {r['trough']} → {r['end']}{'' if r['recovered'] else ' (not recovered)'}"
              f"  model {-r['model_drawdown']:7.2%}   {_pct(r['excess_after_tax'])} = {_pct(r['excess_pre_tax'])}"
              f" + {_pct(r['tax_alpha'])} ({_pct(r['tax_management'])})")


def direct_index(years: int, every: str = "day",
                 strategies: tuple[str, ...] = ("lotwise", "naive", "buy-and-hold"), outside_gains_usd: float = 0.0) -> None:
    start, end = dt.date(2014, 1, 2), dt.date(2014 + years, 1, 1)
    prices = generate_prices(sector_universe(100, 7), start - dt.timedelta(days=HISTORY_DAYS), end, 7)
    setup = from_prices(prices, start, 1_000_000.0)
    t = time.perf_counter()
    config = RunConfig(shares="fractional", min_trade_usd=100.0)
    run = simulate(setup, prices, SimOptions(start, end, every=every, strategies=strategies, config=config,
                                             outside_st_gain_usd=outside_gains_usd))
    outside = f", ${outside_gains_usd:,.0f} of short-term gains elsewhere each year" if outside_gains_usd else ""
    _report(f"direct index, 100 stocks, {years} years, every {every}{outside}", run, time.perf_counter() - t)


def households_monthly(households: int, years: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        firm = Path(tmp) / "firm"
        write_sample_firm(households, 7, FIRM_AS_OF, firm)
        start, end = dt.date(FIRM_AS_OF.year - years, 1, 2), FIRM_AS_OF
        prices = generate_prices(firm_groups(pl.read_csv(firm / "firm" / "securities.csv", infer_schema=False)),
                                 start - dt.timedelta(days=HISTORY_DAYS), end, 7)
        setup = from_firm(firm, FIRM_AS_OF, prices, start, None, "cash")
        t = time.perf_counter()
        run = simulate(setup, prices, SimOptions(start, end, every="month"))
        _report(f"{setup.households.height} sample-firm households, {years} years monthly", run, time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--households", type=int, default=100, help="sample-firm households monthly (0: skip that run)")
    ap.add_argument("--every", choices=("day", "week", "month"), default="day", help="the direct index's rebalances")
    ap.add_argument("--strategies", default="lotwise,naive,buy-and-hold", help="the direct index's strategies")
    ap.add_argument("--outside-gains-usd", type=float, default=0.0,
                    help="the direct-index household's short-term gains realized elsewhere each year")
    args = ap.parse_args()
    direct_index(args.years, args.every, tuple(args.strategies.split(",")), args.outside_gains_usd)
    if args.households:
        households_monthly(args.households, args.years)


if __name__ == "__main__":
    main()
