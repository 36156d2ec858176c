"""learn/continuity.py: per-frame figures of how the sound moves while the hand moves."""

import numpy as np
import pytest

from instrument.errors import BadInput
from instrument.learn.continuity import PARAM_JUMP, time_continuity
from instrument.sound.params import PARAM_TABLE


def _stream(carriers, sounds, still=None, dt=0.01):
    n = len(carriers)
    params = np.tile([440.0, 1.0, 0.0, 0.5], (n, 1))
    params[:, 0] = carriers
    still = np.zeros(n, bool) if still is None else np.asarray(still, bool)
    return np.arange(n) * dt, np.asarray(sounds), params, still


def test_a_leaping_stream_and_a_gliding_one():
    # an octave and a half up and down every frame, a new sound each frame
    leap = time_continuity(*_stream([200, 600] * 50, np.arange(100)), PARAM_TABLE)
    assert leap["octave_jumps"] == 1.0 and leap["param_jumps"] == 1.0
    assert leap["changes_per_s"] == pytest.approx(100.0)  # 99 changes in 0.99 s
    assert leap["median_run"] == 1.0 and leap["median_run_ms"] == pytest.approx(10.0)
    # a semitone a frame, one sound held for 10 frames at a time
    glide = time_continuity(*_stream(200 * 2 ** (np.arange(100) / 12 / 10),
                                     np.arange(100) // 10), PARAM_TABLE)
    assert glide["octave_jumps"] == 0.0 and glide["param_jumps"] == 0.0
    assert glide["changes_per_s"] == pytest.approx(9 / 0.99)
    assert glide["median_run"] == 10.0 and glide["median_run_ms"] == pytest.approx(100.0)


def test_still_frames_are_not_scored_but_break_runs():
    carriers = [200, 200, 900, 900, 900, 900]
    still = [False, False, True, True, False, False]
    out = time_continuity(*_stream(carriers, [0, 0, 0, 0, 1, 1], still), PARAM_TABLE)
    # moving frames 1, 4, 5 are scored against the frame before: 200->200, 900->900, 900->900
    assert out["moving_frames"] == 3 and out["octave_jumps"] == 0.0
    # runs: frames 0-1 (sound 0), then after the pause frames 4-5 (sound 1)
    assert out["median_run"] == 2.0


def test_param_jump_threshold_is_a_share_of_each_range():
    n = 10
    times, sounds, params, still = _stream([440.0] * n, np.zeros(n, int))
    params[:, 3] = np.arange(n) * (PARAM_JUMP * 0.9)  # amplitude 0..1: just under the share
    assert time_continuity(times, sounds, params, still, PARAM_TABLE)["param_jumps"] == 0.0
    params[:, 3] = np.arange(n) * (PARAM_JUMP * 1.1)
    params[:, 3] = np.minimum(params[:, 3], 1.0)
    assert time_continuity(times, sounds, params, still, PARAM_TABLE)["param_jumps"] > 0.8


def test_no_movement_and_bad_shapes():
    out = time_continuity(*_stream([440] * 5, [0] * 5, [True] * 5), PARAM_TABLE)
    assert out["moving_frames"] == 0 and out["octave_jumps"] == 0.0
    times, sounds, params, still = _stream([440] * 5, [0] * 5)
    with pytest.raises(BadInput, match="continuity"):
        time_continuity(times[:3], sounds, params, still, PARAM_TABLE)
