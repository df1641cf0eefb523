"""Small helpers shared by the benchmarks."""

from __future__ import annotations

import resource

import numpy as np


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def describe_ms(seconds: list[float]) -> str:
    a = np.asarray(seconds) * 1e3
    return f"median {np.median(a):7.2f} ms   p95 {np.percentile(a, 95):7.2f} ms   max {a.max():7.2f} ms   (n={len(a)})"
