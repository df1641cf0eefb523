"""The ``lotwise`` command."""

from __future__ import annotations

import datetime as dt
import time
import zipfile
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from data_contracts.config import DEFAULT_REPORTS_PORT
from flows.local import use_local_prefect

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False, help="Lotwise: tax-aware household rebalancing.")
console = Console()
err_console = Console(stderr=True)


def _date(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.2%}"


@app.command("sample-firm")
def sample_firm(
    households: Annotated[int, typer.Option(min=1, help="Number of households.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same bytes.")] = 7,
    as_of: Annotated[str, typer.Option(help="Business day of the files (YYYY-MM-DD).")] = "2026-11-20",
    out: Annotated[Path, typer.Option(help="Folder to write the day's drop into.")] = Path("var/input"),
    layouts: Annotated[str, typer.Option(
        help="canonical: every custodian in Lotwise's layout; custodian: birch and cedar in their own "
             "shapes (mapping files in data_contracts/layouts).")] = "canonical",
) -> None:
    """Write one business day of a generated sample firm."""
    from data_contracts.sample_firm import write_sample_firm

    if layouts not in ("canonical", "custodian"):
        raise typer.BadParameter("must be canonical or custodian", param_hint="--layouts")
    start = time.perf_counter()
    counts = write_sample_firm(households, seed, _date(as_of), out, layouts=layouts)
    console.print(f"sample firm written to {out} in {time.perf_counter() - start:.1f} s: "
                  + ", ".join(f"{n:,} {k}" for k, n in counts.items()))


@app.command("run")
def run(
    input_dir: Annotated[Path, typer.Option("--input", help="The day's folder in the canonical layout.")],
    as_of: Annotated[str, typer.Option(help="Business day (YYYY-MM-DD).")],
    var: Annotated[Path, typer.Option(help="Where the warehouse and run outputs go.")] = Path("var"),
    config: Annotated[Optional[Path], typer.Option(help="YAML run configuration (defaults embedded).")] = None,
) -> None:
    """Run the daily rebalance for the whole firm. Exits 3 when the day has nothing to run on (no
    drop, no readable household, none solvable): the run is Failed and nothing is staged."""
    summary = _run(input_dir, _date(as_of), var, config)
    _print_summary(summary)


# Exit codes (README, "Commands"): 0 done; 1 a replayed snapshot that fails or does not verify; 2 a
# refusal (a request, configuration, snapshot or path that cannot be used, said in one line); 3 the day's
# input is missing or unusable; 4 another run of the same date holds it; 5 rows rejected (lots replay).
NO_USABLE_INPUT_EXIT = 3
DATE_HELD_EXIT = 4
REJECTED_ROWS_EXIT = 5
REFUSED_EXIT = 2


@app.command("demo")
def demo(
    households: Annotated[int, typer.Option(min=1)] = 500,
    seed: Annotated[int, typer.Option()] = 7,
    as_of: Annotated[str, typer.Option()] = "2026-11-20",
    var: Annotated[Path, typer.Option()] = Path("var"),
) -> None:
    """Generate the sample firm and run the daily flow on it, end to end."""
    day = _date(as_of)
    input_dir = var / "input" / day.isoformat()
    sample_firm(households, seed, as_of, input_dir, layouts="custodian")  # birch and cedar in their own shapes
    summary = _run(input_dir, day, var, None)
    _print_summary(summary)


