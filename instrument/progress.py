"""Progress bars for long work: shown on a terminal, silent with --quiet or when piped."""

from __future__ import annotations

import sys
from typing import Iterable, TypeVar

T = TypeVar("T")


def show_progress(quiet: bool = False) -> bool:
    """True when a progress bar should be drawn: not quiet, and stderr is a terminal."""
    return not quiet and sys.stderr.isatty()


def progress(iterable: Iterable[T], desc: str, total: int | None = None,
             quiet: bool = False, unit: str = "it") -> Iterable[T]:
    """Wrap ``iterable`` in a tqdm bar when :func:`show_progress` says so.

    Args:
        iterable: What to iterate over.
        desc: Short label shown left of the bar (e.g. "sound SAE layer 1").
        total: Number of items, when ``iterable`` has no len().
        quiet: Suppress the bar (the CLI's --quiet).
        unit: Unit name shown in the bar.
    """
    if not show_progress(quiet):
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, total=total, unit=unit, leave=False, dynamic_ncols=True)
