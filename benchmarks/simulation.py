"""The simulator's speed: `python -m benchmarks.simulation [--years 10] [--households 100]`.

Two runs, each printing the time per simulated household rebalance (everything a rebalance does:
the books' tax year and dividends, the day's frames, ``build_problems``, the strategy, the ledger,
the path figures):

1. a 10-year **daily** simulation of one household holding a 100-stock direct index (equal weight,
   a generated 100-stock history with sectors), lotwise, with a $100 minimum trade. (The naive
   strategy is left out of the daily run: rebalancing a 100-stock index exactly every day buys
   slivers of most stocks daily — 6,900 lots and 60,000 sale lines in the first year even with the
   $100 minimum — which measures the ledger's bookkeeping, not a desk. It runs in the monthly one.)
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
from tasks.simulation.results import portfolio_path, summary, yearly
from tasks.simulation.setup import from_firm, from_prices

FIRM_AS_OF = dt.date(2026, 11, 20)


def _report(label: str, run, seconds: float) -> None:
    path = portfolio_path(run)
    table = summary(run, path, yearly(run, path))
    print(f"\n{label}: {run.rebalances:,} household rebalances per strategy, {seconds:.1f} s in all, "
          f"peak {peak_rss_gib():.2f} GiB")
    for r in table.iter_rows(named=True):
        alpha = r["tax_alpha_annualized"]
        print(f"  {r['strategy']:<13} {run.seconds[r['strategy']]:8.1f} s   "
              f"{r['seconds_per_rebalance'] * 1e3:7.2f} ms per household rebalance   "
              f"pre-tax {r['pre_tax_return_annualized']:7.2%}/yr   after-tax {r['after_tax_return_annualized']:7.2%}/yr   "
              f"taxes ${r['taxes_usd']:,.0f}   harvested ${r['losses_harvested_usd']:,.0f}   TE {r['tracking_error']:.2%}   tax alpha "
              f"{'' if alpha is None else f'{alpha:6.2%}'}/yr   wash sales {r['wash_sales']}")


def direct_index_daily(years: int) -> None:
    start, end = dt.date(2014, 1, 2), dt.date(2014 + years, 1, 1)
    prices = generate_prices(sector_universe(100, 7), start - dt.timedelta(days=400), end, 7)
    setup = from_prices(prices, start, 1_000_000.0)
    t = time.perf_counter()
    config = RunConfig(shares="fractional", min_trade_usd=100.0)
    run = simulate(setup, prices, SimOptions(start, end, every="day", strategies=("lotwise",), config=config))
    _report(f"direct index, 100 stocks, {years} years daily", run, time.perf_counter() - t)


def households_monthly(households: int, years: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        firm = Path(tmp) / "firm"
        write_sample_firm(households, 7, FIRM_AS_OF, firm)
        start, end = dt.date(FIRM_AS_OF.year - years, 1, 2), FIRM_AS_OF
        prices = generate_prices(firm_groups(pl.read_csv(firm / "firm" / "securities.csv", infer_schema=False)),
                                 start - dt.timedelta(days=30), end, 7)
        setup = from_firm(firm, FIRM_AS_OF, prices, start, None, "cash")
        t = time.perf_counter()
        run = simulate(setup, prices, SimOptions(start, end, every="month"))
        _report(f"{setup.households.height} sample-firm households, {years} years monthly", run, time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--households", type=int, default=100)
    args = ap.parse_args()
    direct_index_daily(args.years)
    households_monthly(args.households, args.years)


if __name__ == "__main__":
    main()
