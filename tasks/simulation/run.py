"""A whole simulation from its inputs to its files (what ``lotwise simulate`` runs)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from data_contracts.price_history import read_price_history
from tasks.simulation.engine import SimOptions, SimRun, simulate
from tasks.simulation.report import write_results
from tasks.simulation.results import portfolio_path, summary, yearly
from tasks.simulation.setup import (MIN_SUBSTITUTE_CORRELATION, SetupError, SimSetup, from_firm, from_prices,
                                    with_price_model)


@dataclass(frozen=True)
class HouseholdSource:
    """Where the simulated households come from: the firm's files, or ones made from the price file.
    With the firm's files, ``weights`` or ``price_model`` replaces their models with one over the
    price file's tickers."""

    firm_dir: Path | None = None
    firm_as_of: dt.date | None = None
    household_ids: tuple[str, ...] | None = None  # None: every household the validation passes
    start_from: Literal["cash", "lots"] = "cash"
    weights: dict[str, float] | None = None  # bare price file: the model (None: equal weight)
    cash_weight: float = 0.0
    initial_usd: float = 1_000_000.0
    copies: int = 1  # bare price file: identical households
    profile: dict | None = None
    price_model: bool = False  # with the firm's files: equal weight over the price file's tickers
    min_substitute_correlation: float = MIN_SUBSTITUTE_CORRELATION  # substitutes chosen from the price history


@dataclass(frozen=True)
class SimOutcome:
    setup: SimSetup
    run: SimRun
    summary: pl.DataFrame
    yearly: pl.DataFrame
    files: dict[str, Path]


def parse_weights(text: str | None) -> dict[str, float] | None:
    """``"VTI=0.6,BND=0.4"``, or a CSV file with columns ticker and weight; None: equal weight."""
    if not text:
        return None
    if Path(text).is_file():
        frame = pl.read_csv(text)
        if not {"ticker", "weight"} <= set(frame.columns):
            raise SetupError(f"{text}: a weights file needs the columns ticker and weight")
        return dict(frame.select("ticker", pl.col("weight").cast(pl.Float64)).iter_rows())
    weights = {}
    for part in text.split(","):
        ticker, sep, value = part.partition("=")
        try:
            weights[ticker.strip()] = float(value)
        except ValueError:
            raise SetupError(f"weights: {part!r} is not TICKER=WEIGHT") from None
        if not sep:
            raise SetupError(f"weights: {part!r} is not TICKER=WEIGHT")
    return weights


def run_simulation(prices_csv: Path, who: HouseholdSource, options: SimOptions, out: Path) -> SimOutcome:
    prices = read_price_history(prices_csv)
    if who.firm_dir is not None:
        setup = from_firm(who.firm_dir, who.firm_as_of or options.start, prices, options.start,
                          list(who.household_ids) if who.household_ids else None, who.start_from)
        if who.weights or who.price_model:
            setup = with_price_model(setup, prices, options.start, who.weights, who.cash_weight,
                                     who.min_substitute_correlation)
    else:
        setup = from_prices(prices, options.start, who.initial_usd, who.weights, who.cash_weight, who.profile, who.copies,
                            min_correlation=who.min_substitute_correlation)
    run = simulate(setup, prices, options)
    path = portfolio_path(run)
    years = yearly(run, path)
    table = summary(run, path, years)
    files = write_results(out, run, setup, prices, path, years, table)
    return SimOutcome(setup, run, table, years, files)
