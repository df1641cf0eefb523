"""Solver backends: the only place that imports a solver API."""
