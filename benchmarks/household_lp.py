"""Per-household optimizer speed: `python -m benchmarks.household_lp [--households 1000]`.

Builds households from generated sample firms and times, per household:
- build: problem arrays → sparse LP (``build_lp``);
- total: the whole ``solve_household`` (LP build, every solve including the wash-sale pass,
  whole-share rounding) — the optimizer's time for that household;
- solver: the time inside OR-Tools only (model fill + solve), and the ratio total / solver.
Groups: ETF-model households (all; and those with 3 accounts), the default 150-stock direct-index
households, and 500-stock direct-index households with about 2,500 lots. The MIP mode (SCIP,
whole shares) is reported separately on a sample of the same households.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import describe_ms
from data_contracts.config import RunConfig
from data_contracts.layout import read_day
from data_contracts.sample_firm import FirmMix, write_sample_firm
from data_contracts.validation import validate_day
from optimizer.build import build_lp
from optimizer.problem import HouseholdProblem, SolveParams
from optimizer.solve import solve_household
from tasks.optimize import solve_params
from tasks.problems import build_problems

AS_OF = dt.date(2026, 11, 20)


def problems_of(households: int, mix: FirmMix, seed: int = 7) -> tuple[list[HouseholdProblem], float]:
    config = RunConfig()
    with tempfile.TemporaryDirectory(prefix="lotwise-bench-lp-") as tmp:
        write_sample_firm(households, seed, AS_OF, Path(tmp), mix)
        day = validate_day(read_day(Path(tmp), AS_OF), AS_OF)
    ids = day.ready_households.to_list()
    start = time.perf_counter()
    problems = build_problems(day, ids, config)
    return problems, (time.perf_counter() - start) / max(len(problems), 1)


def measure(problems: list[HouseholdProblem], params: SolveParams) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"build": [], "total": [], "solver": [], "passes": []}
    for p in problems:
        fresh = dataclasses.replace(p)  # no cached derived arrays: time what a run pays
        t0 = time.perf_counter()
        build_lp(fresh, params)
        t1 = time.perf_counter()
        fresh = dataclasses.replace(p)
        t2 = time.perf_counter()
        sol = solve_household(fresh, params)
        t3 = time.perf_counter()
        out["build"].append(t1 - t0)
        out["total"].append(t3 - t2)
        out["solver"].append(sol.solver_seconds)
        out["passes"].append(sol.passes)
    return out


def report(name: str, problems: list[HouseholdProblem], params: SolveParams) -> dict[str, list[float]]:
    if not problems:
        print(f"{name}: no households")
        return {"total": [], "solver": []}
    m = measure(problems, params)
    lots = int(np.median([p.n_lots for p in problems]))
    secs = int(np.median([p.n_securities for p in problems]))
    accounts = int(np.median([p.n_accounts for p in problems]))
    ratio = sum(m["total"]) / max(sum(m["solver"]), 1e-12)
    print(f"{name}: {len(problems)} households, median {accounts} accounts, {secs} securities, {lots} lots")
    print(f"  LP build             {describe_ms(m['build'])}")
    print(f"  build + solve        {describe_ms(m['total'])}  (mean {np.mean(m['passes']):.2f} solver passes)")
    print(f"  inside the solver    {describe_ms(m['solver'])}")
    print(f"  total / solver time  {ratio:.2f}")
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--households", type=int, default=1000)
    ap.add_argument("--large", type=int, default=20, help="500-stock direct-index households")
    ap.add_argument("--mip-sample", type=int, default=100)
    args = ap.parse_args()
    params = solve_params(RunConfig())

    firm, prep = problems_of(args.households, FirmMix())
    etf = [p for p in firm if p.n_securities <= 30]
    etf3 = [p for p in etf if p.n_accounts == 3]
    di = [p for p in firm if p.n_securities > 30]
    large, prep_large = problems_of(args.large, FirmMix(direct_index_share=1.0, direct_index_stocks=500,
                                                        stock_lots_per_position=5.0), seed=11)
    large = [p for p in large if p.n_securities > 400]
    print(f"LP mode ({params.shares} shares); problem preparation from frames {prep * 1e3:.2f} ms per household "
          f"({prep_large * 1e3:.2f} ms for 500-stock households)")
    firm_etf = report("ETF-model households", etf, params)
    report("ETF-model households with 3 accounts (target median ≤ 3 ms, issue 15)", etf3, params)
    firm_di = report("direct-index households, 150 stocks", di, params)
    report("direct-index households, 500 stocks (target median ≤ 60 ms, issue 15)", large, params)
    total = sum(firm_etf["total"]) + sum(firm_di["total"])
    solver = sum(firm_etf["solver"]) + sum(firm_di["solver"])
    print(f"the sample firm's {len(firm):,} households (default mix): optimizer {total:.2f} s, solver {solver:.2f} s, "
          f"total / solver time {total / max(solver, 1e-12):.2f} (target ≤ 1.5)")

    mip = dataclasses.replace(params, shares="mip")
    print(f"MIP mode (SCIP, whole shares, gap {mip.mip_gap:.0%} or ${mip.mip_abs_gap:g}, "
          f"time limit {mip.mip_time_limit_s:g} s)")
    report("ETF-model households", etf[: args.mip_sample], mip)
    report("direct-index households, 150 stocks", di[: max(args.mip_sample // 10, 1)], mip)
    report("direct-index households, 500 stocks", large[:5], mip)


if __name__ == "__main__":
    main()
