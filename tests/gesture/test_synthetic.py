"""synthetic.py: human-like synthetic recordings, deterministic per seed."""

from __future__ import annotations

import numpy as np
import pytest

from instrument.config import GestureConfig
from instrument.errors import BadInput
from instrument.formats.recording import Recording
from instrument.gesture.steps import frames_from_recording, polar_steps, resample
from instrument.gesture.synthetic import FAMILIES, synthesize


@pytest.fixture(scope="module")
def rec():
    return synthesize(seconds=90, seed=3, width=1000, height=700)


def test_same_seed_same_recording_other_seed_differs(rec):
    again = synthesize(seconds=90, seed=3, width=1000, height=700)
    for name in ("t", "x", "y"):
        np.testing.assert_array_equal(getattr(again, name), getattr(rec, name))
    other = synthesize(seconds=90, seed=4, width=1000, height=700)
    assert len(other) != len(rec) or not np.array_equal(other.x, rec.x)


def test_header_says_synthetic_and_counts_every_family(rec):
    assert rec.header["source"] == "synthetic" and "not a human" in rec.header["note"]
    strokes = rec.header["synthetic"]["strokes"]
    assert set(strokes) == set(FAMILIES) and all(strokes[f] > 0 for f in FAMILIES)
    assert (rec.width, rec.height) == (1000, 700) and rec.pressure is None


def test_timing_is_like_a_mouse(rec):
    assert 85 <= rec.duration <= 90
    dt = np.diff(rec.t)
    assert dt.min() >= 0.004 - 1e-9                       # strictly increasing, plausible
    moving_dt = dt[dt < 0.03]
    rate = 1 / np.median(moving_dt)
    assert 55 <= rate <= 130
    assert np.std(moving_dt) > 0.0005                     # jitter, not a metronome
    assert (dt > 0.2).sum() >= 5                          # pauses: no events while still
    step = np.abs(np.diff(rec.x)) + np.abs(np.diff(rec.y))
    assert step.min() >= 0.5 - 1e-9                       # an event only when it moved
    np.testing.assert_array_equal(np.round(rec.t, 4), rec.t)
    np.testing.assert_array_equal(np.round(rec.x, 1), rec.x)


def test_stays_in_the_window_with_varied_speed_and_direction(rec):
    assert rec.x.min() >= 0 and rec.x.max() <= 999 and rec.y.min() >= 0 and rec.y.max() <= 699
    grid = resample(rec, GestureConfig())
    theta, rho = polar_steps(grid.x, grid.y, 1000, 700, jumps=grid.jumps)
    moving = ~np.isnan(theta)
    assert 0.05 < 1 - moving.mean() < 0.45                # some stillness, mostly motion
    counts, _ = np.histogram(theta[moving], bins=8, range=(-np.pi, np.pi))
    assert counts.min() > 0.5 * counts.mean()             # every direction
    low, high = np.percentile(rho[moving], [10, 90])
    assert high / low > 5                                 # slow and fast strokes
    assert not np.any(np.diff(grid.jumps) > 0)            # a hand never teleports


def test_feeds_the_gesture_path_identically_live_and_offline(rec):
    from test_steps import live_frames

    short = Recording(header=rec.header, width=rec.width, height=rec.height,
                      t=rec.t[:4000], x=rec.x[:4000], y=rec.y[:4000])
    times, windows = frames_from_recording(short, GestureConfig())
    assert len(times) > len(short) and np.isfinite(windows).all()
    live_t, live_w, _ = live_frames(short, GestureConfig())
    np.testing.assert_array_equal(live_t, times)
    np.testing.assert_array_equal(live_w, windows)


@pytest.mark.parametrize("kwargs", [{"seconds": 0}, {"seconds": float("inf")}, {"seed": -1},
                                    {"width": 50}, {"height": 10.5}])
def test_bad_arguments(kwargs):
    with pytest.raises(BadInput):
        synthesize(**kwargs)
