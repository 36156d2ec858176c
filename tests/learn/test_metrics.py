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


# --- our numpy figures against the libraries that define them --------------------------------

@pytest.mark.parametrize("n, dx, dy, k", [(120, 6, 2, 5), (400, 40, 5, 10), (300, 3, 30, 10)])
def test_trustworthiness_and_continuity_equal_sklearns(rng, n, dx, dy, k):
    sk = pytest.importorskip("sklearn.manifold")
    x = rng.normal(size=(n, dx))
    y = x[:, :min(dx, dy)] @ rng.normal(size=(min(dx, dy), dy)) + 0.5 * rng.normal(size=(n, dy))
    assert metrics.trustworthiness(x, y, k) == pytest.approx(sk.trustworthiness(x, y, n_neighbors=k),
                                                             abs=1e-12)
    assert metrics.continuity(x, y, k) == pytest.approx(sk.trustworthiness(y, x, n_neighbors=k),
                                                        abs=1e-12)
    (trust, cont), = metrics.neighbourhood_figures(x, [y], k)
    assert (trust, cont) == (metrics.trustworthiness(x, y, k), metrics.continuity(x, y, k))


def test_ties_are_shared_not_broken_by_order(rng):
    """Many windows playing one sound: a random map scores chance (0.5) on average, whatever
    order the tied sounds come in; the figure does not change when the rows are permuted."""
    bank = rng.normal(size=(40, 3))
    x = rng.normal(size=(600, 8))
    figures = []
    for seed in range(3):
        played = np.random.default_rng(seed).integers(0, 40, 600)   # ~15 windows per sound
        figures.append(metrics.trustworthiness(x, bank[played]))
        order = np.random.default_rng(seed + 10).permutation(600)
        assert metrics.trustworthiness(x[order], bank[played][order]) == pytest.approx(
            figures[-1], abs=1e-12)
    assert np.mean(figures) == pytest.approx(0.5, abs=0.01)


def test_spearman_equals_scipys_with_and_without_ties(rng):
    stats = pytest.importorskip("scipy.stats")
    from scipy.spatial.distance import pdist

    a = rng.normal(size=3000)
    b = a + rng.normal(size=3000)
    b[::3] = 1.0                        # a third tied
    assert metrics.spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)
    x, y = rng.normal(size=(150, 4)), rng.integers(0, 5, size=(150, 2)).astype(float)
    assert metrics.distance_spearman(x, y) == pytest.approx(
        stats.spearmanr(pdist(x), pdist(y)).statistic, abs=1e-12)
    np.testing.assert_array_equal(metrics.average_ranks(np.array([3.0, 1.0, 3.0, 2.0])),
                                  [3.5, 1.0, 3.5, 2.0])
