"""The cash-flow flow: one household, re-optimized when money arrives or must be raised.

Started by the ``lotwise.cashflow`` event (deploy/deployments.py) or ``lotwise cashflow --local``.
The request is validated first; a rejected request runs nothing and the run fails with the reason
(also shown as its summary artifact). See tasks/cash_flow.py for what data it starts from.
"""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger

from data_contracts.cash_flow import CashFlowRejected, parse_request
from data_contracts.config import RunConfig
from data_contracts.outputs import CashFlowSummary
from data_contracts.validation import EXCEPTION_SCHEMA
from optimizer.errors import OptimizerError
from optimizer.relax import solve_with_relaxation
from optimizer.verify import verify
from tasks.artifacts import markdown_table, mask_account, mask_text, money, publish_artifacts
from tasks.cash_flow import apply_cash_flow, load_household
from tasks.desk import desk_frames
from tasks.desk_report import chart_figures, desk_report_html, write_desk_report
from tasks.export import custodian_layouts, export, publish_summary, run_folder
from tasks.optimize import solve_params
from tasks.outcomes import household_exception
from tasks.persist import persist
from tasks.problems import build_problems
from tasks.tax_report import run_frames


@flow(name="cash_flow_rebalance", flow_run_name="cash flow {household_id} {amount_usd}")
def cash_flow_rebalance(household_id: str, amount_usd: str, account_id: str | None = None,
                        event_id: str | None = None, occurred: str | None = None,
                        var_dir: Path = Path("var"), config: RunConfig = RunConfig()) -> dict:
    """Invest a deposit or raise a withdrawal for one household; returns its run summary."""
    start = time.perf_counter()
    log = get_run_logger()
    try:
        request = parse_request(household_id=household_id, amount_usd=amount_usd, account_id=account_id,
                                event_id=event_id, occurred=occurred)
        var_dir = Path(var_dir)
        parquet_root, db_path = var_dir / "warehouse" / "parquet", var_dir / "warehouse" / "lotwise.duckdb"
        base, day, applied, run_id = load_household(parquet_root, request, config)
        problem = build_problems(day, [request.household_id], config)[0]
        problem, a = apply_cash_flow(problem, request)
    except CashFlowRejected as exc:
        publish_artifacts("cash-flow", f"# Cash flow rejected\n\n{exc}\n\nNothing was run and nothing was traded.", {}, {})
        log.error("%s", exc)
        raise
    params = solve_params(config)
    status, reason, solutions, exceptions = "published", None, [], []
    try:
        solution, relaxed = solve_with_relaxation(problem, params)
        broken = verify(solution)
        if broken:
            status, reason = "failed_verification", "; ".join(broken)
        else:
            solutions = [solution]
            reason = "; ".join(relaxed) or None
            exceptions += [household_exception(problem.household_id, "optimize", r, "warning") for r in relaxed]
    except OptimizerError as exc:
        status, reason = "infeasible", str(exc)
    if status != "published":
        exceptions.append(household_exception(problem.household_id, "optimize" if status == "infeasible" else "verify", reason))
    custodian_of = dict(zip(day.accounts["account_id"].to_list(), day.accounts["custodian_id"].cast(pl.String).to_list()))
    outputs = run_frames(solutions, custodian_of, day.households, config)
    outputs["exceptions"] = pl.DataFrame(exceptions, schema=EXCEPTION_SCHEMA)
    outputs.update(desk_frames(outputs, day, config))
    out_root = var_dir / "runs"
    layouts = custodian_layouts(Path(base.input_dir), sorted(set(custodian_of.values()))) if base.input_dir else {}
    out_dir = export(outputs, out_root, base.as_of, run_id, layouts)
    published_s = time.perf_counter() - start

    trades, gains = outputs["trades"], outputs["realized_gains_by_household"]
    amount = trades["quantity_shares"] * trades["est_price_usd"]
    cash_after = float(solutions[0].cash_after_usd[a]) if solutions else float(problem.cash_usd[a])
    summary = CashFlowSummary(
        run_id=run_id, as_of_date=base.as_of, base_run_id=base.run_id, applied_runs=applied,
        household_id=request.household_id, account_id=str(problem.account_ids[a]), amount_usd=float(request.amount_usd),
        event_id=request.event_id, occurred=request.occurred.isoformat() if request.occurred else None,
        status=status, reason=reason, trades=trades.height,
        buy_amount_usd=float(amount.filter(trades["side"] == "buy").sum()),
        sell_amount_usd=float(amount.filter(trades["side"] == "sell").sum()),
        st_gain_usd=float(gains["st_gain_usd"].sum()), lt_gain_usd=float(gains["lt_gain_usd"].sum()),
        est_tax_usd=float(outputs["tax_report"]["est_tax_run_usd"].sum()), cash_after_usd=cash_after,
        output_dir=str(run_folder(out_root, base.as_of, run_id).resolve()), seconds_to_publish=round(published_s, 3))
    persist(outputs, summary.model_dump(mode="json"), parquet_root, db_path, base.as_of, run_id)
    publish_summary(summary.model_dump(mode="json"), out_dir, db_path)
    _artifacts(summary, outputs, out_dir, config, set(custodian_of), var_dir)
    log.info("cash flow %s: %s %s in account %s: %s, %d trades, published in %.2f s", run_id, request.kind,
             money(abs(float(request.amount_usd))), mask_account(summary.account_id), status, trades.height, published_s)
    if status != "published":
        log.warning("household %s: %s", request.household_id, mask_text(reason or "", set(custodian_of)))
    return summary.model_dump(mode="json")


def _artifacts(s: CashFlowSummary, outputs: dict[str, pl.DataFrame], out_dir: Path, config: RunConfig,
               account_ids: set[str], var_dir: Path) -> None:
    kind = "deposit invested" if float(s.amount_usd) > 0 else "withdrawal raised"
    title = f"Cash flow {s.household_id}: {money(abs(float(s.amount_usd)))} {kind}"
    tax = outputs["tax_report"]
    figures = [
        ("status", f"{s.status}{': ' + mask_text(s.reason, account_ids) if s.reason else ''}"),
        ("account", mask_account(s.account_id)),
        ("data", f"{s.as_of_date}, daily run {s.base_run_id}; trades applied first from {len(s.applied_runs)} run(s)"),
        ("trades", f"{s.trades}: buys {money(s.buy_amount_usd)}, sells {money(s.sell_amount_usd)}"),
        ("realized (taxable)", f"short-term {money(s.st_gain_usd)}, long-term {money(s.lt_gain_usd)}"),
        ("estimated tax this run adds (netted with the year)", money(s.est_tax_usd)),
        ("estimated taxes saved or deferred vs a tax-naive rebalance", money(float(tax["tax_saved_usd"].sum()))),
        ("account cash after trading", money(s.cash_after_usd)),
        ("trade file published in", f"{s.seconds_to_publish:.2f} s"),
    ]
    report_html = write_desk_report(desk_report_html(title, figures, outputs, config, account_ids), out_dir)
    links = {"report": ("desk report (HTML)", report_html), "trade-file": ("trades.csv", out_dir / "trades.csv"),
             "folder": ("run folder", out_dir)}
    summary = markdown_table(title, figures + chart_figures(outputs, config))
    publish_artifacts("cash-flow", summary,
                      {"trades": ("Trades of this cash flow", outputs["trades"].drop("household_id")),
                       "blocks": ("Block trades", outputs["block_trades"])},
                      links, account_ids, config.reports_base_url, var_dir)
