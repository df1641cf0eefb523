"""A solver-neutral linear program in arrays, and the variable layout of the household LP.

Constraint generators return ``RowBlock``s (COO triplets with local row numbers); objective
terms return coefficient vectors; ``assemble`` stacks them into one CSR matrix. Nothing here
knows which solver runs it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from optimizer.problem import HouseholdProblem


@dataclass(frozen=True)
class Layout:
    """Where each variable block of the formulation sits in the variable vector."""

    n_lots: int
    buy_account: np.ndarray  # int[B]
    buy_security: np.ndarray  # int[B]
    n_classes: int
    n_securities: int
    n_exposures: int = 0
    # Risk (optimizer/constraints/risk.py): K factors, R columns of the factor root, m segments per
    # piecewise-linear square, and one slack on the tracking-error cap's cuts (0 without a cap)
    n_factors: int = 0
    n_factor_roots: int = 0
    n_segments: int = 0
    n_cap_slacks: int = 0
    n_budget_slacks: int = 0  # one per budget row when the budgets are soft (relaxation), else none

    @classmethod
    def for_problem(cls, p: HouseholdProblem) -> "Layout":
        # B: every account × every buyable security (bounds later close the blocked ones).
        in_model = np.flatnonzero(p.buyable)
        acc, sec = np.meshgrid(np.arange(p.n_accounts), in_model, indexing="ij")
        budgets = sum(b is not None for b in (p.gain_budget_usd, p.tax_budget_usd, p.turnover_budget_usd))
        slacks = budgets if p.budgets_soft else 0
        if p.has_risk_model:  # the factor model replaces the characteristics' exposure penalty
            from optimizer.constraints.risk import N_SEGMENTS

            k, r = p.risk_lp_factors[1].shape
            return cls(p.n_lots, acc.ravel(), sec.ravel(), len(p.class_names), p.n_securities, 0,
                       k, r, N_SEGMENTS, int(p.max_tracking_error is not None), slacks)
        k = 0 if p.exposures is None else p.exposures.shape[1]
        return cls(p.n_lots, acc.ravel(), sec.ravel(), len(p.class_names), p.n_securities, k, n_budget_slacks=slacks)

    @cached_property
    def n_buys(self) -> int:
        return len(self.buy_account)

    @cached_property
    def u(self) -> slice:
        return slice(0, self.n_lots)

    @cached_property
    def v(self) -> slice:
        return slice(self.u.stop, self.u.stop + self.n_buys)

    @cached_property
    def d_plus(self) -> slice:
        return slice(self.v.stop, self.v.stop + self.n_classes)

    @cached_property
    def d_minus(self) -> slice:
        return slice(self.d_plus.stop, self.d_plus.stop + self.n_classes)

    @cached_property
    def e_plus(self) -> slice:
        return slice(self.d_minus.stop, self.d_minus.stop + self.n_securities)

    @cached_property
    def e_minus(self) -> slice:
        return slice(self.e_plus.stop, self.e_plus.stop + self.n_securities)

    @cached_property
    def f_plus(self) -> slice:
        return slice(self.e_minus.stop, self.e_minus.stop + self.n_exposures)

    @cached_property
    def f_minus(self) -> slice:
        return slice(self.f_plus.stop, self.f_plus.stop + self.n_exposures)

    @cached_property
    def y(self) -> slice:
        """Factor exposures of the active dollars, y = Bᵀ d (free)."""
        return slice(self.f_minus.stop, self.f_minus.stop + self.n_factors)

    @cached_property
    def z_plus(self) -> slice:
        """Segments of the positive part of z = Lᵀ y, root-major: index j·m + i."""
        return slice(self.y.stop, self.y.stop + self.n_factor_roots * self.n_segments)

    @cached_property
    def z_minus(self) -> slice:
        return slice(self.z_plus.stop, self.z_plus.stop + self.n_factor_roots * self.n_segments)

    @cached_property
    def s_plus(self) -> slice:
        """Segments of the positive part of each security's active dollars d_s, security-major: s·m + i
        (empty without a risk model)."""
        n = self.n_securities * self.n_segments
        return slice(self.z_minus.stop, self.z_minus.stop + n)

    @cached_property
    def s_minus(self) -> slice:
        return slice(self.s_plus.stop, self.s_plus.stop + self.n_securities * self.n_segments)

    @cached_property
    def cap_slack(self) -> slice:
        """t ≥ 0: how far the tracking-error cuts are exceeded (dollars of √variance), priced high."""
        return slice(self.s_minus.stop, self.s_minus.stop + self.n_cap_slacks)

    @cached_property
    def budget_slack(self) -> slice:
        """How far each budget row (gain, tax, turnover, those present) is exceeded: soft budgets only."""
        return slice(self.cap_slack.stop, self.cap_slack.stop + self.n_budget_slacks)

    @cached_property
    def n_vars(self) -> int:
        return self.budget_slack.stop

    def index(self, block: slice) -> np.ndarray:
        return np.arange(block.start, block.stop)


@dataclass(frozen=True)
class RowBlock:
    """Rows of one constraint family: lb ≤ A x ≤ ub, A given as triplets with local row numbers."""

    name: str
    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    lb: np.ndarray
    ub: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.lb)


@dataclass
class LinearProgram:
    """minimize c·x  subject to  row_lb ≤ A x ≤ row_ub,  lb ≤ x ≤ ub."""

    c: np.ndarray
    A: sp.csr_matrix
    row_lb: np.ndarray
    row_ub: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    row_names: list[tuple[str, int, int]]  # (family, first row, last row + 1)
    integer: np.ndarray | None = None  # bool mask of integer variables (None: a pure LP)

    def with_bounds(self, lb: np.ndarray | None = None, ub: np.ndarray | None = None) -> "LinearProgram":
        return dataclasses.replace(self, lb=self.lb if lb is None else lb, ub=self.ub if ub is None else ub)

    def scaled(self, scale: np.ndarray, integer: np.ndarray) -> "LinearProgram":
        """The same program in variables y = x / scale (e.g. dollars → shares), with integer marks."""
        A = (self.A @ sp.diags(scale)).tocsr()
        return dataclasses.replace(self, c=self.c * scale, A=A, lb=self.lb / scale, ub=self.ub / scale, integer=integer)

    def with_row(self, coefficients: np.ndarray, lb: float, ub: float, name: str) -> "LinearProgram":
        """A copy with one more dense row (used for the drift-first second pass)."""
        return self.with_rows(coefficients.reshape(1, -1), np.array([lb]), np.array([ub]), name)

    def with_rows(self, coefficients: np.ndarray, lb: np.ndarray, ub: np.ndarray, name: str) -> "LinearProgram":
        """A copy with more dense rows (the tracking-error cap's cuts), stacked in one step."""
        if not len(lb):
            return self
        A = sp.vstack([self.A, sp.csr_matrix(coefficients)], format="csr")
        n = self.A.shape[0]
        return dataclasses.replace(self, A=A, row_lb=np.append(self.row_lb, lb), row_ub=np.append(self.row_ub, ub),
                                   row_names=self.row_names + [(name, n, n + len(lb))])


def assemble(n_vars: int, c: np.ndarray, lb: np.ndarray, ub: np.ndarray, blocks: list[RowBlock]) -> LinearProgram:
    blocks = [b for b in blocks if b.n_rows]
    offsets = np.cumsum([0] + [b.n_rows for b in blocks])
    rows = np.concatenate([b.rows + off for b, off in zip(blocks, offsets)])
    cols = np.concatenate([b.cols for b in blocks])
    vals = np.concatenate([b.vals for b in blocks])
    # CSR straight from the triplets (each (row, column) pair occurs once): order by row, then column.
    n_rows = int(offsets[-1])
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    A = sp.csr_matrix((vals[order].astype(float), cols[order], indptr), shape=(n_rows, n_vars))
    names = [(b.name, int(off), int(off + b.n_rows)) for b, off in zip(blocks, offsets)]
    return LinearProgram(
        c, A, np.concatenate([b.lb for b in blocks]), np.concatenate([b.ub for b in blocks]), lb, ub, names
    )