@app.command("cashflow")
def cashflow(
    household: Annotated[str, typer.Option(help="Household id.")],
    amount: Annotated[str, typer.Option(help="Dollars: positive deposit to invest, negative withdrawal to raise.")],
    account: Annotated[Optional[str], typer.Option(help="Account (default: the household's largest taxable).")] = None,
    var: Annotated[Path, typer.Option(help="Where the warehouse and run outputs are.")] = Path("var"),
    local: Annotated[bool, typer.Option("--local", help="Run the cash-flow flow here instead of emitting the event.")] = False,
) -> None:
    """Emit a lotwise.cashflow event (the served cash-flow-rebalance deployment runs on it)."""
    import os

    from data_contracts.cash_flow import CashFlowRejected, parse_request
    from tasks.cash_flow import check_account, household_day, latest_daily_run

    try:  # rejected here, before anything is emitted or run
        request = parse_request(household_id=household, amount_usd=amount, account_id=account)
        parquet_root = var / "warehouse" / "parquet"
        day = household_day(parquet_root, latest_daily_run(parquet_root), request.household_id)
        check_account(request, day.accounts["account_id"].cast(str).to_list())
    except CashFlowRejected as exc:
        console.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from exc
    if local:
        use_local_prefect(var)
        from flows.cash_flow_rebalance import cash_flow_rebalance

        s = cash_flow_rebalance(household_id=request.household_id, amount_usd=str(request.amount_usd),
                                account_id=request.account_id, var_dir=var)
        console.print(f"cash flow {s['run_id']}: {s['status']}, {s['trades']} trades, on the latest day that validated "
                      f"({s['as_of_date']}, run {s['base_run_id']}), files in {s['output_dir']}", soft_wrap=True)
        return
    if not os.environ.get("PREFECT_API_URL"):
        from prefect.settings import PREFECT_API_URL

        if not PREFECT_API_URL.value():
            console.print("[red]no Prefect server configured: set PREFECT_API_URL (see the README's 'Running it "
                          "like the desk' section) or use --local[/red]")
            raise typer.Exit(2)
    from flows.events import emit_cash_flow

    event = emit_cash_flow(request)
    console.print(f"emitted lotwise.cashflow {event.id} for household {request.household_id}: {request.amount_usd} USD")


@app.command("contracts-doc")
def contracts_doc(out: Annotated[Path, typer.Option()] = Path("docs/contracts.md")) -> None:
    """Regenerate the reference of every input and output file from the pydantic contracts."""
    from data_contracts.reference import render

    out.write_text(render())
    console.print(f"wrote {out}")


@app.command("sample-prices")
def sample_prices(
    out: Annotated[Path, typer.Option(help="The wide CSV to write (Date, then one column per ticker).")],
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")] = "2014-01-01",
    end: Annotated[str, typer.Option(help="Last day (YYYY-MM-DD).")] = "2025-12-31",
    tickers: Annotated[int, typer.Option(min=2, help="Stocks S001… in 10 sectors (ignored with --firm).")] = 100,
    firm: Annotated[Optional[Path], typer.Option(help="A sample firm's day folder: prices for its securities.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same bytes.")] = 7,
) -> None:
    """Write a synthetic price history: correlated daily returns with sectors (data_contracts.sample_prices)."""
    import polars as pl

    from data_contracts.sample_prices import firm_groups, generate_prices, sector_universe

    groups = firm_groups(pl.read_csv(firm / "firm" / "securities.csv", infer_schema=False)) if firm else \
        sector_universe(tickers, seed)
    history = generate_prices(groups, _date(start), _date(end), seed)
    history.to_csv(out)
    console.print(f"{len(history.tickers)} tickers × {len(history.dates)} days written to {out}")


