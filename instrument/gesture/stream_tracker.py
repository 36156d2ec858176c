"""The live side of a stream of any width: samples one at a time -> windows and frames.

The rules are those of :mod:`instrument.gesture.stream`, computed by the same private
functions, so live frames equal :func:`~instrument.gesture.stream.stream_frames` bit for
bit. It has the interface of :class:`instrument.gesture.tracker.GestureTracker`, except that
a sample is ``push(t, values)`` with one value per channel.
"""

from __future__ import annotations

import math

import numpy as np

from instrument.config import GestureConfig
from instrument.errors import BadInput
from instrument.gesture.stream import (
    ABSURD_VALUE,
    StreamSpec,
    _StreamGeometry,
    _StreamScratch,
    segment_row,
    window_batch,
)


class StreamTracker:
    """Live stream -> windows, one push at a time (the performance hot path).

    Args:
        cfg: The gesture config of the model.
        spec: The model's stream channels and normalisation.
        capacity: Ring buffer size in samples (windows look back window_steps / rate_hz s).

    Attributes:
        rejected: Samples rejected (wrong width, NaN/inf, beyond ±ABSURD_VALUE, time not
            later than the previous sample).
        accepted: Samples accepted.
    """

    def __init__(self, cfg: GestureConfig, spec: StreamSpec, capacity: int = 4096):
        if not isinstance(capacity, int) or capacity < 2:
            raise BadInput(f"capacity = {capacity!r} must be an integer >= 2")
        self.cfg, self.spec = cfg, spec
        self._geom = _StreamGeometry(cfg, spec)
        self._cap = capacity
        # Each sample is stored twice (i and i + capacity): the last `capacity` samples are
        # always one contiguous slice, with no copying.
        self._t = np.zeros(2 * capacity)
        self._seg = np.zeros((2 * capacity, 2 + 2 * spec.width))
        self._values = np.zeros(spec.width)
        self._abs = np.zeros(spec.width)
        self._prev_values = np.zeros(spec.width)
        self._scratch = _StreamScratch(1, self._geom)
        self._out = np.zeros((1, self._geom.dim), dtype=np.float32)
        self._ends = np.zeros(1)
        self._last_i = np.zeros(1, dtype=np.intp)
        self.reset()

    @property
    def width(self) -> int:
        """Channels per sample."""
        return self.spec.width

    @property
    def dim(self) -> int:
        """Length of one window."""
        return self._geom.dim

    @property
    def last_time(self) -> float | None:
        """Time of the last accepted sample, or None before the first."""
        return self._prev_t

    def reset(self) -> None:
        """Forget the trace (counters too)."""
        self._n = 0
        self._prev_t: float | None = None
        self._still_k = 0
        self.rejected = 0
        self.accepted = 0

    def push(self, t: float, values) -> bool:
        """Add one sample (one value per channel); False (and ``rejected += 1``) if bad."""
        try:
            t = float(t)
            if len(values) != self.spec.width:
                self.rejected += 1
                return False
            self._values[:] = values
        except (TypeError, ValueError):
            self.rejected += 1
            return False
        v = self._values
        # finite and inside ±ABSURD_VALUE in one test: a NaN anywhere makes the max NaN, which
        # fails the comparison
        if (not math.isfinite(t) or not np.abs(v, out=self._abs).max() <= ABSURD_VALUE
                or (self._prev_t is not None and t <= self._prev_t)):
            self.rejected += 1
            return False
        slot = self._n % self._cap
        row = self._seg[slot]
        segment_row(row, t, v, None if self._prev_t is None else (self._prev_t,
                                                                  self._prev_values), self._geom)
        self._seg[slot + self._cap] = row
        self._t[slot] = self._t[slot + self._cap] = t
        self._prev_values[:] = v
        self._prev_t = t
        self._n += 1
        self._still_k = 0
        self.accepted += 1
        return True

    def window_at(self, t: float) -> np.ndarray:
        """Features of the window ending at ``t`` (a view of a buffer the next call reuses)."""
        out = self._out
        if self._prev_t is None:
            out.fill(0.0)
            return out[0]
        t = float(t)
        t_last = self._prev_t
        if t > t_last:
            rate = self._geom.rate
            k = max(int((t - t_last) * rate) - 1, 0)
            while t_last + (k + 1) / rate <= t:
                k += 1
            self._still_k = max(self._still_k, k)
        m = min(self._n, self._cap)
        start = (self._n - m) % self._cap
        self._ends[0] = t
        self._last_i[0] = m - 1
        window_batch(self._t[start:start + m], self._seg[start:start + m], self._ends,
                     self._last_i, self._geom, self._scratch, out)
        return out[0]

    def next_still_time(self) -> float | None:
        """When the next still frame is due, None before any sample."""
        if self._prev_t is None:
            return None
        return self._prev_t + (self._still_k + 1) / self._geom.rate
