"""Per-household LP build and solve time, ETF-only vs direct-index households.

`python -m benchmarks.household_lp [--households 1000]`: generates a sample firm, validates it,
builds every household's problem, then times the LP build (arrays → sparse LP) and the solve
(GLOP, including the wash-sale second pass when one is needed) for each household.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import describe_ms
from data_contracts.config import RunConfig
from data_contracts.layout import read_day
from data_contracts.sample_firm import write_sample_firm
from data_contracts.validation import validate_day
from optimizer.backends.ortools_lp import solve_lp
from optimizer.build import build_lp
from optimizer.solve import solve_household
from tasks.optimize import solve_params
from tasks.problems import build_problems

AS_OF = dt.date(2026, 11, 20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--households", type=int, default=1000)
    args = ap.parse_args()
    config = RunConfig()
    params = solve_params(config)
    with tempfile.TemporaryDirectory(prefix="lotwise-bench-lp-") as tmp:
        write_sample_firm(args.households, 7, AS_OF, Path(tmp))
        day = validate_day(read_day(Path(tmp)), AS_OF)
    ids = day.ready_households.to_list()
    start = time.perf_counter()
    problems = build_problems(day, ids, config)
    prep = (time.perf_counter() - start) / max(len(problems), 1)

    groups: dict[str, dict[str, list]] = {}
    for p in problems:
        kind = "direct-index" if p.n_securities > 50 else "ETF-only"
        g = groups.setdefault(kind, {"build": [], "solve": [], "first_lp": [], "size": [], "passes": []})
        t0 = time.perf_counter()
        lay, lp = build_lp(p, params)
        t1 = time.perf_counter()
        solve_lp(lp)
        t2 = time.perf_counter()
        sol = solve_household(p, params)
        t3 = time.perf_counter()
        g["build"].append(t1 - t0)
        g["first_lp"].append(t2 - t1)
        g["solve"].append(t3 - t2)
        g["passes"].append(sol.passes)
        g["size"].append((lay.n_vars, lp.A.shape[0], lp.A.nnz, p.n_lots, p.n_securities))

    print(f"household LP, {len(problems):,} households; problem preparation {prep * 1e3:.2f} ms per household")
    for kind, g in groups.items():
        size = np.median(np.array(g["size"]), axis=0).astype(int)
        print(f"{kind} ({len(g['build'])} households; median {size[3]} lots, {size[4]} securities, "
              f"{size[0]} vars × {size[1]} rows, {size[2]} nonzeros)")
        print(f"  LP build            {describe_ms(g['build'])}")
        print(f"  one GLOP solve      {describe_ms(g['first_lp'])}")
        print(f"  full solve_household {describe_ms(g['solve'])}  (mean {np.mean(g['passes']):.2f} LP passes)")


if __name__ == "__main__":
    main()