@app.command("simulate")
def simulate_cmd(
    prices: Annotated[Path, typer.Option(help="Wide CSV of daily adjusted closes: Date, then one column per ticker.")],
    start: Annotated[str, typer.Option(help="First rebalance on or after this day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last day (YYYY-MM-DD).")],
    every: Annotated[str, typer.Option(help="Rebalance every day, week or month.")] = "month",
    strategy: Annotated[Optional[list[str]], typer.Option(
        help="lotwise, naive, buy-and-hold (repeat; default all three; buy-and-hold and naive always run: the "
             "tax alpha is measured against buy-and-hold, the excess over naive is reported too).")] = None,
    firm: Annotated[Optional[Path], typer.Option(help="A day folder of the firm's files (households, models, mandates).")] = None,
    firm_as_of: Annotated[Optional[str], typer.Option(help="The business day of --firm's files.")] = None,
    household: Annotated[Optional[list[str]], typer.Option(help="Household id from --firm (repeat; default all).")] = None,
    start_from: Annotated[str, typer.Option(help="cash: each account's value invested on the start date; "
                                                 "lots: the firm's lots as held (acquired by the start).")] = "cash",
    weights: Annotated[Optional[str], typer.Option(
        help="The model over the price file's tickers, 'A=0.6,B=0.4' or a CSV of ticker,weight (default without "
             "--firm: equal weight over every ticker; with --firm it replaces the households' models).")] = None,
    price_model: Annotated[bool, typer.Option(
        help="With --firm: equal weight over the price file's tickers instead of the households' models.")] = False,
    cash_weight: Annotated[float, typer.Option(min=0, max=1, help="The price-file model's cash weight.")] = 0.0,
    substitute_min_correlation: Annotated[float, typer.Option(
        min=-1, max=1, help="Substitutes chosen from the price history: the least correlation of daily returns "
                            "(a ticker with no candidate at it gets none, and the results say so).")] = 0.7,
    initial_usd: Annotated[float, typer.Option(min=0, help="No --firm: cash invested on the start date.")] = 1_000_000.0,
    copies: Annotated[int, typer.Option(min=1, help="No --firm: this many identical households.")] = 1,
    taxes: Annotated[str, typer.Option(help="pay: each year's tax leaves the taxable account on 15 April; "
                                            "accrue: it is a liability at the end.")] = "pay",
    dividend_yield: Annotated[float, typer.Option(min=0, help="Annual cash dividend yield (use price-only closes).")] = 0.0,
    flow_usd: Annotated[float, typer.Option(help="Per household each --flow-every: a deposit (> 0) or withdrawal (< 0).")] = 0.0,
    flow_every: Annotated[str, typer.Option(help="month, quarter or year.")] = "year",
    outside_gains_usd: Annotated[float, typer.Option(
        min=0, help="Short-term gains each household realizes elsewhere each year (1 January), for every strategy: "
                    "what a harvested loss can offset at once; the book is charged only the tax it adds.")] = 0.0,
    shares: Annotated[str, typer.Option(help="fractional, round or mip (as the run configuration).")] = "fractional",
    min_trade_usd: Annotated[Optional[float], typer.Option(
        min=0, help="No trade below this, for every strategy (default: the run configuration's).")] = None,
    config: Annotated[Optional[Path], typer.Option(help="YAML run configuration (defaults embedded).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the results (CSV and simulation.html).")] = Path("var/simulation"),
) -> None:
    """Run the strategies over a price history and measure the tax alpha (CSV + HTML)."""
    from data_contracts.config import RunConfig
    from tasks.simulation.engine import SimOptions
    from tasks.simulation.run import HouseholdSource, parse_weights, run_simulation
    from tasks.simulation.setup import SetupError
    from tasks.simulation.strategies import STRATEGIES

    chosen = tuple(strategy or STRATEGIES)
    bad = [s for s in chosen if s not in STRATEGIES]
    for value, allowed, hint in ((every, ("day", "week", "month"), "--every"), (taxes, ("pay", "accrue"), "--taxes"),
                                 (flow_every, ("month", "quarter", "year"), "--flow-every"),
                                 (start_from, ("cash", "lots"), "--start-from"),
                                 (shares, ("fractional", "round", "mip"), "--shares")):
        if value not in allowed:
            raise typer.BadParameter(f"must be one of {', '.join(allowed)}", param_hint=hint)
    if bad:
        raise typer.BadParameter(f"unknown {', '.join(bad)} (lotwise, naive, buy-and-hold)", param_hint="--strategy")
    chosen = chosen + tuple(s for s in ("naive", "buy-and-hold") if s not in chosen)
    run_config = RunConfig.load(config).model_copy(
        update={"shares": shares} | ({} if min_trade_usd is None else {"min_trade_usd": min_trade_usd}))
    options = SimOptions(_date(start), _date(end), every, chosen, taxes, dividend_yield, flow_usd, flow_every, run_config,
                         outside_st_gain_usd=outside_gains_usd)
    try:
        who = HouseholdSource(firm, _date(firm_as_of) if firm_as_of else None, tuple(household) if household else None,
                              start_from, parse_weights(weights), cash_weight, initial_usd, copies,
                              price_model=price_model, min_substitute_correlation=substitute_min_correlation)
        outcome = run_simulation(prices, who, options, out)
    except (SetupError, ValueError) as exc:
        console.print(f"[red]cannot simulate:[/red] {exc}")
        raise typer.Exit(2) from exc
    from tasks.artifacts import money

    table = Table(title=f"simulation {outcome.summary['start'][0]} to {outcome.summary['end'][0]}")
    for name in ("strategy", "pre-tax / yr", "after-tax / yr", "excess vs b&h / yr", "pre-tax part", "tax alpha",
                 "realized TE", "ex-ante TE", "turnover / yr", "taxes", "harvested", "wash sales", "s / rebalance"):
        table.add_column(name, overflow="fold")  # wrapped in its cell, never cut off, whatever the width
    for r in outcome.summary.iter_rows(named=True):
        table.add_row(r["strategy"], _pct(r["pre_tax_return_annualized"]), _pct(r["after_tax_return_annualized"]),
                      _pct(r["excess_after_tax_annualized"]), _pct(r["excess_pre_tax_annualized"]),
                      _pct(r["tax_alpha_annualized"]), _pct(r["realized_tracking_error"]),
                      _pct(r["ex_ante_tracking_error_mean"]), _pct(r["turnover_annual"]), money(r["taxes_usd"]),
                      money(r["losses_harvested_usd"]), str(r["wash_sales"]), f"{r['seconds_per_rebalance']:.4f}")
    console.print(table)
    for note in outcome.run.notes[:10]:
        console.print(f"note: {note}")
    console.print(f"results: {outcome.files['html']} (and the CSVs beside it)")


