"""Gesture descriptors against strokes whose speed, turning and direction are known."""

import numpy as np
import pytest

from instrument.config import GestureConfig
from instrument.errors import BadInput
from instrument.gesture.descriptors import (
    GESTURE_DESCRIPTORS,
    describe_path,
    describe_windows,
    gesture_space,
    steer_column,
)

CFG = GestureConfig()
K = CFG.window_steps
COL = {name: i for i, name in enumerate(GESTURE_DESCRIPTORS)}


def window_of(dx, dy):
    """A sincos_rho window from per-step displacements in diagonals (y up)."""
    dx, dy = np.broadcast_to(dx, (K,)), np.broadcast_to(dy, (K,))
    rho = np.hypot(dx, dy)
    safe = np.where(rho > 0, rho, 1.0)
    return np.stack([np.where(rho > 0, dy / safe, 0), np.where(rho > 0, dx / safe, 0), rho],
                    axis=1).reshape(-1)


def test_a_steady_straight_stroke():
    d = describe_windows(window_of(0.002, 0.0), CFG)    # 0.002 diagonals per 10 ms step
    assert d[COL["speed"]] == pytest.approx(0.2)
    assert d[COL["acceleration"]] == pytest.approx(0.0, abs=1e-9)
    assert d[COL["curvature"]] == pytest.approx(0.0, abs=1e-9)
    assert d[COL["direction"]] == pytest.approx(0.0)
    assert d[COL["extent"]] == pytest.approx(0.002 * K)
    assert d[COL["height"]] == pytest.approx(0.0)
    assert np.isnan(d[COL["pressure"]])


def test_upwards_is_pi_over_2_and_rises():
    d = describe_windows(window_of(0.0, 0.003), CFG)
    assert d[COL["direction"]] == pytest.approx(np.pi / 2)
    assert d[COL["height"]] == pytest.approx(0.003 * K)
    assert steer_column(d[None, :], "up")[0] == pytest.approx(1.0)


def test_a_circle_turns_by_its_step_angle():
    step = 2 * np.pi / 64                       # a full turn every 64 steps
    angles = np.arange(K) * step
    d = describe_windows(window_of(0.002 * np.cos(angles), 0.002 * np.sin(angles)), CFG)
    assert d[COL["curvature"]] == pytest.approx(step, rel=1e-6)
    assert d[COL["speed"]] == pytest.approx(0.2)


def test_speeding_up_has_the_slope_of_the_speed():
    # speed rises linearly from 0.1 to 0.4 diagonals/s over the window's 0.31 s
    speeds = np.linspace(0.1, 0.4, K)
    d = describe_windows(window_of(speeds / CFG.rate_hz, 0.0), CFG)
    assert d[COL["acceleration"]] == pytest.approx(0.3 / ((K - 1) / CFG.rate_hz), rel=1e-6)


def test_a_still_window_is_all_zero_motion():
    d = describe_windows(np.zeros(3 * K), CFG)
    assert d[:6] == pytest.approx(np.zeros(6))


def test_path_and_window_agree():
    # the same motion from pixel positions (y down) and from a window
    width, height = 800, 600
    diagonal = np.hypot(width, height)
    x = 100 + np.arange(K + 1) * 2.0
    y = 300 - np.arange(K + 1) * 1.0          # rising on screen
    from_path = describe_path(x, y, width, height, CFG.rate_hz)
    from_window = describe_windows(window_of(2.0 / diagonal, 1.0 / diagonal), CFG)
    assert from_path[:6] == pytest.approx(from_window[:6])


def test_pressure_is_averaged_and_enters_the_space():
    w = np.stack([window_of(0.002, 0.0), window_of(0.004, 0.001)])
    d = describe_windows(w, CFG, pressure=np.array([np.full(K, 0.2), np.full(K, 0.8)]))
    assert d[:, COL["pressure"]] == pytest.approx([0.2, 0.8])
    assert gesture_space(d).shape == (2, 7)
    assert gesture_space(describe_windows(w, CFG)).shape == (2, 6)


def test_bad_windows_are_one_line():
    with pytest.raises(BadInput, match="96 values"):
        describe_windows(np.zeros(10), CFG)
    with pytest.raises(BadInput, match="unknown gesture descriptor"):
        steer_column(np.zeros((1, 7)), "wobble")
