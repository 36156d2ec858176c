"""Sound descriptors against values known in closed form (sine, white noise, gain steps)."""

import numpy as np
import pytest

from instrument.errors import BadInput
from instrument.sound.descriptors import SOUND_DESCRIPTORS, describe_audio, describe_params, descriptor_space

RATE = 22050
T = np.arange(RATE) / RATE
COL = {name: i for i, name in enumerate(SOUND_DESCRIPTORS)}


def sine(hz, amp=1.0):
    return amp * np.sin(2 * np.pi * hz * T)


@pytest.mark.parametrize("hz", [110.0, 440.0, 1500.0])
def test_a_sines_centroid_and_pitch_are_its_frequency(hz):
    d = describe_audio(sine(hz), RATE)
    # a Hann window's main lobe is symmetric about the sine: centroid within 0.5% (float32 FFT)
    assert d[COL["centroid_hz"]] == pytest.approx(hz, rel=5e-3)
    assert d[COL["pitch_hz"]] == pytest.approx(hz, rel=5e-3)
    assert d[COL["spread_hz"]] < 20          # the main lobe only: a few bins of 5.4 Hz
    assert d[COL["flatness"]] < 1e-3
    assert d[COL["roughness"]] == pytest.approx(0.0, abs=1e-6)


def test_a_full_scale_sine_is_0_db_and_a_6_db_step_is_6_db():
    loud = describe_audio(np.stack([sine(440), sine(440, 0.5), sine(440, 0.25)]), RATE)[:, 0]
    assert loud[0] == pytest.approx(0.0, abs=0.01)
    assert loud[0] - loud[1] == pytest.approx(20 * np.log10(2), abs=0.01)
    assert loud[1] - loud[2] == pytest.approx(20 * np.log10(2), abs=0.01)


def test_white_noise_is_flat_and_bright():
    noise = np.random.default_rng(0).normal(size=(3, RATE)) * 0.1
    d = describe_audio(noise, RATE)
    # 10 averaged Hann periodograms: E[geometric / arithmetic mean] ~ exp(psi(10) - ln 10) = 0.95
    assert np.all(d[:, COL["flatness"]] > 0.9)
    # flat power from 20 Hz to Nyquist: centroid at the middle, spread (Nyquist-20)/sqrt(12)
    assert d[:, COL["centroid_hz"]] == pytest.approx(np.full(3, (RATE / 2 + 20) / 2), rel=0.02)
    assert d[:, COL["spread_hz"]] == pytest.approx(np.full(3, (RATE / 2 - 20) / 12 ** 0.5),
                                                   rel=0.02)


def test_a_harmonic_tone_has_its_fundamental_as_pitch():
    tone = sum(sine(110 * k) / k for k in range(1, 8))
    d = describe_audio(tone, RATE)
    assert d[COL["pitch_hz"]] == pytest.approx(110, rel=5e-3)
    assert d[COL["centroid_hz"]] > 150       # brighter than its fundamental


def test_close_partials_are_rougher_than_an_octave():
    beating = describe_audio(sine(440) + sine(466), RATE)[COL["roughness"]]
    octave = describe_audio(sine(440) + sine(880), RATE)[COL["roughness"]]
    # Sethares' curve for two equal partials: ~0.18 at 26 Hz apart near 440, ~0 at an octave
    assert beating > 0.1
    assert octave < 0.02


def test_silence_reads_the_floor():
    d = describe_audio(np.zeros(RATE), RATE)
    assert d.tolist() == pytest.approx([-100.0, 0, 0, 0, 1, 0])


def test_bad_audio_is_one_line():
    with pytest.raises(BadInput, match="64 samples"):
        describe_audio(np.zeros(10), RATE)
    with pytest.raises(BadInput, match="NaN"):
        describe_audio(np.full(100, np.nan), RATE)
    with pytest.raises(BadInput, match="rate"):
        describe_audio(np.zeros(100), 0)


def test_fm_params_render_and_describe():
    d = describe_params(np.array([[440.0, 1.0, 0.0, 1.0], [440.0, 1.0, 0.0, 0.5]]), 0.5, RATE)
    assert d[:, COL["pitch_hz"]] == pytest.approx([440, 440], rel=5e-3)
    assert d[0, 0] - d[1, 0] == pytest.approx(6.02, abs=0.01)


def test_descriptor_space_is_standardised_in_octaves():
    d = describe_audio(np.stack([sine(110), sine(220), sine(440)]), RATE)
    space = descriptor_space(d)
    assert space.mean(axis=0) == pytest.approx(np.zeros(6), abs=1e-9)
    # octaves are equal steps in log2 pitch
    assert np.diff(space[:, COL["pitch_hz"]]) == pytest.approx(np.full(2, 1.2247), rel=1e-3)
