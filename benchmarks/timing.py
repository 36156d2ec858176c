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


def print_rows(rows, as_json: bool = False) -> None:
    """Print ``(what, value, unit)`` rows as an aligned table, or as one JSON object
    ``{what: value}`` with ``as_json`` (the benchmarks' --json)."""
    import json

    if as_json:
        print(json.dumps({name: value for name, value, _ in rows}))
        return
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  {'time':>10}")
    for name, value, unit in rows:
        print(f"{name:<{width}}  {value:>10.3f} {unit}")
