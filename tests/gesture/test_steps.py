"""gestures.py: resampling, relative polar steps, windows and the control-frame rule."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from instrument.config import GestureConfig, config_from_dict
from instrument.errors import BadInput
from instrument.formats.recording import replay
from instrument.gesture.steps import (
    accepted_samples,
    frame_times,
    frames_from_recording,
    polar_steps,
    resample,
    window_dim,
    window_end_times,
    windows_from_recording,
)
from instrument.gesture.tracker import GestureTracker

W, H = 800, 600          # diagonal 1000 px: rho = pixels / 1000
DIAG = 1000.0


def trace(t, x, y, width=W, height=H):
    return SimpleNamespace(t=np.asarray(t, float), x=np.asarray(x, float),
                           y=np.asarray(y, float), width=width, height=height)


def square_trace(side=200.0, speed=400.0, rate=100.0):
    """Right, down, left, up (screen coordinates) at constant speed, one sample per 1/rate."""
    n_side = int(round(side / speed * rate))
    step = side / n_side
    xs, ys = [100.0], [100.0]
    for dx, dy in ((1, 0), (0, 1), (-1, 0), (0, -1)):
        for _ in range(n_side):
            xs.append(xs[-1] + dx * step)
            ys.append(ys[-1] + dy * step)
    t = np.arange(len(xs)) / rate
    return trace(t, xs, ys), n_side, step


def live_frames(rec, cfg, capacity=4096):
    """What the live loop does: push replayed samples one by one, still frames in the gaps."""
    tracker = GestureTracker(cfg, rec.width, rec.height, capacity=capacity)
    times, windows = [], []
    for t, x, y in replay(rec, realtime=False):
        while (due := tracker.next_still_time()) is not None and due < t:
            times.append(due)
            windows.append(tracker.window_at(due).copy())
        if tracker.push(t, x, y):
            times.append(float(t))
            windows.append(tracker.window_at(t).copy())
    return np.array(times), np.array(windows).reshape(len(times), -1), tracker


# --- golden polar steps ---------------------------------------------------------------

def test_square_gives_four_headings_and_constant_rho():
    rec, n_side, step = square_trace()
    r = resample(rec, GestureConfig())
    theta, rho = polar_steps(r.x, r.y, W, H)
    assert len(theta) == 4 * n_side
    expected = np.repeat([0.0, -math.pi / 2, math.pi, math.pi / 2], n_side)
    np.testing.assert_allclose(theta, expected, atol=1e-9)
    np.testing.assert_allclose(rho, step / DIAG, rtol=1e-9)
    # Moving left is +pi exactly, never -pi (theta in (-pi, pi]).
    assert np.all(theta[2 * n_side:3 * n_side] > 0)


def test_square_window_features_are_sin_cos_rho_oldest_first():
    rec, n_side, step = square_trace()
    cfg = GestureConfig(window_steps=8, hop_steps=1)
    tracker = GestureTracker(cfg, W, H)
    for t, x, y in zip(rec.t, rec.x, rec.y):
        tracker.push(t, x, y)
    # The window that ends 4 steps after the first corner: 4 steps right, then 4 down.
    corner = n_side
    tracker2 = GestureTracker(cfg, W, H)
    for t, x, y in zip(rec.t[:corner + 5], rec.x[:corner + 5], rec.y[:corner + 5]):
        tracker2.push(t, x, y)
    w = tracker2.window_at(rec.t[corner + 4]).reshape(8, 3)
    rho = step / DIAG
    np.testing.assert_allclose(w[:4], [[0.0, 1.0, rho]] * 4, atol=1e-7)   # right: sin 0, cos 1
    np.testing.assert_allclose(w[4:], [[-1.0, 0.0, rho]] * 4, atol=1e-7)  # down: sin -1
    assert window_dim(cfg) == 24 and w.dtype == np.float32


def test_circle_steps_follow_the_tangent():
    radius, turns, n = 100.0, 2, 400
    phi = np.linspace(0, 2 * math.pi * turns, n + 1)          # counter-clockwise, y up
    x = 400 + radius * np.cos(phi)
    y = 300 - radius * np.sin(phi)
    rec = trace(np.arange(n + 1) / 100.0, x, y)
    r = resample(rec, GestureConfig())
    theta, rho = polar_steps(r.x, r.y, W, H)
    dphi = phi[1] - phi[0]
    chord = phi[:-1] + math.pi / 2 + dphi / 2
    expected = np.angle(np.exp(1j * chord))                     # wrapped to (-pi, pi]
    np.testing.assert_allclose(np.angle(np.exp(1j * (theta - expected))), 0, atol=1e-9)
    np.testing.assert_allclose(rho, 2 * radius * math.sin(dphi / 2) / DIAG, rtol=1e-9)
    # sin/cos features have no wrap-around: consecutive steps change smoothly.
    win = windows_from_recording(rec, GestureConfig(window_steps=4, hop_steps=1))
    steps = win.reshape(len(win), 4, 3)
    assert np.abs(np.diff(steps[:, :, 0], axis=1)).max() < 2 * dphi
    assert np.abs(np.diff(steps[:, :, 1], axis=1)).max() < 2 * dphi


def test_still_pointer_is_all_zeros_and_theta_undefined():
    rec = trace(np.arange(50) / 100.0, np.full(50, 321.0), np.full(50, 123.0))
    cfg = GestureConfig(window_steps=10)
    times, windows = frames_from_recording(rec, cfg)
    # >= 50: float rounding of k/100 can leave room for a still frame in a 10 ms gap.
    assert windows.shape[0] >= 50 and windows.shape[1] == 30 and not windows.any()
    r = resample(rec, cfg)
    theta, rho = polar_steps(r.x, r.y, W, H)
    assert np.all(np.isnan(theta)) and not rho.any()


def test_sub_threshold_tremor_is_stillness():
    cfg = GestureConfig(window_steps=4, still_rho=1e-3)        # 1 px on a 1000 px diagonal
    x = 400 + 0.3 * np.sin(np.arange(40))                      # 0.3 px tremor
    _, windows = frames_from_recording(trace(np.arange(40) / 100.0, x, np.full(40, 50.0)), cfg)
    assert not windows.any()


def test_theta_rho_features_are_raw_polar():
    rec, n_side, step = square_trace()
    cfg = GestureConfig(window_steps=4, features="theta_rho")
    tracker = GestureTracker(cfg, W, H)
    for t, x, y in zip(rec.t[:2 * n_side + 5], rec.x[:2 * n_side + 5], rec.y[:2 * n_side + 5]):
        tracker.push(t, x, y)
    w = tracker.window_at(rec.t[2 * n_side + 4]).reshape(4, 2)   # four steps to the left
    np.testing.assert_allclose(w, [[math.pi, step / DIAG]] * 4, rtol=1e-6)
    assert window_dim(cfg) == 8


# --- resampling ----------------------------------------------------------------------

def test_irregular_event_times_resample_to_the_true_path(rng):
    # Constant velocity, irregular events (4..40 ms apart, all shorter than rest_after_s).
    dt = rng.uniform(0.004, 0.040, 300)
    t = np.concatenate([[0.0], np.cumsum(dt)])
    vx, vy = 250.0, -120.0
    rec = trace(t, 100 + vx * t, 500 + vy * t)
    r = resample(rec, GestureConfig(rate_hz=100))
    np.testing.assert_allclose(np.diff(r.times), 0.01, atol=1e-12)
    np.testing.assert_allclose(r.x, 100 + vx * r.times, atol=1e-9)
    np.testing.assert_allclose(r.y, 500 + vy * r.times, atol=1e-9)
    theta, rho = polar_steps(r.x, r.y, W, H)
    np.testing.assert_allclose(theta, math.atan2(120.0, 250.0), atol=1e-9)
    np.testing.assert_allclose(rho, math.hypot(vx, vy) * 0.01 / DIAG, rtol=1e-7)


def test_long_gap_means_rest_then_move():
    cfg = GestureConfig(rest_after_s=0.05)
    rec = trace([0.0, 1.0], [100.0, 110.0], [100.0, 100.0])
    r = resample(rec, cfg)
    moving = r.times > 1.0 - 0.05 + 1e-9
    np.testing.assert_allclose(r.x[~moving], 100.0)
    np.testing.assert_allclose(r.x[moving], 100 + 10 * (r.times[moving] - 0.95) / 0.05)


def test_jump_is_a_break_not_a_fast_stroke():
    # Steady motion to the right, then the pointer reappears 600 px away (> 0.25 diagonal).
    t = np.arange(60) / 100.0
    x = 100 + 2.0 * np.arange(60)
    x[30:] += 600
    rec = trace(t, x, np.full(60, 300.0))
    cfg = GestureConfig(window_steps=8)
    times, windows = frames_from_recording(rec, cfg)
    rho = windows.reshape(len(windows), 8, 3)[:, :, 2]
    assert rho.max() == pytest.approx(2.0 / DIAG, rel=1e-6)    # never a 600 px step
    # Exactly one step of the frame at the jump sample is zeroed, the rest move on.
    at_jump = int(np.flatnonzero(times == t[30])[0])
    assert np.count_nonzero(rho[at_jump] == 0) == 1 and rho[at_jump, -1] == 0
    r = resample(rec, cfg)
    theta, rho_raw = polar_steps(r.x, r.y, W, H, jumps=r.jumps)
    assert rho_raw.max() == pytest.approx(2.0 / DIAG) and np.isnan(theta).sum() == 1


# --- windows and frames -------------------------------------------------------------

def test_window_shapes_and_training_window_count():
    t = np.arange(0, 5.0, 0.008)
    rec = trace(t, 400 + 100 * np.sin(t), 300 + 100 * np.cos(3 * t))
    for steps, hop, feats, per in ((32, 4, "sincos_rho", 3), (16, 1, "theta_rho", 2)):
        cfg = GestureConfig(window_steps=steps, hop_steps=hop, features=feats)
        win = windows_from_recording(rec, cfg)
        expected = int(((t[-1] - t[0]) * 100 - steps) // hop) + 1
        assert win.shape == (expected, steps * per) and win.dtype == np.float32
        assert windows_from_recording(rec, cfg, hop_steps=2 * hop).shape[0] == (expected + 1) // 2
    short = trace([0.0, 0.1], [1.0, 2.0], [1.0, 1.0])
    assert windows_from_recording(short, GestureConfig()).shape == (0, 96)
    assert windows_from_recording(trace([], [], []), GestureConfig()).shape == (0, 96)


def test_training_windows_use_the_live_window_function():
    t = np.cumsum(np.random.default_rng(3).uniform(0.005, 0.03, 400))
    rec = trace(t, 400 + 150 * np.sin(2 * t), 300 + 80 * np.sin(5 * t))
    cfg = GestureConfig(window_steps=16, hop_steps=3)
    win = windows_from_recording(rec, cfg)
    ends = window_end_times(rec.t, cfg)
    tracker = GestureTracker(cfg, W, H)
    i = 0
    for end, expected in zip(ends, win):
        while i < len(t) and t[i] <= end:
            tracker.push(t[i], rec.x[i], rec.y[i])
            i += 1
        np.testing.assert_array_equal(tracker.window_at(end), expected)


def test_frame_times_rule():
    cfg = GestureConfig(rate_hz=100)
    times, index = frame_times([0.0, 0.035, 0.055, 0.075, 0.0751], cfg)
    # 0.035 gap -> still frames at +10, +20, +30 ms; 0.020 gap -> one at +10 ms; a frame
    # due exactly at the next sample is not made (strictly before).
    np.testing.assert_allclose(times, [0.0, 0.01, 0.02, 0.03, 0.035, 0.045, 0.055, 0.065,
                                       0.075, 0.0751], atol=1e-12)
    np.testing.assert_array_equal(index, [0, 0, 0, 0, 1, 1, 2, 2, 3, 4])
    assert frame_times([], cfg)[0].shape == (0,)
    with pytest.raises(BadInput):
        frame_times([0.0, 0.0], cfg)


@pytest.mark.parametrize("features", ["sincos_rho", "theta_rho"])
def test_frames_from_recording_equal_the_live_tracker_stream(features, rng):
    n = 1500
    dt = rng.uniform(0.006, 0.018, n)
    dt[rng.random(n) < 0.05] = 0.3                     # pauses -> still frames
    t = np.cumsum(dt)
    x = 400 + np.cumsum(rng.normal(0, 4, n))
    y = 300 + np.cumsum(rng.normal(0, 4, n))
    x[700] += 500                                      # a jump
    x[100], y[200], t[300] = np.nan, np.inf, t[299]    # rejected: NaN, inf, repeated time
    x[400] = 1e9                                       # rejected: absurd coordinate
    rec = trace(t, x, y)
    cfg = GestureConfig(window_steps=24, features=features)
    times, windows = frames_from_recording(rec, cfg)
    live_t, live_w, tracker = live_frames(rec, cfg, capacity=64)   # ring wraps many times
    assert tracker.rejected == 4 and tracker.accepted == n - 4
    assert np.count_nonzero(~accepted_samples(t, x, y, W, H)) == 4
    np.testing.assert_array_equal(live_t, times)
    np.testing.assert_array_equal(live_w, windows)
    assert len(times) > n                              # still frames were made


def test_tracker_rejects_and_counts_bad_samples():
    tracker = GestureTracker(GestureConfig(), W, H)
    assert tracker.next_still_time() is None
    assert not tracker.window_at(1.0).any()
    assert tracker.push(1.0, 10, 10)
    for bad in ((float("nan"), 1, 1), (2.0, float("inf"), 1), (2.0, 1, -1e6), (1.0, 5, 5),
                (0.5, 5, 5), ("x", 1, 1)):
        assert not tracker.push(*bad)
    assert tracker.rejected == 6 and tracker.accepted == 1
    assert tracker.next_still_time() == pytest.approx(1.01)
    tracker.window_at(1.0251)                          # a late frame skips the missed ones
    assert tracker.next_still_time() == pytest.approx(1.03)
    assert tracker.push(1.5, 20, 10)
    assert tracker.next_still_time() == pytest.approx(1.51)


def test_window_at_reuses_its_buffer():
    tracker = GestureTracker(GestureConfig(window_steps=4), W, H)
    tracker.push(0.0, 0, 0)
    tracker.push(0.01, 5, 0)
    a = tracker.window_at(0.01)
    b = tracker.window_at(0.2)
    assert np.shares_memory(a, b) and not b.any()


def test_same_stroke_same_steps_on_any_screen_size():
    t = np.arange(100) / 100.0
    small = trace(t, 0.25 * 400 + 0.25 * 300 * np.sin(3 * t), 0.25 * 300 + 0.25 * 200 * t,
                  width=200, height=150)
    big = trace(t, 400 + 300 * np.sin(3 * t), 300 + 200 * t, width=800, height=600)
    cfg = GestureConfig(window_steps=8)
    np.testing.assert_allclose(windows_from_recording(small, cfg),
                               windows_from_recording(big, cfg), atol=1e-6)


@pytest.mark.parametrize("bad", [{"rate_hz": 0}, {"window_steps": 0}, {"hop_steps": 1.5},
                                 {"features": "xy"}, {"still_rho": -1}, {"jump_rho": 0},
                                 {"rest_after_s": float("nan")}])
def test_config_rejects_bad_values(bad):
    with pytest.raises(BadInput):
        config_from_dict(GestureConfig, bad)


def test_bad_window_size_is_bad_input():
    with pytest.raises(BadInput, match="width"):
        GestureTracker(GestureConfig(), 0, 600)
