"""What a stroke does, in a performer's words: descriptors of each gesture window.

Computed in this one place for training (the descriptor pairing and steering), evaluation
(the gesture side of the independent check) and the live view. A window is ``window_steps``
relative polar steps at ``rate_hz`` (gesture/steps.py), so the path is rebuilt from them:
step k moves ``ρ_k (cos θ_k, sin θ_k)`` window diagonals (y up), ``dt = 1 / rate_hz``; a still
step (all zeros) does not move. From pointer positions (x, y pixels, y down) use
:func:`describe_path` instead; both give the same numbers for the same motion.

- ``speed``: ``Σ ρ_k / (K dt)``, window diagonals per second (mean over the window).
- ``acceleration``: least-squares slope of the step speeds ``ρ_k / dt`` against time,
  diagonals per second² (positive = speeding up).
- ``curvature``: mean absolute turning between consecutive moving steps,
  ``mean |wrap(θ_k - θ_{k-1})|`` in radians per step (0 straight, π reversing), 0 with fewer
  than two moving steps.
- ``direction``: direction of travel, ``atan2(Σ dy_up, Σ dx)`` of the net displacement, in
  radians (0 right, π/2 up); 0 for no movement.
- ``extent``: diagonal of the bounding box of the window's path, in window diagonals.
- ``height``: net vertical travel over the window, ``Σ ρ_k sin θ_k``, window diagonals (up
  positive): how far the stroke rose or fell.
- ``pressure``: mean pressure (0..1) over the window, where the stream has it (NaN when not).

:func:`gesture_space` turns them into a space to measure distances in (the gesture side of
learn/evaluation.py). Pure numpy.
"""

from __future__ import annotations

import numpy as np

from instrument.errors import BadInput

GESTURE_DESCRIPTORS = ("speed", "acceleration", "curvature", "direction", "extent", "height",
                       "pressure")
# Gesture descriptors a --steer may name, with how each is read off the descriptor array.
STEERABLE = ("speed", "acceleration", "curvature", "extent", "height", "up", "right",
             "pressure")


def _from_steps(dx: np.ndarray, dy: np.ndarray, moving: np.ndarray, dt: float,
                pressure: np.ndarray | None) -> np.ndarray:
    """Descriptors from per-step displacements (N, K) in diagonals, y up."""
    n, k = dx.shape
    rho = np.hypot(dx, dy)
    out = np.empty((n, len(GESTURE_DESCRIPTORS)), np.float64)
    out[:, 0] = rho.sum(axis=1) / (k * dt)
    t = (np.arange(k) - (k - 1) / 2) * dt
    denom = float((t ** 2).sum())
    out[:, 1] = ((rho / dt) @ t) / denom if denom > 0 else 0.0
    theta = np.arctan2(dy, dx)
    both = moving[:, 1:] & moving[:, :-1]
    turn = np.abs(np.angle(np.exp(1j * (theta[:, 1:] - theta[:, :-1]))))
    count = both.sum(axis=1)
    out[:, 2] = np.where(count > 0, (turn * both).sum(axis=1) / np.maximum(count, 1), 0.0)
    net_x, net_y = dx.sum(axis=1), dy.sum(axis=1)
    out[:, 3] = np.where(np.hypot(net_x, net_y) > 0, np.arctan2(net_y, net_x), 0.0)
    px = np.concatenate([np.zeros((n, 1)), np.cumsum(dx, axis=1)], axis=1)
    py = np.concatenate([np.zeros((n, 1)), np.cumsum(dy, axis=1)], axis=1)
    out[:, 4] = np.hypot(px.max(1) - px.min(1), py.max(1) - py.min(1))
    out[:, 5] = net_y
    out[:, 6] = np.nan if pressure is None else np.asarray(pressure, np.float64).mean(axis=1)
    return out


