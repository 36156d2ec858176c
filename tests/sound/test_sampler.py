"""sound/sampler.py: switching never clicks, slices start/end/loop as documented."""

import numpy as np
import pytest

from instrument.errors import BadInput
from instrument.sound.sampler import Sampler, render_slices

RATE = 44100


def test_switching_between_opposite_full_scale_slices_stays_under_the_click_bound():
    # DC slices of +0.9 and -0.9: a hard switch would jump by 1.8 in one sample
    up, down = np.full(RATE, 0.9, np.float32), np.full(RATE, -0.9, np.float32)
    times = np.array([0.0, 0.1, 0.1001, 0.1002, 0.3, 0.30005])  # switches inside fades too
    out = render_slices(times, np.array([0, 1, 0, 1, 0, 1]), [up, down], 0.6, RATE)
    fade = round(0.005 * RATE)
    # documented bound: peak * pi / (2 * fade samples) per fading voice; two fade at once
    bound = 2 * 0.9 * np.pi / (2 * fade)
    assert np.abs(np.diff(out)).max() <= bound * 1.001
    assert np.abs(out[int(0.2 * RATE)]) == pytest.approx(0.9)  # settled on one slice


def test_a_slice_starts_at_its_first_sample_and_its_end_fades_to_zero():
    ramp = np.linspace(0.1, 0.5, 2000, dtype=np.float32)
    out = render_slices(np.array([0.01]), np.array([0]), [ramp], 0.2, RATE)
    start = round(0.01 * RATE)
    assert np.all(out[:start] == 0) and out[start] == 0.0   # the fade-in begins at 0
    fade = round(0.005 * RATE)
    np.testing.assert_allclose(out[start + fade:start + 2000 - fade],
                               ramp[fade:2000 - fade], rtol=1e-6)
    assert out[start + 1999] == 0.0 and np.all(out[start + 2000:] == 0)


def test_the_same_slice_again_changes_nothing_and_loop_keeps_playing():
    tone = np.sin(2 * np.pi * 440 * np.arange(4410) / RATE).astype(np.float32)
    once = render_slices(np.array([0.0, 0.05, 0.08]), np.array([0, 0, 0]), [tone], 0.5, RATE)
    np.testing.assert_array_equal(
        once, render_slices(np.array([0.0]), np.array([0]), [tone], 0.5, RATE))
    assert np.all(once[4410:] == 0)
    looped = render_slices(np.array([0.0]), np.array([0]), [tone], 0.5, RATE, mode="loop")
    # still sounding at the end, and its loop crossfades never click
    assert np.abs(looped[-2000:]).max() > 0.5
    assert np.abs(np.diff(looped)).max() < 2 * np.pi * 440 / RATE * 1.5


def test_blocks_do_not_change_the_audio():
    rng = np.random.default_rng(0)
    slices = [rng.standard_normal(n).astype(np.float32) * 0.3 for n in (3000, 9000, 500)]
    whole = Sampler(slices, RATE, "loop")
    whole.set_slice(1)
    a = whole.render(np.zeros(20000, np.float32)).copy()
    blocks = Sampler(slices, RATE, "loop")
    blocks.set_slice(1)
    b = np.concatenate([blocks.render(np.zeros(n, np.float32)).copy()
                        for n in [64] * 100 + [13600]])
    np.testing.assert_allclose(a, b, atol=1e-7)


def test_bad_settings_are_refused():
    with pytest.raises(BadInput):
        Sampler([np.zeros(10, np.float32)], RATE, mode="grains")
    with pytest.raises(BadInput):
        Sampler([np.zeros(10, np.float32)], RATE, fade_s=5)
    with pytest.raises(BadInput):
        Sampler([np.zeros(10, np.float32)], RATE).set_slice(3)
