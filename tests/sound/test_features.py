"""Spectral features: single-sided FFT, bands, dB compression, raw option, sizes."""

from __future__ import annotations

import os

import numpy as np
import pytest

from instrument.config import FeatureConfig
from instrument.errors import BadInput
from instrument.sound.features import band_edges, feature_dim, spectral_features
from instrument.sound.fm import render_many

RATE = 22050


def sine(freq, amp=1.0, n=RATE, rate=RATE):
    return (amp * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.float32)


def test_raw_is_the_single_sided_fft_magnitude_scaled_to_amplitude():
    cfg = FeatureConfig(kind="raw", window="none", compression="none")
    feats = spectral_features(np.stack([sine(1000, 0.5), sine(440, 0.25)]), RATE, cfg)
    assert feats.shape == (2, RATE // 2 + 1) == (2, feature_dim(cfg, RATE, RATE))
    assert np.argmax(feats[0]) == 1000 and feats[0, 1000] == pytest.approx(0.5, abs=1e-4)
    assert np.argmax(feats[1]) == 440 and feats[1, 440] == pytest.approx(0.25, abs=1e-4)
    expected = np.abs(np.fft.rfft(sine(1000, 0.5).astype(np.float64))) * 2 / RATE
    np.testing.assert_allclose(feats[0], expected, atol=1e-4)


def test_bands_put_a_sine_in_its_band_at_0_db():
    cfg = FeatureConfig()  # 64 log bands, Hann, dB over 80 dB
    edges = band_edges(cfg, RATE, RATE)
    for freq in (100.0, 1000.0, 5000.0):
        feats = spectral_features(sine(freq), RATE, cfg)
        assert feats.shape == (64,) and feats.dtype == np.float32
        band = int(np.searchsorted(edges, freq, side="right")) - 1
        assert np.argmax(feats) == band
        assert feats[band] == pytest.approx(1.0, abs=0.05)  # full scale = 0 dB = 1.0
        assert 0.0 <= feats.min() and feats.max() <= 1.0
    # 20 dB quieter = 20/80 lower on the 0..1 scale
    quiet = spectral_features(sine(1000.0, 0.1), RATE, cfg)
    loud = spectral_features(sine(1000.0, 1.0), RATE, cfg)
    assert loud.max() - quiet.max() == pytest.approx(0.25, abs=0.01)


def test_sizes_are_configurable():
    assert spectral_features(np.zeros((3, 4410), np.float32), RATE,
                             FeatureConfig(n_bands=16)).shape == (3, 16)
    lin = band_edges(FeatureConfig(n_bands=10, band_scale="lin", min_hz=0, max_hz=1000), 2205,
                     RATE)
    assert len(lin) == 11 and np.all(np.diff(lin) >= 1) and lin[-1] == 100
    log = band_edges(FeatureConfig(n_bands=128), 2205, RATE)  # 10 Hz bins: low bands widened
    assert np.all(np.diff(log) >= 1)


def test_silence_is_zero_and_finite():
    feats = spectral_features(np.zeros((2, 1000), np.float32), RATE)
    assert np.all(feats == 0.0)


def test_golden_features():
    from golden.make_golden import MANY

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    expected = np.load(os.path.join(here, "golden", "features_bands.npy"), allow_pickle=False)
    feats = spectral_features(render_many(MANY, RATE, RATE, workers=1), RATE, FeatureConfig())
    np.testing.assert_allclose(feats, expected, atol=1e-3)


def test_bad_input():
    with pytest.raises(BadInput, match="do not fit"):
        band_edges(FeatureConfig(n_bands=500), 200, RATE)
    with pytest.raises(BadInput, match="audio must be"):
        spectral_features(np.zeros((2, 2, 2)), RATE)
    with pytest.raises(BadInput, match="rate"):
        spectral_features(np.zeros(100), -5)
    with pytest.raises(BadInput, match="kind"):
        FeatureConfig(kind="mfcc")
    with pytest.raises(BadInput, match="max_hz"):
        FeatureConfig(min_hz=100, max_hz=50)
