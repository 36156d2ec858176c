"""metrics.py: each measure on arrays whose answer we know."""

import numpy as np
import pytest

from instrument.errors import BadInput
from instrument.learn import metrics


def test_identity_map_is_perfect(rng):
    x = rng.normal(size=(300, 6))
    assert metrics.trustworthiness(x, x) == pytest.approx(1.0)
    assert metrics.continuity(x, 2 * x + 1) == pytest.approx(1.0)
    assert metrics.distance_spearman(x, 3 * x) == pytest.approx(1.0)


def test_random_map_is_near_half(rng):
    x, y = rng.normal(size=(400, 6)), rng.normal(size=(400, 6))
    assert 0.4 < metrics.trustworthiness(x, y) < 0.6
    assert 0.4 < metrics.continuity(x, y) < 0.6
    assert abs(metrics.distance_spearman(x, y)) < 0.1


def test_continuity_is_trustworthiness_swapped(rng):
    x = rng.normal(size=(200, 5))
    y = x[:, :2]  # a projection: continuity high, trustworthiness lower
    assert metrics.continuity(x, y) == pytest.approx(metrics.trustworthiness(y, x))
    assert metrics.continuity(x, y) > metrics.trustworthiness(x, y)


def test_coverage_counts_neighbourhoods():
    bank = np.arange(100, dtype=float)[:, None]  # sounds on a line
    # playing every 5th sound reaches every sound's 5-neighbourhood
    assert metrics.coverage(np.arange(0, 100, 5), bank, k=5) == pytest.approx(1.0)
    assert metrics.coverage(np.array([50]), bank, k=5) == pytest.approx(0.05)  # 48..52
    assert metrics.coverage_exact(np.array([0, 0, 3]), 100) == pytest.approx(0.02)


def test_stability_counts_only_still_frames():
    sounds = np.array([1, 2, 2, 2, 3, 3, 4])
    still = np.array([0, 0, 1, 1, 1, 0, 1], bool)
    # still frames 2,3,4,6: same as previous at 2,3; changed at 4,6
    assert metrics.stability(sounds, still) == pytest.approx(0.5)
    assert metrics.stability(sounds, np.zeros(7, bool)) == 1.0


def test_mapping_quality_has_model_and_baseline(rng):
    bank = rng.normal(size=(200, 3))
    played = rng.integers(0, 200, size=500)
    gesture = bank[played] + 0.01 * rng.normal(size=(500, 3))  # a faithful map
    res = metrics.mapping_quality(gesture, played, bank, frame_sounds=played,
                                  frame_still=np.ones(500, bool), seed=1)
    assert set(res["model"]) == set(res["random"]) == {
        "trustworthiness", "continuity", "spearman", "coverage", "coverage_exact", "stability"}
    assert res["model"]["trustworthiness"] > 0.95 > 0.6 > res["random"]["trustworthiness"]
    assert res["model"]["spearman"] > 0.9 > 0.2 > res["random"]["spearman"]
    again = metrics.mapping_quality(gesture, played, bank, seed=1)
    assert again["random"]["trustworthiness"] == res["random"]["trustworthiness"]


def test_bad_inputs_raise_one_line(rng):
    with pytest.raises(BadInput):
        metrics.trustworthiness(rng.normal(size=(10, 2)), rng.normal(size=(9, 2)))
    with pytest.raises(BadInput, match="more than"):
        metrics.trustworthiness(rng.normal(size=(12, 2)), rng.normal(size=(12, 2)))
    with pytest.raises(BadInput, match="outside"):
        metrics.mapping_quality(rng.normal(size=(30, 2)), np.full(30, 7), rng.normal(size=(5, 2)))
