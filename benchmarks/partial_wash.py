"""Partial wash sales on the sample firm: `python -m benchmarks.partial_wash [--households 2000]`.

Solves the sample firm's households twice — as the daily run does, and with partial wash sales
turned off (every taxable loss lot of a group bought in the last 30 days frozen whole, the rule
before) — and prints what the desk would look at: how many households hold older loss lots frozen
by a window, how many now sell them, the losses recognized and the loss disallowed into the
replacement shares' basis, the change in tax, the household × security pairs that sell a
short-term gain while a loss lot of the same security stays frozen, verification failures, the
solve time of each pass, and the partial wash sales of three households.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import optimizer.solve as solve_module
from benchmarks.household_lp import problems_of
from data_contracts.config import RunConfig
from data_contracts.sample_firm import FirmMix
from optimizer.errors import HouseholdInfeasible
from optimizer.problem import HouseholdProblem
from optimizer.relax import solve_with_relaxation
from optimizer.result import HouseholdSolution, tracking_error_after
from optimizer.verify import verify
from tasks.optimize import solve_params


def solve_all(problems: list[HouseholdProblem]) -> tuple[dict[str, HouseholdSolution], float]:
    params = solve_params(RunConfig())
    start, out = time.perf_counter(), {}
    for p in problems:
        try:
            out[p.household_id] = solve_with_relaxation(p, params)[0]
        except HouseholdInfeasible:
            pass
    return out, time.perf_counter() - start


def tax_usd(sol: HouseholdSolution) -> float:
    return float(sol.problem.lot_tax_rate @ sol.recognized_gain_usd)


def gain_beside_frozen_loss(sol: HouseholdSolution) -> int:
    """Securities of the household sold at a short-term gain while a taxable loss lot of them stays frozen."""
    p, gain = sol.problem, sol.recognized_gain_usd
    taxable = p.account_taxable[p.lot_account]
    frozen = (p.lot_basis_usd > p.lot_value_usd) & p.lot_loss_sale_window & taxable & (sol.lot_sold_usd == 0)
    short_gain = (gain > 0) & ~p.lot_long_term & taxable
    return len(set(p.lot_security[frozen].tolist()) & set(p.lot_security[short_gain].tolist()))


def show(sol: HouseholdSolution) -> None:
    p = sol.problem
    te = tracking_error_after(sol)
    print(f"  {p.household_id}  V ${p.total_value_usd:,.0f}  TE after {te:.2%}" if te is not None else f"  {p.household_id}")
    for i in np.flatnonzero((sol.lot_sold_usd > 0) & p.lot_partly_washable):
        r = p.group_replacement_shares[p.identical_group[p.lot_security[i]]]
        print(f"    sell {p.lot_ids[i]} {p.security_ids[p.lot_security[i]]:<5} acquired {p.lot_acquired[i]}  "
              f"${sol.lot_sold_usd[i]:>10,.2f}  loss ${-sol.realized_gain_usd[i]:>9,.2f}  "
              f"washed ${sol.lot_disallowed_usd[i]:>8,.2f}  (R {r:,.2f} shares bought in 30 days)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--households", type=int, default=2000)
    args = ap.parse_args()
    problems, _ = problems_of(args.households, FirmMix())
    with_partial, seconds_with = solve_all(problems)
    keep = solve_module.PARTIAL_WASH_MIN_GAIN_USD
    solve_module.PARTIAL_WASH_MIN_GAIN_USD = float("inf")  # no group is ever worth freeing: the rule before
    try:
        without, seconds_without = solve_all(problems)
    finally:
        solve_module.PARTIAL_WASH_MIN_GAIN_USD = keep
    frozen = sum(bool(p.lot_partly_washable.any()) for p in problems)
    made = [h for h, s in with_partial.items() if (s.lot_disallowed_usd > 0).any()
            or ((s.lot_sold_usd > 0) & s.problem.lot_partly_washable).any()]
    recognized = sum(float(-s.recognized_gain_usd[(s.lot_sold_usd > 0) & s.problem.lot_partly_washable].sum())
                     for s in (with_partial[h] for h in made))
    washed = sum(float(with_partial[h].lot_disallowed_usd.sum()) for h in made)
    change = [tax_usd(with_partial[h]) - tax_usd(without[h]) for h in made if h in without]
    failures = [h for h, s in with_partial.items() if verify(s)]
    print(f"{len(problems):,} households; solve {seconds_with:.1f} s with partial wash sales, "
          f"{seconds_without:.1f} s without")
    print(f"households holding older loss lots frozen by a wash-sale window: {frozen:,}; "
          f"now selling some as partial wash sales: {len(made):,}")
    print(f"losses recognized by those sales ${recognized:,.0f}; disallowed into replacement basis ${washed:,.0f}")
    if change:
        print(f"tax of those households against the rule before: ${sum(change):,.0f} in all, "
              f"median ${float(np.median(change)):,.0f}")
    print("pairs selling a short-term gain beside a frozen loss lot of the same security: "
          f"{sum(map(gain_beside_frozen_loss, with_partial.values())):,} (before: "
          f"{sum(map(gain_beside_frozen_loss, without.values())):,})")
    print(f"verification failures: {len(failures)}")
    for h in made[:3]:
        show(with_partial[h])


if __name__ == "__main__":
    main()