lots_app = typer.Typer(no_args_is_help=True, help="The tax-lot ledger.")
app.add_typer(lots_app, name="lots")


@lots_app.command("replay")
def lots_replay(
    transactions: Annotated[Path, typer.Option(help="Transactions CSV (see docs/contracts.md).")],
    out: Annotated[Path, typer.Option(help="Folder for sales.csv, open_lots.csv, netting.csv, errors.csv.")],
    identical: Annotated[Optional[Path], typer.Option(
        help="CSV of security,group: substantially identical securities share a group.")] = None,
) -> None:
    """Replay transactions through the ledger (IRS Pub. 550) to audit a custodian's cost basis."""
    import polars as pl

    from tasks.lots_replay import replay_file, write_replay

    groups = None
    if identical is not None:
        table = pl.read_csv(identical, infer_schema=False)
        groups = dict(zip(table["security"].to_list(), table["group"].to_list()))
    try:
        result = replay_file(transactions, groups)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    counts = write_replay(result, out)
    console.print(f"replayed {transactions}: {counts['sales']:,} lot sales, {counts['open_lots']:,} open lots, "
                  f"{counts['netting']:,} taxpayer-years; {counts['errors']:,} rows could not be applied"
                  + (f" (see {out / 'errors.csv'})" if counts["errors"] else ""))
    for e in result.errors[:10]:
        console.print(f"  row {e['row']}: {e['field']}: {e['reason']}")
    if counts["errors"]:  # everything else was written; an audit with rejected rows is not a clean one
        raise typer.Exit(REJECTED_ROWS_EXIT)


reports_app = typer.Typer(no_args_is_help=True, help="The run folders and Data Docs over HTTP, for the dashboard's links.")
app.add_typer(reports_app, name="reports")


