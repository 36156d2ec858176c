"""Timing helper shared by the benchmark scripts (run as `python benchmarks/NAME.py`)."""

from __future__ import annotations

import time


def best_of(repeats: int, fn) -> float:
    """Smallest wall time in seconds of ``repeats`` calls of ``fn``: on a shared machine the
    fastest run is the one least disturbed by other jobs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
