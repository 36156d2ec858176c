"""Pointer samples -> fixed-rate relative polar steps -> windows: the gesture network's input.

Pure numpy. This module is the ONE place for the rules below; the live performance
(:class:`instrument.gesture.tracker.GestureTracker`) and the offline render / training
(:func:`frames_from_recording`, :func:`windows_from_recording`) run the very same code, so
a file gives bit-identical control frames whether it is replayed live or rendered offline.

**Pointer trace.** Samples ``(t, x, y)`` in seconds and pixels (origin top-left). A sample
is rejected (and counted) if a value is NaN/inf, ``|x|`` or ``|y|`` exceeds 100 times the
larger window side, or ``t`` is not later than the last accepted sample.

**Long pauses.** A pause longer than 10 s (from the previous sample, or from time 0)
counts as 10 s of stillness (:mod:`instrument.gesture.pauses`), offline and in replay.

**Position at any time τ** (the trace is resampled at ``rate_hz`` from this function):

- between two samples a, b: linear interpolation from a to b;
- *rest*: mice send no events while still, so if ``t_b - t_a > rest_after_s`` the pointer
  rests at a until ``t_b - rest_after_s`` and only then moves to b;
- *jump*: if a and b are more than ``jump_rho`` window diagonals apart (the pointer left
  and re-entered the window, a pen was lifted and put down elsewhere) the pointer stays at
  a until ``t_b`` and then jumps; the step containing the jump counts as stillness, never
  as a fast stroke;
- before the first sample: the first sample; after the last sample known so far: the last
  sample (nothing later is known yet, live or offline).

**Steps.** A window ending at time T has positions at ``T - k / rate_hz``,
``k = window_steps .. 0``, and the ``window_steps`` steps between them, oldest first. Each
step (dx, dy) in pixels gives ``ρ = |(dx, dy)| / diagonal`` (so a stroke gives the same
steps on any screen size) and ``θ = atan2(-dy, dx)`` (y up: 0 = right, π/2 = up, in
(-π, π]). A step with ``ρ < still_rho`` is *stillness*: θ is undefined and every feature
of the step is 0. ``features="sincos_rho"`` gives (sin θ, cos θ, ρ) per step, which has no
wrap-around at ±π; ``"theta_rho"`` gives the raw (θ, ρ) of the paper.

**Control frames.** One frame per accepted pointer sample (its window ends at that
sample), and while the pointer is still (gap to the next sample longer than
``1 / rate_hz``) extra frames at ``t_prev + k / rate_hz``, k = 1, 2, ..., strictly before
the next sample. Nothing before the first or after the last sample.

Feature arithmetic is +, -, *, /, sqrt only (correctly rounded in IEEE 754), which is what
makes the live and offline paths bit-identical.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from instrument.config import GestureConfig
from instrument.errors import BadInput
from instrument.gesture.pauses import cap_pauses, check_frame_count
from instrument.gesture.pauses import source_name as _name

# A jump happens within this many seconds before the sample that lands after it.
_JUMP_S = 1e-9
# Rejected coordinates: beyond this many window sizes from the origin.
ABSURD_FACTOR = 100.0
# Columns of the per-sample segment table: move start, move length, previous position
# (x, up, z) and displacement (dx, dup, dz). "up" is -y, so steps come out with y up and
# need no negation; z counts jumps, so dz > 0 marks a step across a jump.
_MS, _ML, _P, _D = 0, 1, slice(2, 5), slice(5, 8)
_SEG_COLS = 8


def window_dim(cfg: GestureConfig) -> int:
    """Length of one window's feature vector: window_steps * (3 or 2)."""
    return cfg.window_steps * _per_step(cfg)


def _per_step(cfg: GestureConfig) -> int:
    return 3 if cfg.features == "sincos_rho" else 2


