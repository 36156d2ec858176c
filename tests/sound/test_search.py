"""sound/search.py: the k-d tree search gives the brute-force answer, with categories and k."""

import numpy as np
import pytest

from instrument.errors import BadInput
from instrument.sound import search as search_mod
from instrument.sound.search import SoundSearch


@pytest.fixture(scope="module")
def bank():
    rng = np.random.default_rng(0)
    points = rng.standard_normal((20000, 4)).astype(np.float32)
    groups = rng.integers(-1, 3, len(points))
    queries = rng.standard_normal((300, 4)).astype(np.float32) * 1.5
    return points, groups, queries


def brute(points, y, allowed=None):
    d = ((points.astype(np.float64) - y) ** 2).sum(1)
    if allowed is not None:
        d[~allowed] = np.inf
    return d


def test_tree_is_used_for_large_low_dimensional_banks(bank):
    points, _, _ = bank
    assert SoundSearch(points).uses_tree
    assert not SoundSearch(points[:1000]).uses_tree
    assert not SoundSearch(np.zeros((20000, 40), np.float32)).uses_tree


@pytest.mark.parametrize("n", [1000, 20000])  # brute-force and tree paths
def test_nearest_and_k_nearest_are_exact(bank, n):
    points, _, queries = bank
    points = points[:n]
    search = SoundSearch(points)
    for y in queries:
        d = brute(points, y)
        index, sq = search.nearest(y)
        # float32 rounding may swap exact ties; the distance found must be the minimum
        assert sq == pytest.approx(d.min(), rel=1e-5, abs=1e-9)
        assert d[index] == pytest.approx(d.min(), rel=1e-5, abs=1e-9)
        near, sqs = search.k_nearest(y, 5)
        np.testing.assert_allclose(sqs, np.sort(d)[:5], rtol=1e-5, atol=1e-9)
        assert np.all(np.diff(sqs) >= 0)
        np.testing.assert_allclose(d[near], sqs, rtol=1e-5, atol=1e-9)
        assert search.sq_distance(y, 7) == pytest.approx(d[7], rel=1e-6)


@pytest.mark.parametrize("n", [1000, 20000])
def test_categories_restrict_the_search_exactly(bank, n):
    points, groups, queries = bank
    points, groups = points[:n], groups[:n]
    search = SoundSearch(points, groups)
    for g in (0, 1, 2):
        inside = groups == g
        for y in queries[:50]:
            d = brute(points, y, inside)
            index, sq = search.nearest(y, g)
            assert inside[index] and sq == pytest.approx(d.min(), rel=1e-5)
            near, _ = search.k_nearest(y, 3, g)
            assert inside[near].all()
        assert search.allowed(int(np.flatnonzero(inside)[0]), g)
        assert not search.allowed(int(np.flatnonzero(~inside)[0]), g)
    # no category, or one with no sounds: the whole bank
    y = queries[0]
    assert search.nearest(y, None)[1] == pytest.approx(brute(points, y).min(), rel=1e-5)
    assert search.nearest(y, 9)[1] == pytest.approx(brute(points, y).min(), rel=1e-5)
    rows = search.nearest_batch(queries, np.full(len(queries), 1))
    assert (groups[rows] == 1).all()


def test_every_path_of_a_large_bank_is_exact():
    # 40000 sounds: the closest sound comes from the tree alone (above PRODUCT_MAX_SOUNDS), and
    # the tree, built on its points in leaf order, maps its rows back to the bank's indices
    rng = np.random.default_rng(5)
    points = rng.standard_normal((40000, 3)).astype(np.float32)
    groups = rng.integers(0, 2, len(points))
    search = SoundSearch(points, groups)
    assert search._all.aug_t is None and search.whole_tree() and not search.whole_tree(0)
    for y in rng.standard_normal((60, 3)).astype(np.float32):
        d = brute(points, y)
        index, sq = search.nearest(y)
        assert d[index] == pytest.approx(d.min(), rel=1e-9) and sq == pytest.approx(d.min(), rel=1e-9)
        near, sqs = search.k_nearest(y, 49)
        np.testing.assert_allclose(d[near], sqs, rtol=1e-9)
        np.testing.assert_allclose(sqs, np.sort(d)[:49], rtol=1e-9)
        inside = groups == 1
        near, sqs = search.k_nearest(y, 7, 1)
        assert inside[near].all()
        np.testing.assert_allclose(sqs, np.sort(brute(points, y, inside))[:7], rtol=1e-9)
    rows = search.nearest_batch(points[:50] + 1e-4)
    d = ((points[None, :, :].astype(np.float64) - (points[:50, None, :] + 1e-4)) ** 2).sum(2)
    np.testing.assert_allclose(d[np.arange(50), rows], d.min(1), rtol=1e-9)


def test_batch_equals_single_queries(bank):
    points, _, queries = bank
    search = SoundSearch(points)
    rows = search.nearest_batch(queries)
    d = ((points[None, :, :].astype(np.float64) - queries[:, None, :]) ** 2).sum(2)
    np.testing.assert_allclose(d[np.arange(len(queries)), rows], d.min(1), rtol=1e-5)


def test_k_larger_than_the_bank_returns_every_sound():
    search = SoundSearch(np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]], np.float32))
    near, sq = search.k_nearest(np.array([0.9, 0.0], np.float32), 10)
    assert list(near) == [1, 0, 2]
    np.testing.assert_allclose(sq, [0.01, 0.81, 4.41], rtol=1e-5)


def test_bad_points_are_refused():
    with pytest.raises(BadInput):
        SoundSearch(np.zeros((0, 4), np.float32))
    with pytest.raises(BadInput):
        SoundSearch(np.zeros((5, 4), np.float32), groups=np.zeros(3, np.int64))
    assert search_mod.TREE_MIN_SOUNDS < 20000
