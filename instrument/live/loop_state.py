"""The live loop's small state: the latency rings and the snapshot the screen reads
(:mod:`instrument.live.loop`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LATENCY_RING = 1 << 16                      # frames kept for percentiles (about 10 min @100 Hz)


class LatencyRing:
    """The last ``size`` latencies in seconds, preallocated; percentiles on demand."""

    def __init__(self, size: int = LATENCY_RING):
        self._values = np.zeros(size, dtype=np.float64)
        self.count = 0
        self.max = 0.0
        self.recent = 0.0                   # moving average for the on-screen meter

    def add(self, seconds: float) -> None:
        """Record one latency (no allocation)."""
        self._values[self.count % len(self._values)] = seconds
        self.count += 1
        if seconds > self.max:
            self.max = seconds
        self.recent = seconds if self.count == 1 else 0.9 * self.recent + 0.1 * seconds

    def values(self) -> np.ndarray:
        """A copy of the recorded latencies (oldest may be overwritten)."""
        return self._values[:min(self.count, len(self._values))].copy()

    def percentiles(self, qs=(50, 95, 99)) -> dict[str, float]:
        """{"p50": s, ..., "max": s, "n": count}; NaN when nothing was recorded."""
        values = self.values()
        out = {f"p{q:g}": (float(np.percentile(values, q)) if len(values) else math.nan)
               for q in qs}
        out["max"] = self.max if self.count else math.nan
        out["n"] = self.count
        return out


@dataclass
class Snapshot:
    """What the screen shows; written by the control loop, read by the view (no lock needed:
    a torn read shows one frame's mix of two frames, never anything wrong for long)."""

    sound: int = -1
    frames: int = 0
    muted: bool = False
    held: bool = False
