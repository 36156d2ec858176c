"""gesture/tail.py: the held-out tail computed alone equals the whole recording's tail."""

import numpy as np
import pytest
from tiny_model import write_strokes

from instrument.config import GestureConfig
from instrument.formats.recording import read_recording
from instrument.gesture.steps import frames_from_recording, windows_from_recording
from instrument.gesture.tail import pointer_tail


@pytest.mark.parametrize("holdout", [0.2, 0.5, 0.0])
def test_the_tail_alone_equals_the_tail_of_everything(tmp_path, holdout):
    rec = read_recording(write_strokes(tmp_path / "g.jsonl", seconds=20, seed=5))
    cfg = GestureConfig()
    windows, frames, times = pointer_tail(rec, cfg, holdout)
    every = windows_from_recording(rec, cfg, 1)
    n_test = int(round(len(every) * holdout))
    np.testing.assert_array_equal(windows, every[len(every) - n_test:])
    all_times, all_frames = frames_from_recording(rec, cfg)
    keep = all_times >= all_times[0] + (all_times[-1] - all_times[0]) * (1 - holdout)
    np.testing.assert_array_equal(times, all_times[keep])
    np.testing.assert_array_equal(frames, all_frames[keep])
    assert len(frames) > 0