@reports_app.command("serve")
def reports_serve(
    var: Annotated[Path, typer.Option(help="The var folder whose runs/ and data_docs/ are served.")] = Path("var"),
    host: Annotated[str, typer.Option(help="Address to listen on; anything but loopback needs --token or --basic-auth.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port (the run configuration's reports_base_url names it).")]
    = DEFAULT_REPORTS_PORT,
    token: Annotated[Optional[str], typer.Option(envvar="LOTWISE_REPORTS_TOKEN", show_envvar=True,
                                                 help="Require 'Authorization: Bearer TOKEN' (16+ characters).")] = None,
    basic_auth: Annotated[Optional[str], typer.Option(envvar="LOTWISE_REPORTS_BASIC_AUTH", show_envvar=True,
                                                      help="Require HTTP basic authentication, USER:PASSWORD "
                                                           "(password 16+ characters).")] = None,
) -> None:
    """Serve var/runs and var/data_docs read-only over HTTP until Ctrl-C (exits 2 when it refuses to start)."""
    from tasks.reports_server import Access, refusal, serve

    try:
        access = Access.parse(token, basic_auth)
    except ValueError as exc:
        err_console.print(f"refusing to serve: {exc}", soft_wrap=True)
        raise typer.Exit(2) from exc
    reason = refusal(host, access)
    if reason is not None:
        err_console.print(f"refusing to serve: {reason}", soft_wrap=True)
        raise typer.Exit(2)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"serving {var / 'runs'} at http://{shown}:{port}/runs/ and {var / 'data_docs'} at "
                  f"http://{shown}:{port}/data-docs/ (read-only; {access.describe()}); Ctrl-C stops", soft_wrap=True)
    serve(var, host, port, access)


@app.command("replay")
def replay(snapshot: Annotated[Path, typer.Argument(help="A household snapshot (.npz) written by a run.")]) -> None:
    """Solve and verify one household from its snapshot, exactly as the run did."""
    from optimizer.errors import OptimizerError
    from optimizer.relax import solve_with_relaxation
    from optimizer.snapshot import load_snapshot
    from optimizer.verify import verify

    try:
        problem, params = load_snapshot(snapshot)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:  # not a snapshot: one line, not a traceback
        raise CliRefusal(f"{snapshot}: not a readable Lotwise household snapshot ({type(exc).__name__}: {exc})") from exc
    console.print(f"household {problem.household_id} as of {problem.as_of}: {problem.n_accounts} accounts, "
                  f"{problem.n_securities} securities, {problem.n_lots} lots, value ${problem.total_value_usd:,.2f}")
    try:
        sol, relaxed = solve_with_relaxation(problem, params)
    except OptimizerError as exc:
        console.print(f"[red]{type(exc).__name__}: {exc}[/red]")
        raise typer.Exit(1) from exc
    for r in relaxed:
        console.print(f"[yellow]{r}[/yellow]")
    table = Table("account", "security", "side", "shares", "amount")
    p = sol.problem
    sold = sol.lot_sold_shares
    for i in np.flatnonzero(sold > 0):
        table.add_row(str(p.account_ids[p.lot_account[i]]), f"{p.security_ids[p.lot_security[i]]} (lot {p.lot_ids[i]})",
                      "sell", f"{sold[i]:,.6f}", f"${sol.lot_sold_usd[i]:,.2f}")
    for a, s, q, usd in zip(sol.buy_account, sol.buy_security, sol.buy_shares, sol.buy_usd):
        table.add_row(str(p.account_ids[a]), str(p.security_ids[s]), "buy", f"{q:,.6f}", f"${usd:,.2f}")
    console.print(table)
    problems = verify(sol)
    console.print(f"objective {sol.objective:,.4f} in {sol.passes} LP passes; verification: "
                  + ("passed" if not problems else "[red]FAILED[/red]: " + "; ".join(problems)))
    if problems:
        raise typer.Exit(1)


