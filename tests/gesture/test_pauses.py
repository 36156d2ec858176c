"""Long pauses count as MAX_PAUSE_S of stillness: bounded work for any gap, same rule everywhere."""

import tracemalloc

import numpy as np
import pytest

from instrument.config import GestureConfig
from instrument.errors import BadInput
from instrument.formats.recording import Recording
from instrument.gesture.pauses import MAX_PAUSE_S, PauseCapper, cap_pauses
from instrument.gesture.steps import (
    accepted_samples,
    frame_times,
    frames_from_recording,
    resample,
    windows_from_recording,
)


def test_cap_pauses_shortens_only_long_gaps_and_the_leading_one():
    t = np.array([1e12, 1e12 + 0.01, 1e12 + 0.02 + 36000.0, 1e12 + 36000.05])
    capped, n = cap_pauses(t)
    assert n == 2
    np.testing.assert_allclose(np.diff(capped, prepend=0.0), [MAX_PAUSE_S, 0.01, MAX_PAUSE_S, 0.03],
                               atol=1e-3)   # 1e12 has ~1e-4 s resolution in float64
    short = np.array([0.0, 0.5, 9.9, 19.0])
    same, n = cap_pauses(short)
    assert n == 0 and same is not None and np.array_equal(same, short)


def test_chunked_capping_equals_whole():
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.choice([0.01, 0.02, 30.0, 5000.0], size=1000, p=[0.6, 0.3, 0.07, 0.03]))
    whole, n = cap_pauses(t)
    capper = PauseCapper()
    parts = np.concatenate([capper(t[a:a + 97]) for a in range(0, len(t), 97)])
    assert capper.capped == n > 0
    np.testing.assert_array_equal(parts, whole)


def test_capping_keeps_which_samples_a_tracker_accepts():
    t = np.array([0.0, 0.01, np.nan, 0.01, 50.0, 49.0, 50.0, 80.0, 80.02])
    x = np.arange(len(t), dtype=float)
    before = accepted_samples(t, x, x, 800, 600)
    capped, _ = cap_pauses(t)
    assert np.array_equal(accepted_samples(capped, x, x, 800, 600), before)


def _rec(t):
    t = np.asarray(t, dtype=float)
    x = 100 + 50 * np.sin(np.arange(len(t)))
    return Recording(header={}, width=800, height=600, t=t, x=x, y=x.copy())


@pytest.mark.parametrize("t", [
    [1e12, 1e12 + 0.01, 1e12 + 0.02],                    # t = 1e12
    [0.0, 0.01, 0.02, 36000.0, 36000.01],                # a 10-hour gap
])
def test_huge_times_and_gaps_give_bounded_frames_windows_and_grids(t):
    cfg = GestureConfig()
    tracemalloc.start()
    times, windows = frames_from_recording(_rec(t), cfg)
    ends = windows_from_recording(_rec(t), cfg)
    grid = resample(_rec(t), cfg)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # at most MAX_PAUSE_S of still frames per pause (two pauses here at most): small
    assert len(times) <= len(t) + 2 * MAX_PAUSE_S * cfg.rate_hz
    assert len(grid.times) <= 2 * MAX_PAUSE_S * cfg.rate_hz + 10 and len(ends) < 1000
    assert peak < 20e6, peak
    assert np.all(np.diff(times) > 0) and windows.shape == (len(times), 96)


def test_too_many_frames_are_refused_before_allocating():
    t = np.arange(0.0, 200_000.0, 5.0)     # 40000 samples 5 s apart: 55 hours of frames
    with pytest.raises(BadInput, match="control frames.*split the recording"):
        frame_times(t, GestureConfig())


def test_a_continued_trace_counts_its_first_pause_from_its_last_time():
    t = np.array([60.0, 60.01, 60.02])
    assert cap_pauses(t)[1] == 1                       # from time 0: a 60 s pause
    same, n = cap_pauses(t, start=59.99)               # continuing a trace at 59.99 s
    assert n == 0 and np.array_equal(same, t)
