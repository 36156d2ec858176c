"""What ``instrument gestures info`` says about a pointer recording, streamed in bounded memory.

A 100 MB recording (3 million samples) is read a chunk at a time
(:func:`instrument.formats.recording.iter_recording`) and summarised on the fly: samples,
rejected samples, duration, event rate, path length and the share of stillness. The figures
are those of the whole-file rules of :mod:`instrument.gesture.steps` (the same accepted
samples, the same long-pause rule, the same resampling grid and positions, computed with the
same arithmetic), so streaming changes no number; memory stays at a few MB whatever the size.
"""

from __future__ import annotations

import math

import numpy as np

from instrument.config import GestureConfig
from instrument.gesture.pauses import PauseCapper
from instrument.gesture.steps import _Geometry, _segments, polar_steps

# Resampled points handled at once (a chunk after long pauses may hold many).
_GRID_BLOCK = 65536


class PointerSummary:
    """Accumulates the info figures of a pointer trace, one chunk of samples at a time."""

    def __init__(self, width: float, height: float, cfg: GestureConfig | None = None):
        self.cfg = cfg or GestureConfig()
        self.geom = _Geometry(self.cfg, width, height)
        self.pauses = PauseCapper()
        self.samples = 0
        self.accepted = 0
        self.first_t = self.last_t = None      # the file's own times (duration)
        self.path_px = 0.0
        self.moving = 0                         # resampled steps that moved
        self.steps = 0                          # resampled steps
        self._latest_ok = -math.inf             # latest accepted (capped) time
        self._prev = None                       # (t, x, y, z) of the last accepted sample
        self._grid_t0 = None                    # first accepted (capped) time: grid origin
        self._grid_next = 0                     # index k of the next grid point t0 + k / rate
        self._grid_last = None                  # (x, y, z) of the last grid point

    def add(self, t, x, y) -> None:
        """Add the next chunk of samples (float64 arrays, in file order)."""
        n = len(t)
        if n == 0:
            return
        self.samples += n
        if self.first_t is None:
            self.first_t = float(t[0])
        self.last_t = float(t[-1])
        g = self.geom
        tc = self.pauses(t)
        ok = np.isfinite(tc) & np.isfinite(x) & np.isfinite(y)
        ok &= (np.abs(x) <= g.limit) & (np.abs(y) <= g.limit)
        # accepted = valid and later than every earlier valid sample (steps.accepted_samples)
        tv = np.where(ok, tc, -np.inf)
        before = np.maximum.accumulate(np.concatenate([[self._latest_ok], tv[:-1]]))
        keep = ok & (tc > before)
        self._latest_ok = max(self._latest_ok, float(before[-1]), float(tv[-1]))
        ta, xa, ya = tc[keep], x[keep], y[keep]
        if len(ta) == 0:
            return
        self.accepted += len(ta)
        self._path(xa, ya)
        self._grid(ta, xa, ya)

    def _path(self, xa, ya) -> None:
        if self._prev is not None:
            xa, ya = np.concatenate([[self._prev[1]], xa]), np.concatenate([[self._prev[2]], ya])
        step = np.hypot(np.diff(xa), np.diff(ya))
        self.path_px += float(step[step <= self.cfg.jump_rho * self.geom.diagonal].sum())

    def _grid(self, ta, xa, ya) -> None:
        g = self.geom
        if self._prev is None:
            self._grid_t0 = float(ta[0])
            seg = _segments(ta, xa, ya, g)
            z0 = 0.0
        else:
            pt, px, py, z0 = self._prev
            seg = _segments(np.concatenate([[pt], ta]), np.concatenate([[px], xa]),
                            np.concatenate([[py], ya]), g)[1:]
            seg[:, 4] += z0                      # jumps counted from the file's start
        self._prev = (float(ta[-1]), float(xa[-1]), float(ya[-1]), z0 + float(seg[:, 7].sum()))
        # grid points t0 + k / rate up to this chunk's last sample (steps.resample)
        t0, rate = self._grid_t0, g.rate
        k_end = math.floor((ta[-1] - t0) * rate) + 1
        for a in range(self._grid_next, k_end, _GRID_BLOCK):
            k = np.arange(a, min(a + _GRID_BLOCK, k_end))
            times = t0 + k / rate
            kept = times <= ta[-1]
            if not kept.any():
                break
            # a point past this chunk's end (float rounding) belongs to the next chunk
            times, self._grid_next = times[kept], int(k[kept][-1]) + 1
            idx = np.minimum(np.searchsorted(ta, times, side="right"), len(ta) - 1)
            rows = seg[idx]
            frac = np.clip((times - rows[:, 0]) / rows[:, 1], 0.0, 1.0)
            pos = rows[:, 2:5] + rows[:, 5:8] * frac[:, None]
            xs, ys, zs = pos[:, 0], -pos[:, 1], pos[:, 2]
            if self._grid_last is not None:
                lx, ly, lz = self._grid_last
                xs, ys, zs = (np.concatenate([[lx], xs]), np.concatenate([[ly], ys]),
                              np.concatenate([[lz], zs]))
            theta, _ = polar_steps(xs, ys, g.width, g.height, self.cfg.still_rho, zs)
            self.steps += len(theta)
            self.moving += int(np.count_nonzero(~np.isnan(theta)))
            if len(xs):
                self._grid_last = (float(xs[-1]), float(ys[-1]), float(zs[-1]))

    def result(self, path: str | None, header: dict, truncated: bool) -> dict:
        """The figures as ``gestures info --json`` prints them."""
        duration = (self.last_t - self.first_t) if self.samples > 1 else 0.0
        diagonal = self.geom.diagonal
        return {
            "file": path, "source": header.get("source"), "width": header.get("width"),
            "height": header.get("height"), "duration_s": round(duration, 4),
            "samples": self.samples, "rejected_samples": self.samples - self.accepted,
            "effective_rate_hz": round((self.samples - 1) / duration, 2) if duration > 0 else 0.0,
            "path_px": round(self.path_px, 1), "path_diagonals": round(self.path_px / diagonal, 2),
            "still_share": round(1.0 - self.moving / self.steps, 4) if self.steps else 1.0,
            "truncated": truncated, "long_pauses": self.pauses.capped,
        }


def summarize_file(path: str, cfg: GestureConfig | None = None, chunk: int | None = None) -> dict:
    """``gestures info`` of a recording file, read ``chunk`` samples at a time (bounded memory).

    Returns:
        The figures of :meth:`PointerSummary.result`, or for a stream that is not a pointer
        (version 2, read whole) those of ``gesture.stream_info.summarize_stream``.
    """
    from instrument.formats.recording import iter_recording

    summary = last = None
    for chunk in iter_recording(path, **({} if chunk is None else {"chunk": chunk})):
        last = chunk
        if not chunk.is_pointer:
            from instrument.gesture.stream_info import summarize_stream

            return summarize_stream(chunk, cfg)
        if summary is None:
            summary = PointerSummary(chunk.width, chunk.height, cfg)
        summary.add(chunk.t, chunk.x, chunk.y)
    return summary.result(last.path, last.header, last.truncated)
