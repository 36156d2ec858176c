"""mapping.py: pairings and the mapping network on small synthetic feature spaces."""

import numpy as np
import pytest

from instrument.errors import BadInput
from instrument.learn import mapping, metrics


def _spaces(rng, n_gestures=900, n_sounds=600):
    """Two 3-D manifolds embedded nonlinearly in different feature spaces."""
    zg = rng.normal(size=(n_gestures, 3))
    gesture = np.tanh(zg @ rng.normal(size=(3, 24)) * 0.5)
    zs = rng.uniform(size=(n_sounds, 3))
    sound = 1 / (1 + np.exp(-(zs @ rng.normal(size=(3, 30)))))
    return gesture.astype(np.float32), sound.astype(np.float32)


def _quality(gesture, sound, pairs, seed=0):
    """Train on the first 700 windows, measure on the rest, searching where training does."""
    import torch
    from scipy.spatial import cKDTree

    torch.set_num_threads(1)
    search = mapping.whitened_axes(sound, 3)
    net = mapping.MappingMLP(gesture.shape[1], 3, hidden=48, seed=seed)
    net.fit(gesture[:700], search[pairs[:700]], epochs=25, seed=seed)
    _, played = cKDTree(search).query(net.predict(gesture[700:]))
    return metrics.mapping_quality(gesture[700:], played, search, seed=seed)


def test_structure_beats_random_on_trustworthiness(rng):
    gesture, sound = _spaces(rng)
    structure = _quality(gesture, sound, mapping.pair_structure(gesture, sound, dims=3))
    random = _quality(gesture, sound, mapping.pair_random(len(gesture), len(sound), seed=0))
    assert structure["model"]["trustworthiness"] > 0.9
    assert structure["model"]["trustworthiness"] > random["model"]["trustworthiness"] + 0.2
    assert structure["model"]["continuity"] > random["model"]["continuity"] + 0.1
    assert structure["model"]["coverage"] > random["model"]["coverage"]


def test_random_pairing_spreads_over_the_bank():
    pairs = mapping.pair_random(25, 10, seed=3)
    assert np.bincount(pairs, minlength=10).min() >= 2
    assert np.array_equal(pairs, mapping.pair_random(25, 10, seed=3))


def test_structure_pairing_keeps_order_and_spreads(rng):
    # 1-D: the pairing must be monotone (rank k of the gestures -> rank k of the sounds);
    # both sides skewed to the right, so the axes are oriented alike.
    gesture = rng.exponential(size=(200, 1))
    sound = rng.uniform(size=(400, 1)) ** 2
    pairs = mapping.pair_structure(gesture, sound, dims=1)
    order = np.argsort(gesture[:, 0])
    assert np.all(np.diff(sound[pairs[order], 0]) >= 0)
    assert len(np.unique(pairs)) > 150  # spread over the bank, not piled up
    assert sound[pairs].min() < 0.02 and sound[pairs].max() > 0.98


def test_quantile_match_is_monotone_per_axis(rng):
    src, dst = rng.normal(size=(50, 2)), rng.uniform(size=(80, 2))
    out = mapping.quantile_match(src, dst)
    for j in range(2):
        assert np.all(np.diff(out[np.argsort(src[:, j]), j]) >= 0)
        assert out[:, j].min() == dst[:, j].min() and out[:, j].max() == dst[:, j].max()


def _quantile_match_by_np_quantile(source, target):
    """The rule written with np.quantile, one column at a time (what quantile_match must equal)."""
    out = np.empty(source.shape, dtype=np.float64)
    ranks = np.empty(len(source))
    for j in range(source.shape[1]):
        ranks[np.argsort(source[:, j], kind="stable")] = np.arange(len(source))
        out[:, j] = np.quantile(target[:, j], ranks / max(len(source) - 1, 1))
    return out


@pytest.mark.parametrize("n_source,n_target", [(500, 700), (700, 500), (1, 9), (9, 1), (1, 1),
                                               (2, 2), (333, 333), (37, 1000)])
@pytest.mark.parametrize("kind", ["float64", "ties", "float32"])
def test_quantile_match_equals_np_quantile_exactly(rng, n_source, n_target, kind):
    source, target = rng.normal(size=(n_source, 3)), rng.normal(size=(n_target, 3)) * 5
    if kind == "ties":   # repeated values on both sides: stable ranks, equal neighbours
        source, target = np.round(source), np.round(target)
    if kind == "float32":
        source, target = source.astype(np.float32), target.astype(np.float32)
    want = _quantile_match_by_np_quantile(source, target)
    got = mapping.quantile_match(source, target)
    assert got.dtype == want.dtype == np.float64
    np.testing.assert_array_equal(got, want)   # bit for bit, q = 0 and q = 1 included
    ends = np.argsort(source, axis=0, kind="stable")[[0, -1]]
    for j in range(3):   # the lowest row gets the minimum, the highest the maximum (q = 1)
        assert got[ends[0, j], j] == target[:, j].min()
        assert n_source == 1 or got[ends[1, j], j] == target[:, j].max()


def test_quantile_match_follows_np_quantile_on_nan_and_inf(rng):
    source, target = rng.normal(size=(40, 3)), rng.normal(size=(50, 3))
    target[7, 0], target[3, 1] = np.nan, np.inf
    with np.errstate(invalid="ignore"):
        want = _quantile_match_by_np_quantile(source, target)
        got = mapping.quantile_match(source, target)
    np.testing.assert_array_equal(got, want)      # NaN where np.quantile gives NaN
    assert np.isnan(got[:, 0]).all() and not np.isnan(got[:, 2]).any()


def test_labels_pairing_respects_the_matching(rng):
    gesture, sound = _spaces(rng, 400, 300)
    g_labels = np.repeat([0, 1, -1], [150, 150, 100])
    s_labels = np.repeat([0, 1, 2], 100)
    pairs = mapping.pair_labels(gesture, sound, g_labels, s_labels, {0: 2, 1: 0}, dims=3)
    assert set(s_labels[pairs[:150]]) == {2}
    assert set(s_labels[pairs[150:300]]) == {0}
    with pytest.raises(BadInput, match="category"):
        mapping.pair_labels(gesture, sound, g_labels, s_labels, {0: 5})


def test_mlp_state_round_trip(rng):
    gesture, sound = _spaces(rng, 200, 100)
    net = mapping.MappingMLP(24, 30, hidden=16, activation="sigmoid")
    net.fit(gesture, sound[:100].repeat(2, 0), epochs=2)
    meta, arrays = net.to_state()
    again = mapping.MappingMLP.from_state(meta, arrays)
    np.testing.assert_allclose(again.predict(gesture), net.predict(gesture), atol=1e-6)


def test_bad_sizes_and_settings():
    with pytest.raises(BadInput, match="same size|l2"):
        mapping.check_l2_sizes(400, 300)
    mapping.check_l2_sizes(400, 400)
    with pytest.raises(BadInput, match="activation"):
        mapping.MappingMLP(3, 3, activation="softplus")
    net = mapping.MappingMLP(3, 2, hidden=4)
    with pytest.raises(BadInput, match="pairs"):
        net.fit(np.zeros((5, 3)), np.zeros((5, 3)))
