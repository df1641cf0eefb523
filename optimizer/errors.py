"""Typed errors of the optimizer; each message says what is wrong in the household's terms."""


class OptimizerError(Exception):
    """Base class."""


class HouseholdInfeasible(OptimizerError):
    """No trade list satisfies the household's constraints; the message says which and why."""


class SolverFailure(OptimizerError):
    """The solver stopped without an optimal answer (time limit, numerical trouble)."""
