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

    @classmethod
    def for_problem(cls, p: HouseholdProblem) -> "Layout":
        # B: every account × every buyable security (bounds later close the blocked ones).
        in_model = np.flatnonzero(p.buyable)
        acc, sec = np.meshgrid(np.arange(p.n_accounts), in_model, indexing="ij")
        k = 0 if p.exposures is None else p.exposures.shape[1]
        return cls(p.n_lots, acc.ravel(), sec.ravel(), len(p.class_names), p.n_securities, k)

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
    def n_vars(self) -> int:
        return self.f_minus.stop

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
        A = sp.vstack([self.A, sp.csr_matrix(coefficients.reshape(1, -1))], format="csr")
        n = self.A.shape[0]
        return dataclasses.replace(self, A=A, row_lb=np.append(self.row_lb, lb), row_ub=np.append(self.row_ub, ub),
                                   row_names=self.row_names + [(name, n, n + 1)])


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