def describe_windows(windows: np.ndarray, gesture_cfg, pressure: np.ndarray | None = None
                     ) -> np.ndarray:
    """Descriptors (GESTURE_DESCRIPTORS order) of gesture windows.

    Args:
        windows: (N, window_steps * per_step) or (window_steps * per_step,) windows as made by
            gesture/steps.py (``sincos_rho`` or ``theta_rho``).
        gesture_cfg: The GestureConfig they were made with.
        pressure: Optional (N, window_steps) pressure of each step (0..1).

    Returns:
        float64 (N, 7) (or (7,) for one window).
    """
    w = np.asarray(windows, np.float64)
    one = w.ndim == 1
    w = w[None, :] if one else w
    k = int(gesture_cfg.window_steps)
    per = 3 if gesture_cfg.features == "sincos_rho" else 2
    if w.ndim != 2 or w.shape[1] != k * per:
        raise BadInput(f"gesture descriptors need windows of {k * per} values, got shape "
                       f"{np.shape(windows)}")
    steps = w.reshape(len(w), k, per)
    rho = steps[..., -1]
    if per == 3:
        dx, dy = rho * steps[..., 1], rho * steps[..., 0]
    else:
        dx, dy = rho * np.cos(steps[..., 0]), rho * np.sin(steps[..., 0])
    if pressure is not None and np.shape(pressure) != (len(w), k):
        raise BadInput(f"pressure must be ({len(w)}, {k}), got {np.shape(pressure)}")
    out = _from_steps(dx, dy, rho > 0, 1.0 / gesture_cfg.rate_hz, pressure)
    return out[0] if one else out


def describe_path(x: np.ndarray, y: np.ndarray, width: float, height: float, rate_hz: float,
                  pressure: np.ndarray | None = None) -> np.ndarray:
    """Descriptors of one stretch of pointer positions sampled at ``rate_hz``.

    Args:
        x, y: (K + 1,) positions in pixels (y down, as pointer events give them).
        width, height: The window size (distances are in window diagonals).
        rate_hz: The rate the positions are sampled at.
        pressure: Optional (K + 1,) pressure; the mean of the last K is used.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise BadInput("describe_path needs two equal 1-D position arrays of 2 or more samples")
    diagonal = float(np.hypot(width, height))
    dx, dy = np.diff(x)[None, :] / diagonal, -np.diff(y)[None, :] / diagonal
    p = None if pressure is None else np.asarray(pressure, np.float64)[None, 1:]
    return _from_steps(dx, dy, np.hypot(dx, dy) > 0, 1.0 / rate_hz, p)[0]


def steer_column(descriptors: np.ndarray, name: str) -> np.ndarray:
    """One steerable gesture descriptor as a column (``up``/``right``: sin/cos of direction,
    0 for a still window)."""
    d = np.asarray(descriptors, np.float64)
    if name == "up":
        return np.where(d[:, 0] > 0, np.sin(d[:, 3]), 0.0)
    if name == "right":
        return np.where(d[:, 0] > 0, np.cos(d[:, 3]), 0.0)
    if name not in STEERABLE:
        raise BadInput(f"unknown gesture descriptor {name!r}", f"use one of {', '.join(STEERABLE)}")
    return d[:, GESTURE_DESCRIPTORS.index(name)]


def gesture_space(descriptors: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Gesture descriptors as a space to measure distances in: every axis alike.

    Columns: ``log(speed + 0.01)``, acceleration, curvature, the direction of travel as
    ``(cos, sin)`` (no jump at ±π; (0, 0) for a still window), ``log(extent + 0.001)`` and
    pressure where present, each standardised by ``reference``'s statistics (default: the
    descriptors themselves). ``height`` is left out: it is direction × extent again.

    Returns:
        float64 (N, 6), or (N, 7) with pressure.
    """
    def transform(d):
        d = np.asarray(d, np.float64)
        cols = [np.log(d[:, 0] + 0.01), d[:, 1], d[:, 2], steer_column(d, "right"),
                steer_column(d, "up"), np.log(d[:, 4] + 0.001)]
        if np.isfinite(d[:, 6]).all():
            cols.append(d[:, 6])
        return np.stack(cols, axis=1)

    x = transform(descriptors)
    ref = x if reference is None else transform(reference)
    std = ref.std(axis=0)
    return (x - ref.mean(axis=0)) / np.where(std > 1e-12, std, 1.0)
