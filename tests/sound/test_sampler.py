"""sound/sampler.py: switching never clicks, slices start/end/loop as documented."""

import numpy as np
import pytest

from instrument.errors import BadInput
from instrument.sound.sampler import Grains, Sampler, render_slices

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


def test_grains_without_jitter_rebuild_the_slice_and_loop_through_it():
    rng = np.random.default_rng(3)
    noise = (rng.standard_normal(RATE) * 0.3).astype(np.float32)
    sampler = Sampler([noise], RATE, "grain", grains=Grains(jitter=0.0))
    hop, length = sampler.hop, sampler.grain_length
    assert length == 4 * hop and abs(length - 0.05 * RATE) < 4
    out = render_slices(np.array([0.0]), np.array([0]), [noise], 1.5, RATE, "grain",
                        grains=Grains(jitter=0.0))
    # once every overlapping grain reads this slice, the Hann grains add up to it exactly
    np.testing.assert_allclose(out[length:RATE - 2 * length],
                               noise[length:RATE - 2 * length], atol=1e-6)
    assert np.abs(out[:length - hop]).max() < np.abs(noise).max()  # the first grains fade in
    assert np.abs(out[-RATE // 4:]).max() > 0.5                    # and it keeps sounding


def test_grain_switches_never_click_and_settle_on_the_new_slice():
    up, down = np.full(RATE, 0.9, np.float32), np.full(RATE // 2, -0.9, np.float32)
    times = np.array([0.0, 0.3, 0.30001, 0.3002, 0.6])
    out = render_slices(times, np.array([0, 1, 0, 1, 0]), [up, down], 1.0, RATE, "grain")
    length = Sampler([up], RATE, "grain").grain_length
    # every grain's window is 2/overlap * sin²(pi u / L): all overlapping grains together
    # change by at most 0.9 * 2 * pi / L per sample, however the slices switch
    assert np.abs(np.diff(out)).max() <= 0.9 * 2 * np.pi / length * 1.001
    assert out[int(0.25 * RATE)] == pytest.approx(0.9, abs=1e-5)
    assert out[int(0.5 * RATE)] == pytest.approx(-0.9, abs=1e-5)


def test_grain_jitter_is_fixed_by_the_seed_and_blocks_do_not_change_it():
    rng = np.random.default_rng(1)
    slices = [(rng.standard_normal(n) * 0.3).astype(np.float32) for n in (3000, 9000, 700)]

    def play(blocks, seed=0):
        sampler = Sampler(slices, RATE, "grain", grains=Grains(seed=seed))
        parts, at = [], 0
        for n in blocks:
            if at in (0, 448, 2560):          # switches at these output samples
                sampler.set_slice({0: 1, 448: 2, 2560: 0}[at])
            parts.append(sampler.render(np.zeros(n, np.float32)).copy())
            at += n
        return np.concatenate(parts)

    a = play([64] * 100)
    b = play([448, 2112, 1000, 2840])   # the same switch samples, other blocks
    np.testing.assert_allclose(a, b, atol=1e-7)
    assert np.abs(a - play([64] * 100, seed=5)).max() > 0.1  # another seed, other grains
    np.testing.assert_array_equal(a, play([64] * 100))


def test_bad_settings_are_refused():
    with pytest.raises(BadInput):
        Sampler([np.zeros(10, np.float32)], RATE, mode="grains")
    with pytest.raises(BadInput):
        Sampler([np.zeros(10, np.float32)], RATE, fade_s=5)
    with pytest.raises(BadInput):
        Sampler([np.zeros(10, np.float32)], RATE).set_slice(3)
    for grains in (Grains(size_s=5), Grains(overlap=1), Grains(overlap=2.5), Grains(jitter=2),
                   Grains(seed=-1)):
        with pytest.raises(BadInput, match="grain"):
            Sampler([np.zeros(10, np.float32)], RATE, "grain", grains=grains)