class _Geometry:
    """Everything derived once from (cfg, width, height), shared by live and offline."""

    def __init__(self, cfg: GestureConfig, width: float, height: float):
        for name, value in (("width", width), ("height", height)):
            if (isinstance(value, bool) or not isinstance(value, (int, float, np.number))
                    or not math.isfinite(value) or value <= 0):
                raise BadInput(f"window {name} = {value!r} must be a positive number of pixels")
        self.cfg = cfg
        self.width, self.height = float(width), float(height)
        self.diagonal = math.hypot(self.width, self.height)
        self.still_px = cfg.still_rho * self.diagonal
        self.jump_px2 = (cfg.jump_rho * self.diagonal) ** 2
        self.limit = ABSURD_FACTOR * max(self.width, self.height)
        self.rate = float(cfg.rate_hz)
        self.rest = float(cfg.rest_after_s)
        self.steps = cfg.window_steps
        self.per_step = _per_step(cfg)
        self.dim = window_dim(cfg)
        # tau_k = T - offsets[k]; the same array for every window, live and offline.
        self.offsets = np.arange(cfg.window_steps, -1, -1, dtype=np.float64) / self.rate


class _Scratch:
    """Work buffers (and views into them) for computing ``m`` windows at once.

    The live tracker keeps one for m = 1 and reuses it for every frame.
    """

    def __init__(self, m: int, steps: int):
        self.m = m
        self.tq = np.empty((m, steps + 1))
        self.frac = np.empty((m, steps + 1))
        self.rows = np.empty((m, steps + 1, _SEG_COLS))
        self.pos = np.empty((m, steps + 1, 3))
        self.d = np.empty((m, steps, 3))
        self.dsq = np.empty((m, steps, 3))
        self.r = np.empty((m, steps))
        self.tmp = np.empty((m, steps))
        self.still = np.empty((m, steps), dtype=bool)
        self.jump = np.empty((m, steps), dtype=bool)
        # Views made once: slicing costs as much as the arithmetic on 33 numbers.
        self.ms, self.ml = self.rows[..., _MS], self.rows[..., _ML]
        self.p, self.dp = self.rows[..., _P], self.rows[..., _D]
        self.frac3 = self.frac[..., None]
        self.pos_new, self.pos_old = self.pos[:, 1:], self.pos[:, :-1]
        self.dx, self.dup, self.dz = self.d[..., 0], self.d[..., 1], self.d[..., 2]
        self.dx2, self.dup2 = self.dsq[..., 0], self.dsq[..., 1]
        self.still3 = self.still[..., None]


def _segment_row(row: np.ndarray, t: float, x: float, y: float, prev, geom: _Geometry) -> None:
    """Fill the segment row of a sample arriving after ``prev`` = (t, x, y, z) or None."""
    if prev is None:
        row[:] = (t - 1.0, 1.0, x, -y, 0.0, 0.0, 0.0, 0.0)
        return
    tp, xp, yp, zp = prev
    dx, dy = x - xp, y - yp
    if dx * dx + dy * dy > geom.jump_px2:
        start, dz = t - _JUMP_S, 1.0
    else:
        start, dz = max(tp, t - geom.rest), 0.0
    row[:] = (start, t - start, xp, -yp, zp, dx, yp - y, dz)


def _segments(t: np.ndarray, x: np.ndarray, y: np.ndarray, geom: _Geometry) -> np.ndarray:
    """The segment table of a whole (accepted) trace; equals pushing it row by row."""
    n = len(t)
    seg = np.empty((n, _SEG_COLS))
    if n == 0:
        return seg
    seg[0] = (t[0] - 1.0, 1.0, x[0], -y[0], 0.0, 0.0, 0.0, 0.0)
    dx, dy = x[1:] - x[:-1], y[1:] - y[:-1]
    jump = dx * dx + dy * dy > geom.jump_px2
    start = np.where(jump, t[1:] - _JUMP_S, np.maximum(t[:-1], t[1:] - geom.rest))
    z = np.concatenate([[0.0], np.cumsum(jump.astype(np.float64))])
    seg[1:, _MS] = start
    seg[1:, _ML] = t[1:] - start
    seg[1:, 2], seg[1:, 3], seg[1:, 4] = x[:-1], -y[:-1], z[:-1]
    seg[1:, 5], seg[1:, 6], seg[1:, 7] = dx, y[:-1] - y[1:], jump
    return seg


