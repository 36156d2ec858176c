"""The gesture features' fine-tuning for the descriptors pairing (learn/gesture_keeping.py):
the stress term, that it makes the features follow the descriptors, and that it is seeded."""

import numpy as np
import pytest

from instrument.config import GestureConfig, SAEConfig


def test_stress_is_zero_for_a_scaled_copy_and_grows_with_distortion(rng):
    import torch

    from instrument.learn.gesture_keeping import stress

    g = torch.from_numpy(rng.normal(size=(64, 5)).astype(np.float32))
    scaled = torch.cat([3.0 * g, torch.zeros(64, 7)], dim=1)   # same shape, other units
    assert float(stress(scaled, g)) < 1e-6
    bent = scaled + torch.from_numpy(rng.normal(scale=0.5, size=(64, 12)).astype(np.float32))
    shuffled = scaled[torch.randperm(64)]
    assert 0.0 < float(stress(bent, g)) < float(stress(shuffled, g))


@pytest.fixture(scope="module")
def windows():
    from instrument.gesture import steps
    from instrument.gesture.synthetic import synthesize

    w = steps.windows_from_recording(synthesize(60, seed=3), GestureConfig())
    return w[np.abs(w).sum(axis=1) > 0].astype(np.float32)


def _pretrained(windows):
    from instrument.learn.sae import StackedAutoencoder

    sae = StackedAutoencoder(windows.shape[1], SAEConfig(hidden=(64, 64), epochs=5, seed=1))
    sae.fit(windows)
    return sae


def test_keeping_makes_the_features_follow_the_descriptors(windows):
    from instrument.gesture.descriptors import describe_windows, gesture_space
    from instrument.learn import metrics
    from instrument.learn.gesture_keeping import keep_descriptors

    g = gesture_space(describe_windows(windows, GestureConfig()))
    sae = _pretrained(windows)
    before = sae.encode(windows)
    record = keep_descriptors(sae, windows, GestureConfig(), epochs=20)
    after = sae.encode(windows)
    rows = metrics.subsample(len(g), 600, 0)
    # distances in the features follow the descriptors' (measured: Spearman 0.26 -> 0.39),
    # and the features' neighbours are the descriptors' neighbours more often (0.869 -> 0.893)
    spearman = [metrics.distance_spearman(g[rows], f[rows]) for f in (before, after)]
    trust = [metrics.trustworthiness(g, f) for f in (before, after)]
    assert spearman[1] > spearman[0] + 0.08, spearman
    assert trust[1] > trust[0] + 0.01, trust
    assert len(record["stress"]) == 20 and record["stress"][-1] < record["stress"][0]
    assert sae.history["descriptor_keeping"] is record
    assert all(not p.requires_grad for layer in sae.layers for p in layer.parameters())


def test_keeping_is_seeded(windows):
    from instrument.learn.gesture_keeping import keep_descriptors

    a, b = _pretrained(windows), _pretrained(windows)
    keep_descriptors(a, windows, GestureConfig(), epochs=2)
    keep_descriptors(b, windows, GestureConfig(), epochs=2)
    np.testing.assert_array_equal(a.encode(windows), b.encode(windows))
