"""Held-out stroke families: reproducible, unlike the training generator, never trained on."""

import numpy as np

from instrument.config import GestureConfig
from instrument.gesture.heldout import HELDOUT_FAMILIES, HELDOUT_SEED, heldout_strokes
from instrument.gesture.synthetic import FAMILIES


def test_same_seed_same_strokes_and_new_families():
    a, b = heldout_strokes(20), heldout_strokes(20)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.t, b.t)
    assert a.header["source"] == "heldout" and a.header["heldout"]["seed"] == HELDOUT_SEED
    assert not set(HELDOUT_FAMILIES) & set(FAMILIES)
    assert sum(a.header["heldout"]["strokes"].values()) > 5


def test_they_make_windows_inside_the_window():
    from instrument.gesture.steps import windows_from_recording

    rec = heldout_strokes(20, seed=1)
    assert rec.x.min() >= 0 and rec.x.max() < rec.width and rec.y.max() < rec.height
    assert len(windows_from_recording(rec, GestureConfig())) > 100