def _positions(t, seg, last_i, s: _Scratch) -> np.ndarray:
    """Positions (x, up = -y, z) at the query times already in ``s.tq`` -> ``s.pos``.

    ``last_i`` [m]: index of the last sample known at each window end. Later times hold
    that sample's position: their segment index is capped at it and frac at 1.
    """
    idx = np.searchsorted(t, s.tq, side="right")
    np.minimum(idx, last_i[:, None], out=idx)
    np.take(seg, idx, axis=0, out=s.rows)
    np.subtract(s.tq, s.ms, out=s.frac)
    np.divide(s.frac, s.ml, out=s.frac)
    np.maximum(s.frac, 0.0, out=s.frac)
    np.minimum(s.frac, 1.0, out=s.frac)
    np.multiply(s.dp, s.frac3, out=s.pos)
    np.add(s.pos, s.p, out=s.pos)
    return s.pos


def _step_features(s: _Scratch, geom: _Geometry, out3: np.ndarray) -> None:
    """Steps between consecutive positions in ``s.pos`` -> features ``out3`` [m, steps, k]."""
    np.subtract(s.pos_new, s.pos_old, out=s.d)
    np.multiply(s.d, s.d, out=s.dsq)
    np.add(s.dx2, s.dup2, out=s.r)
    np.sqrt(s.r, out=s.r)
    np.less(s.r, geom.still_px, out=s.still)
    np.greater(s.dz, 0.0, out=s.jump)
    np.logical_or(s.still, s.jump, out=s.still)
    if geom.per_step == 3:
        np.divide(s.r, geom.diagonal, out=out3[..., 2])
        np.copyto(s.r, 1.0, where=s.still)          # no 0/0 on still steps
        np.divide(s.dup, s.r, out=out3[..., 0])     # sin θ
        np.divide(s.dx, s.r, out=out3[..., 1])      # cos θ
    else:
        np.divide(s.r, geom.diagonal, out=out3[..., 1])
        # dup of an unchanged y is +0.0 (a - a), so leftwards is θ = +π, not -π.
        np.arctan2(s.dup, s.dx, out=s.tmp)
        np.copyto(out3[..., 0], s.tmp, casting="same_kind")
    np.copyto(out3, 0.0, where=s.still3)


def _window_batch(t, seg, ends, last_i, geom: _Geometry, s: _Scratch,
                  out: np.ndarray) -> None:
    """``s.m`` windows ending at ``ends`` -> ``out`` [m, dim]: the one window function."""
    np.subtract(ends[:, None], geom.offsets, out=s.tq)
    _positions(t, seg, last_i, s)
    _step_features(s, geom, out.reshape(s.m, geom.steps, geom.per_step))


def _windows(t, seg, ends, last_i, geom: _Geometry, out: np.ndarray, chunk: int = 2048) -> None:
    """Windows ending at ``ends`` (knowing samples up to ``last_i``) -> ``out``, in chunks."""
    for a in range(0, len(ends), chunk):
        b = min(a + chunk, len(ends))
        _window_batch(t, seg, ends[a:b], last_i[a:b], geom, _Scratch(b - a, geom.steps),
                      out[a:b])


# --- accepted samples and control frames ----------------------------------------------

def accepted_samples(t, x, y, width: float, height: float) -> np.ndarray:
    """Boolean mask of the samples a :class:`GestureTracker` accepts, pushed in order."""
    t, x, y = (np.asarray(v, dtype=np.float64) for v in (t, x, y))
    limit = ABSURD_FACTOR * max(float(width), float(height))
    ok = np.isfinite(t) & np.isfinite(x) & np.isfinite(y)
    ok &= (np.abs(x) <= limit) & (np.abs(y) <= limit)
    # Accepted times increase strictly, so "later than the last accepted" equals "later
    # than every earlier valid sample".
    tv = np.where(ok, t, -np.inf)
    before = np.maximum.accumulate(np.concatenate([[-np.inf], tv[:-1]])) if len(t) else tv
    return ok & (t > before)


