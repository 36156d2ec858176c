"""sound/onsets.py: spectral-flux onsets on generated click trains and tone bursts; slicing plans."""

import numpy as np
import pytest

from instrument.sound.onsets import SpectralFlux, pick_onsets, plan_slices

RATE = 22050


def detect(x, block=5000):
    flux = SpectralFlux()
    parts = [flux.push(x[i:i + block]) for i in range(0, len(x), block)]
    return pick_onsets(np.concatenate(parts), RATE)


def check_onsets(found, true):
    assert len(found) == len(true)
    # documented: 4..15 ms early at 22050 Hz (a hop is 11.6 ms); never after the attack
    err_ms = (found - np.asarray(true)) / RATE * 1000
    assert np.all(err_ms <= 0) and np.all(err_ms >= -16), err_ms


def test_click_train():
    x = np.zeros(RATE * 4, np.float32)
    true = list(range(2000, RATE * 4 - 2000, 4410))  # every 0.2 s
    x[true] = 0.8
    check_onsets(detect(x), true)


@pytest.mark.parametrize("block", [700, 5000, 100000])  # the stream's blocks do not matter
def test_tone_bursts_with_a_noise_floor(block):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(RATE * 4) * 1e-3).astype(np.float32)
    true = [int(RATE * t) for t in (0.2, 0.7, 1.3, 1.9, 2.6, 3.3)]
    for i, a in enumerate(true):
        t = np.arange(int(0.45 * RATE)) / RATE
        x[a:a + len(t)] += (0.4 * np.sin(2 * np.pi * (150 + 100 * i) * t) * np.exp(-12 * t))
    check_onsets(detect(x, block), true)


def test_silence_and_steady_tones_have_no_onsets():
    assert len(detect(np.zeros(RATE * 3, np.float32))) == 0
    t = np.arange(RATE * 3) / RATE
    assert len(detect((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))) == 0


def test_plans():
    assert plan_slices(1000, 100, "whole") == [(0, 1000)]
    assert plan_slices(1000, 100, "fixed", fixed_seconds=3) == [(0, 300), (300, 300),
                                                                 (600, 300), (900, 100)]
    assert plan_slices(1000, 100, "onsets", onsets=np.array([0, 200, 5000]),
                       max_seconds=1.5) == [(0, 150), (200, 150)]
