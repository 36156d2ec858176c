"""The live side of the gesture path: pointer samples one at a time -> windows and frames.

The rules (resampling, rest, jump, steps, control frames) are those of
:mod:`instrument.gesture.steps`, computed by the same private functions, so live frames equal
the offline :func:`~instrument.gesture.steps.frames_from_recording` bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from instrument.config import GestureConfig
from instrument.errors import BadInput
from instrument.gesture.steps import (  # noqa: F401
    _SEG_COLS,
    _Geometry,
    _Scratch,
    _segment_row,
    _window_batch,
    accepted_samples,
)


class GestureTracker:
    """Live pointer trace -> windows, one push at a time (the performance hot path).

    Samples go into a bounded ring buffer (``capacity`` samples; windows only look back
    ``window_steps / rate_hz`` seconds) and windows are computed into preallocated buffers.
    Frames it gives equal :func:`frames_from_recording` bit for bit, as long as the
    ``capacity`` most recent samples cover one window length plus one sample.

    Args:
        cfg: The gesture config.
        width, height: Window size in pixels (ρ is normalised by its diagonal).
        capacity: Ring buffer size in samples.

    Attributes:
        rejected: Number of rejected samples (NaN/inf, absurd coordinates, time not later
            than the previous sample).
        accepted: Number of accepted samples.
    """

    def __init__(self, cfg: GestureConfig, width: float, height: float, capacity: int = 4096):
        if not isinstance(capacity, int) or capacity < 2:
            raise BadInput(f"capacity = {capacity!r} must be an integer >= 2")
        self.cfg = cfg
        self._geom = _Geometry(cfg, width, height)
        self._cap = capacity
        # Each sample is stored twice (i and i + capacity): the last `capacity` samples are
        # then always one contiguous slice, with no copying.
        self._t = np.zeros(2 * capacity)
        self._seg = np.zeros((2 * capacity, _SEG_COLS))
        self._scratch = _Scratch(1, cfg.window_steps)
        self._out = np.zeros((1, self._geom.dim), dtype=np.float32)
        self._ends = np.zeros(1)
        self._last_i = np.zeros(1, dtype=np.intp)
        self.reset()

    @property
    def width(self) -> float:
        return self._geom.width

    @property
    def height(self) -> float:
        return self._geom.height

    @property
    def dim(self) -> int:
        """Length of one window (see :func:`window_dim`)."""
        return self._geom.dim

    @property
    def last_time(self) -> float | None:
        """Time of the last accepted sample, or None before the first."""
        return self._prev[0] if self._prev is not None else None

    def reset(self) -> None:
        """Forget the trace (counters too): the next sample starts a fresh trace."""
        self._n = 0
        self._prev = None          # (t, x, y, z) of the last accepted sample
        self._still_k = 0          # still frames already taken since the last sample
        self.rejected = 0
        self.accepted = 0

    def push(self, t: float, x: float, y: float) -> bool:
        """Add a pointer sample; False (and ``rejected += 1``) if it is rejected."""
        try:
            t, x, y = float(t), float(x), float(y)
        except (TypeError, ValueError):
            self.rejected += 1
            return False
        g = self._geom
        if (not (math.isfinite(t) and math.isfinite(x) and math.isfinite(y))
                or abs(x) > g.limit or abs(y) > g.limit
                or (self._prev is not None and t <= self._prev[0])):
            self.rejected += 1
            return False
        slot = self._n % self._cap
        row = self._seg[slot]
        _segment_row(row, t, x, y, self._prev, g)
        self._seg[slot + self._cap] = row
        self._t[slot] = self._t[slot + self._cap] = t
        z = row[4] + row[7]
        self._prev = (t, x, y, z)
        self._n += 1
        self._still_k = 0
        self.accepted += 1
        return True

    def window_at(self, t: float) -> np.ndarray:
        """Features of the window ending at ``t`` from the trace pushed so far.

        ``t`` should not be earlier than the last pushed sample. The returned float32 array
        is a view of a buffer that the next call overwrites: copy it to keep it. Taking a
        frame at or after :meth:`next_still_time` advances it.
        """
        out = self._out
        if self._prev is None:
            out.fill(0.0)
            return out[0]
        t = float(t)
        t_last = self._prev[0]
        if t > t_last:
            # Still frames up to t are now taken; the next is due strictly after t.
            rate = self._geom.rate
            k = max(int((t - t_last) * rate) - 1, 0)
            while t_last + (k + 1) / rate <= t:
                k += 1
            self._still_k = max(self._still_k, k)
        m = min(self._n, self._cap)
        start = (self._n - m) % self._cap
        self._ends[0] = t
        self._last_i[0] = m - 1
        _window_batch(self._t[start:start + m], self._seg[start:start + m], self._ends,
                      self._last_i, self._geom, self._scratch, out)
        return out[0]

    def next_still_time(self) -> float | None:
        """When the next still frame is due (last sample t + k / rate_hz), None before any."""
        if self._prev is None:
            return None
        return self._prev[0] + (self._still_k + 1) / self._geom.rate
