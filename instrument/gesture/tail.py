"""The held-out tail of a pointer recording, computed for the tail only.

Evaluation measures the map on the last ``holdout`` share of a recording: its windows at
every control step and its control frames. Computing those for the whole recording and
keeping a fifth did five times the work and held five times the memory (at 2 hours: 720k
hop-1 windows and 960k frames, most of the "gesture windows" stage of training). The window
function depends only on each window's end and the samples before it, so computing just
the tail's ends gives exactly the same arrays (tested against the whole-recording way).
"""

from __future__ import annotations

import numpy as np

from instrument.config import GestureConfig


def pointer_tail(rec, cfg: GestureConfig, holdout: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hop-1 windows of the last ``holdout`` share, the tail's frames, their times).

    Equal to taking the last ``round(N * holdout)`` of all N hop-1 windows, and the frames
    at or after ``t0 + (t1 - t0) * (1 - holdout)`` of all frames (learn/evaluation.py).
    """
    from instrument.gesture.steps import _name, _trace, _windows, frame_times, window_end_times

    t, _, _, seg, geom = _trace(rec, cfg)
    ends = window_end_times(t, cfg, 1)
    n_test = int(round(len(ends) * holdout))
    ends = ends[len(ends) - n_test:]
    windows = np.zeros((len(ends), geom.dim), dtype=np.float32)
    if len(ends):
        _windows(t, seg, ends, np.searchsorted(t, ends, side="right") - 1, geom, windows)
    if len(t) == 0:
        return windows, np.zeros((0, geom.dim), np.float32), np.zeros(0)
    times, index = frame_times(t, cfg, _name(rec))
    if len(times) == 0:
        return windows[:0], np.zeros((0, geom.dim), np.float32), times
    cut = times[0] + (times[-1] - times[0]) * (1.0 - holdout)
    tail = times >= cut
    frames = np.zeros((int(tail.sum()), geom.dim), dtype=np.float32)
    if len(frames):
        _windows(t, seg, times[tail], index[tail], geom, frames)
    return windows, frames, times[tail]
