"""location:  −Σ α_{a,s} h_{a,s} = Σ_l α_{a(l),s(l)} u_l − Σ α_{a,s} v_{a,s} + constant.

α_{a,s} is the value of holding a dollar of s in account a (Betterment's asset location: bonds
are worth more in an IRA, broad equity in the taxable account).
"""

from __future__ import annotations

import numpy as np

from optimizer.lp import Layout
from optimizer.problem import HouseholdProblem, SolveParams


def location_term(p: HouseholdProblem, lay: Layout, params: SolveParams) -> np.ndarray:
    alpha = p.location()
    c = np.zeros(lay.n_vars)
    c[lay.u] = alpha[p.lot_account, p.lot_security]
    c[lay.v] = -alpha[lay.buy_account, lay.buy_security]
    return c
