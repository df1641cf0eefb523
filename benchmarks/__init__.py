"""Benchmarks: one command each (python -m benchmarks.NAME), all behind `make bench`. They print figures; they assert nothing."""