def frame_times(sample_times, cfg: GestureConfig,
                what: str = "the recording") -> tuple[np.ndarray, np.ndarray]:
    """Times of every control frame for strictly increasing (accepted) sample times.

    Args:
        sample_times: float64[N] accepted pointer sample times, strictly increasing.
        cfg: The gesture config (its ``rate_hz`` sets the still-frame period).
        what: How a refusal names the samples' source (e.g. the file).

    Returns:
        (times float64[M], sample_index int64[M]): frame times, and for each frame the index
        of the last sample known at that time (the frame's own sample, or the one before a
        still frame).

    Raises:
        BadInput: More than ``pauses.MAX_FRAMES`` frames (checked before allocating them).
    """
    ts = np.asarray(sample_times, dtype=np.float64)
    if ts.ndim != 1 or not np.all(np.isfinite(ts)) or np.any(np.diff(ts) <= 0):
        raise BadInput("frame_times needs finite, strictly increasing sample times",
                       "filter the samples with accepted_samples() first")
    rate = float(cfg.rate_hz)
    n = len(ts)
    if n == 0:
        return np.empty(0), np.empty(0, dtype=np.int64)
    extra = np.zeros(n, dtype=np.int64)
    if n > 1:
        gap = ts[1:] - ts[:-1]
        # clipped first: a gap of 1e12 s must not overflow int64 before it is refused
        k = np.maximum(np.ceil(np.minimum(gap * rate, 1e15)).astype(np.int64) - 1, 0)
        # Fix the float estimate with the exact rule: t_prev + k / rate < t_next.
        for _ in range(3):
            k = np.where((k > 0) & (ts[:-1] + k / rate >= ts[1:]), k - 1, k)
            k = np.where(ts[:-1] + (k + 1) / rate < ts[1:], k + 1, k)
        extra[:-1] = k
    counts = extra + 1
    check_frame_count(float(counts.sum(dtype=np.float64)), what)
    index = np.repeat(np.arange(n, dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    k_all = np.arange(len(index), dtype=np.int64) - np.repeat(first, counts)
    times = ts[index] + k_all / rate
    times[k_all == 0] = ts          # exact sample times, no "+ 0 / rate" rounding doubt
    return times, index


# --- offline: whole recordings --------------------------------------------------------

def _trace(rec, cfg: GestureConfig):
    """Accepted (t, x, y) with long pauses capped, the segment table and the geometry."""
    geom = _Geometry(cfg, rec.width, rec.height)
    t, x, y = (np.asarray(v, dtype=np.float64) for v in (rec.t, rec.x, rec.y))
    t, _ = cap_pauses(t)
    keep = accepted_samples(t, x, y, geom.width, geom.height)
    t, x, y = t[keep], x[keep], y[keep]
    return t, x, y, _segments(t, x, y, geom), geom


def frames_from_recording(rec, cfg: GestureConfig) -> tuple[np.ndarray, np.ndarray]:
    """Every control frame of a recording, exactly as live replay through a tracker gives.

    Args:
        rec: A recording (anything with ``t``, ``x``, ``y``, ``width``, ``height``).
        cfg: The gesture config.

    Returns:
        (times float64[M], windows float32[M, window_dim(cfg)]).
    """
    t, _, _, seg, geom = _trace(rec, cfg)
    times, index = frame_times(t, cfg, _name(rec))
    out = np.zeros((len(times), geom.dim), dtype=np.float32)
    _windows(t, seg, times, index, geom, out)
    return times, out


def window_end_times(sample_times, cfg: GestureConfig,
                     hop_steps: int | None = None) -> np.ndarray:
    """End times of the training windows of accepted sample times: on the rate_hz grid from
    the first sample, every ``hop_steps`` steps, the first one a full window after it."""
    hop = cfg.hop_steps if hop_steps is None else hop_steps
    if not isinstance(hop, (int, np.integer)) or hop < 1:
        raise BadInput(f"hop_steps = {hop!r} must be an integer >= 1")
    t = np.asarray(sample_times, dtype=np.float64)
    if len(t) == 0:
        return np.empty(0)
    span = (t[-1] - t[0]) * cfg.rate_hz - cfg.window_steps
    if span < 0:
        return np.empty(0)
    check_frame_count(span / hop, "the recording's training windows")
    j = np.arange(int(span // hop) + 1, dtype=np.float64)
    ends = t[0] + (cfg.window_steps + j * hop) / cfg.rate_hz
    return ends[ends <= t[-1]]


def windows_from_recording(rec, cfg: GestureConfig,
                           hop_steps: int | None = None) -> np.ndarray:
    """Training windows of a recording (the same window function as live).

    Windows end every ``hop_steps`` control steps (default ``cfg.hop_steps``), the first
    one ``window_steps / rate_hz`` seconds after the first sample; each knows only the
    samples up to its end, like the live tracker.

    Returns:
        float32[N, window_dim(cfg)] (N = 0 when the recording is shorter than a window).
    """
    t, _, _, seg, geom = _trace(rec, cfg)
    if len(t) == 0:
        return np.zeros((0, geom.dim), dtype=np.float32)
    ends = window_end_times(t, cfg, hop_steps)
    last = np.searchsorted(t, ends, side="right") - 1
    out = np.zeros((len(ends), geom.dim), dtype=np.float32)
    _windows(t, seg, ends, last, geom, out)
    return out


# --- raw steps, for inspection and plots -----------------------------------------------

class Resampled(NamedTuple):
    """A pointer trace on the rate_hz grid: times, positions and cumulative jump count."""

    times: np.ndarray
    x: np.ndarray
    y: np.ndarray
    jumps: np.ndarray


def resample(rec, cfg: GestureConfig) -> Resampled:
    """Positions of a recording every 1 / rate_hz from its first to its last sample.

    Uses the position function of the module docstring (rest and jump rules); the first
    grid point is the first accepted sample.
    """
    t, _, _, seg, geom = _trace(rec, cfg)
    if len(t) == 0:
        empty = np.empty(0)
        return Resampled(empty, empty, empty, empty)
    count = math.floor((t[-1] - t[0]) * geom.rate) + 1
    check_frame_count(count, _name(rec))
    k = np.arange(count)
    times = t[0] + k / geom.rate
    times = times[times <= t[-1]]
    s = _Scratch(1, len(times) - 1)
    s.tq[0] = times
    pos = _positions(t, seg, np.array([len(t) - 1]), s)[0]
    return Resampled(times, pos[:, 0].copy(), -pos[:, 1], pos[:, 2].copy())


def polar_steps(x, y, width: float, height: float, still_rho: float = 1e-4,
                jumps=None) -> tuple[np.ndarray, np.ndarray]:
    """Relative polar steps of a position sequence: each position relative to the previous.

    Args:
        x, y: Positions in pixels (e.g. from :func:`resample`).
        width, height: Window size; ρ is normalised by its diagonal.
        still_rho: Steps shorter than this (in diagonals) are stillness.
        jumps: Optional cumulative jump count per position (``Resampled.jumps``); steps
            across a jump are treated as stillness.

    Returns:
        (theta, rho), each float64[len(x) - 1]: θ = atan2(-dy, dx) in (-π, π] (y up), NaN
        where the step is still or a jump; ρ in window diagonals, 0 there.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    dx, dy = np.diff(x), np.diff(y)
    rho = np.sqrt(dx * dx + dy * dy) / math.hypot(width, height)
    theta = np.arctan2(0.0 - dy, dx)
    still = rho < still_rho
    if jumps is not None:
        still |= np.diff(np.asarray(jumps, dtype=np.float64)) > 0
    theta[still] = np.nan
    rho[still] = 0.0
    return theta, rho