def _run(input_dir: Path, as_of: dt.date, var: Path, config_path: Optional[Path]) -> dict:
    from data_contracts.config import RunConfig

    run_config = RunConfig.load(config_path)  # a bad file is refused before Prefect starts
    use_local_prefect(var)
    from flows.daily_rebalance import daily_rebalance
    from tasks.validate import NoUsableInput
    from warehouse.locks import RunInProgress

    try:
        return daily_rebalance(input_dir=input_dir, as_of=as_of, var_dir=var, config=run_config)
    except NoUsableInput as exc:
        err_console.print(f"run failed: {exc}", soft_wrap=True)
        raise typer.Exit(NO_USABLE_INPUT_EXIT) from exc
    except RunInProgress as exc:  # a refusal to publish twice, not a crash
        err_console.print(f"run refused: {exc}", soft_wrap=True)
        raise typer.Exit(DATE_HELD_EXIT) from exc


def _print_summary(s: dict) -> None:
    from tasks.artifacts import daily_title, money  # Prefect is loaded by now: the run has finished

    table = Table(title=daily_title(s), show_header=False)
    rows = [
        ("households", f"{s['households_total']:,}"),
        ("solved and verified", f"{s['households_solved']:,} ({s['households_with_trades']:,} with trades, "
                                f"{s.get('households_reused', 0):,} carried over from an earlier run of the day)"),
        ("quarantined (bad input)", f"{s['households_quarantined']:,}"),
        ("infeasible", f"{s['households_infeasible']:,}"),
        ("solved after relaxing a soft limit", f"{s['households_relaxed']:,}"),
        ("failed verification", f"{s['households_failed_verification']:,}"),
        ("trades", f"{s['trades']:,}: buys ${s['buy_amount_usd']:,.2f}, sells ${s['sell_amount_usd']:,.2f}"),
        ("estimated tax this run adds (netted with the year)", money(s["est_tax_usd"])),
        ("taxes saved or deferred vs naive", f"{money(s['tax_saved_usd'])} (harvesting {money(s['tax_saved_harvesting_usd'])}, "
                                             f"deferral {money(s['tax_saved_deferral_usd'])})"),
        ("data checks (Great Expectations)", f"{s.get('expectations_failed', 0):,} of "
                                             f"{s.get('expectations_evaluated', 0):,} expectations failed"),
        ("stage timings", ", ".join(f"{t['stage']} {t['seconds']:.2f}s" for t in s["stage_timings"])),
    ]
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)
    out = Path(s["output_dir"])
    warehouse = out.parents[2] / "warehouse"
    console.print(f"trade files and reports: {out}/", soft_wrap=True)
    console.print(f"desk report (open in a browser): {out / 'desk_report.html'}", soft_wrap=True)
    console.print(f"warehouse: {warehouse / 'lotwise.duckdb'} (views over {warehouse / 'parquet'}/)", soft_wrap=True)
    console.print("exceptions to review: " + str(out / "exceptions.csv"), soft_wrap=True)
    if s.get("data_docs"):
        console.print(f"data quality report (Data Docs): {s['data_docs']}", soft_wrap=True)


class CliRefusal(Exception):
    """What the command cannot use, in one line (exit 2)."""


def main() -> None:
    """The ``lotwise`` entry point: a configuration, snapshot or path that cannot be used is one line
    naming the problem (exit 2), not a traceback, unless ``--debug`` is given."""
    import sys

    import yaml
    from pydantic import ValidationError

    from data_contracts.config import ConfigError

    debug = "--debug" in sys.argv[1:]
    if debug:
        sys.argv.remove("--debug")
    try:
        code = app(standalone_mode=False)  # click returns a typer.Exit's code rather than exiting
    except (CliRefusal, ConfigError, OSError, ValidationError, yaml.YAMLError) as exc:
        if debug:
            raise
        err_console.print(f"lotwise: {_one_line(exc)}", soft_wrap=True)
        sys.exit(REFUSED_EXIT)
    except typer.Abort:
        err_console.print("lotwise: stopped")
        sys.exit(130)
    except typer.TyperException as exc:  # a usage error: its own message and code (2)
        exc.show()
        sys.exit(getattr(exc, "exit_code", REFUSED_EXIT))
    sys.exit(code if isinstance(code, int) else 0)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.filename is not None:
        text = f"{exc.filename}: {exc.strerror or text}"
    return text[:500]


if __name__ == "__main__":
    main()
