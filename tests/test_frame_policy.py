"""The frame policy: the default instrument glides (smoothed point, continuous blend, density
hysteresis), bundles without the new keys play as before, and every frame is alias-free."""

import numpy as np
import pytest
from tiny_model import tiny_parts

from instrument.errors import BadInput, ModelFileError
from instrument.formats.bundle import Bundle
from instrument.frame_policy import (
    Blender,
    PointGlide,
    UnitOf,
    bank_spacing,
    blend_params,
    most_alike,
    nearest_spacing,
    spacing_from_neighbours,
)
from instrument.runtime import Runtime
from instrument.sound.params import PARAM_TABLE, PERFORMANCE_RATE, carson_bandwidth
from instrument.sound.search import SoundSearch


@pytest.fixture(scope="module")
def parts():
    return tiny_parts(seed=4)


def _controlled(parts, points, glide=1.0, blend_k=1, spacing=0.0, hysteresis=0.0):
    """A runtime on a hand-made 2-D bank whose mapped point is set by hand."""
    config, arrays, _ = parts
    rt = Runtime(Bundle("(test)", config, arrays))
    rt._search = rt.bank_search = np.asarray(points, np.float32)
    rt.search = SoundSearch(rt._search)
    rt.n_sounds = len(points)
    rt._fused = None
    rt.glide, rt.blend_k, rt.hysteresis, rt.hysteresis_spacing = glide, blend_k, hysteresis, spacing
    rt.like_tolerance = 0.0   # the plain closest sound on a change unless a test says
    rt._spacing = bank_spacing(rt._search) if spacing else None
    rt._glider = PointGlide(2)
    rt._target_aug = np.array([0, 0, 1], np.float32)
    point = rt._target = rt._target_aug[:-1]
    rt.target = lambda w: point
    rt.reset()
    return rt, point, np.ones(rt.window_dim, np.float32)


def test_new_models_glide_by_default(parts):
    rt = Runtime(Bundle("(test)", *parts[:2]))
    assert rt.glide == pytest.approx(0.2) and rt.hysteresis_spacing == 0.5 and rt.blend_k == 48


def test_bundles_without_the_glide_keys_play_the_plain_rule(parts):
    config = {**parts[0], "runtime": dict(parts[0]["runtime"])}
    for key in ("glide", "hysteresis_spacing", "like_tolerance"):
        del config["runtime"][key]
    config["runtime"]["blend_k"] = 1
    rt = Runtime(Bundle("(test)", config, parts[1]))
    assert rt.glide == 1.0 and rt._spacing is None
    windows = parts[2]["windows"][:40]
    moving = windows[np.any(windows[:, -3:] != 0, axis=1)]
    rt.hysteresis = 0.0
    rt.reset()
    assert [rt.frame(w)[0] for w in moving] == list(rt.nearest_batch(moving))


@pytest.mark.parametrize("bad", [0, 1.5, "0.2", True, float("nan")])
def test_a_bad_glide_in_a_bundle_is_one_line(parts, bad):
    config = {**parts[0], "runtime": {**parts[0]["runtime"], "glide": bad}}
    with pytest.raises(ModelFileError, match="runtime.glide"):
        Runtime(Bundle("(test)", config, parts[1]))


def test_glide_moves_the_point_a_share_of_the_way(parts):
    rt, point, window = _controlled(parts, [[0, 0], [1, 0]], glide=0.25)
    point[:] = (0, 0)
    assert rt.frame(window)[0] == 0
    for expected in (0.25, 0.4375, 0.578125):  # 1 - 0.75 ** n of the way to x = 1
        point[:] = (1, 0)
        rt.frame(window)
        assert rt._glider.point[0] == pytest.approx(expected)
    assert rt.frame(window)[0] == 1  # 0.68 of the way: b is closer now
    rt.reset()
    point[:] = (1, 0)
    assert rt.frame(window)[0] == 1  # after reset the first frame starts at the point


def test_hysteresis_margin_follows_local_density(parts):
    # a dense pair (0, 0.1) and a sparse sound at 3: margin = 0.5 x nearest-neighbour distance
    rt, point, window = _controlled(parts, [[0, 0], [0.1, 0], [3, 0]], spacing=0.5)
    point[:] = (0, 0)
    assert rt.frame(window)[0] == 0
    point[:] = (0.09, 0)   # d_b 0.01 < d_a 0.09 - 0.05: switch inside the dense region
    assert rt.frame(window)[0] == 1
    point[:] = (1.56, 0)   # closer to 3 (1.44 vs 1.46), but not by the margin 0.05: stay
    assert rt.frame(window)[0] == 1
    point[:] = (1.6, 0)    # 1.4 < 1.5 - 0.05: switch
    assert rt.frame(window)[0] == 2
    point[:] = (1.0, 0)    # back: 0.9 vs 2.0, the sparse sound's margin is 1.45: stay
    assert rt.frame(window)[0] == 2
    point[:] = (0.5, 0)    # 0.4 < 2.5 - 1.45: switch
    assert rt.frame(window)[0] == 1


def test_blend_is_continuous_where_the_closest_sound_jumps():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(300, 2))
    unit = rng.uniform(size=(300, 4)).astype(np.float32)
    search = SoundSearch(points.astype(np.float32))
    path = np.column_stack([np.linspace(-2, 2, 4001), np.zeros(4001)]).astype(np.float32)
    blended, nearest = [], []
    for y in path:
        near, sq = search.k_nearest(y, 9)
        blended.append(PARAM_TABLE.to_unit(blend_params(near, sq, unit, PARAM_TABLE)))
        nearest.append(unit[near[0]])
    step_blend = np.abs(np.diff(np.array(blended), axis=0)).max()
    step_nearest = np.abs(np.diff(np.array(nearest), axis=0)).max()
    assert step_nearest > 0.3       # the closest sound leaps
    assert step_blend < 0.02        # the interpolation glides (0.001 steps along the path)


def test_still_frames_hold_the_blend_and_frames_are_alias_free(parts):
    rt = Runtime(Bundle("(test)", *parts[:2]))
    windows = parts[2]["windows"]
    moving = windows[np.any(windows[:, -3:] != 0, axis=1)]
    still = windows[np.all(windows[:, -3:] == 0, axis=1)]
    rt.reset()
    _, params = rt.frame(moving[0])
    last = params.copy()
    _, held = rt.frame(still[0])
    np.testing.assert_array_equal(held, last)  # no jump when the hand stops
    _, played = rt.play(windows)
    assert carson_bandwidth(played.astype(np.float64)).max() <= PERFORMANCE_RATE / 2 * 1.0001


def test_an_aliasing_bank_is_capped_when_loaded(parts):
    config, arrays, _ = parts
    bank = dict(arrays["sound_bank"])
    unit = np.array(bank["params_unit"])
    unit[0] = (1.0, 1.0, 1.0, 1.0)  # 2000 Hz, ratio 8, index 10: a 352 kHz band
    bank["params_unit"] = unit.astype(np.float32)
    rt = Runtime(Bundle("(test)", config, {**arrays, "sound_bank": bank}))
    assert carson_bandwidth(rt.bank_params.astype(np.float64)).max() <= PERFORMANCE_RATE / 2 * 1.0001
    np.testing.assert_allclose(rt.table.to_physical(rt.bank_params_unit), rt.bank_params, rtol=1e-4)


def test_blender_equals_the_general_rule_with_and_without_the_nyquist_cap():
    rng = np.random.default_rng(2)
    unit = rng.uniform(size=(500, 4))
    unit[:250, :3] = rng.uniform(0.7, 1.0, size=(250, 3))   # bright FM: most blends alias
    blender = Blender(unit.astype(np.float32), PARAM_TABLE)
    search = SoundSearch(rng.normal(size=(500, 3)).astype(np.float32))
    capped = 0
    for y in rng.normal(size=(300, 3)).astype(np.float32):
        for k in (1, 2, 49):
            near, sq = search.k_nearest(y, k)
            fast = blender(near, sq)
            slow = blend_params(near, sq, unit.astype(np.float32), PARAM_TABLE)
            np.testing.assert_allclose(fast, slow, rtol=1e-12)
            assert carson_bandwidth(fast).max() <= PERFORMANCE_RATE / 2
            # the blend's band before the cap: the cap's branch is taken often
            d = np.sqrt(sq)
            w = (d[-1] - d[:-1] + 1e-9 * (d[-1] + 1)) if k > 1 else np.ones(1)
            mixed = w @ blender.unit[near[:len(w)]] / w.sum()
            capped += carson_bandwidth(PARAM_TABLE.to_physical(mixed)) > PERFORMANCE_RATE / 2
    assert capped > 100


def test_spacing_from_neighbours_equals_the_bank_spacing():
    rng = np.random.default_rng(3)
    points = rng.normal(size=(6000, 3)).astype(np.float32)
    search, spacing = SoundSearch(points), bank_spacing(points)
    assert search.whole_tree()
    proved = 0
    for y in rng.normal(size=(300, 3)).astype(np.float32):
        near, sq = search.k_nearest(y, 49)
        value = spacing_from_neighbours(points, near, sq)
        if value is not None:
            proved += 1
            assert value == pytest.approx(spacing[near[0]], rel=1e-12)
    assert proved > 250            # the neighbours of a blend nearly always prove it
    near, sq = search.k_nearest(points[0], 2)   # too few neighbours to prove anything
    assert spacing_from_neighbours(points, near, sq) is None
    # y's closest sound A at 1, A's own neighbour at 1.3 beyond it, 48 sounds at 1.1 on y's
    # other side: the neighbours of y miss A's neighbour, and must not claim a spacing
    ring = np.column_stack([-1.1 * np.ones(48), np.zeros((48, 2))])
    trap = np.vstack([[[1.0, 0, 0], [1.3, 0, 0]], ring, 50 + points]).astype(np.float32)
    search = SoundSearch(trap)
    near, sq = search.k_nearest(np.zeros(3, np.float32), 49)
    assert near[0] == 0 and 1 not in near
    assert spacing_from_neighbours(trap, near, sq) is None


def test_unit_of_is_to_unit_bit_for_bit():
    rng = np.random.default_rng(4)
    physical = PARAM_TABLE.to_physical(rng.uniform(-0.1, 1.1, (5000, 4))).astype(np.float32)
    convert, out = UnitOf(PARAM_TABLE), np.empty(4, np.float32)
    expected = PARAM_TABLE.to_unit(physical).astype(np.float32)
    for row, want in zip(physical, expected):
        convert(row, out)
        np.testing.assert_array_equal(out, want)


def test_one_search_per_frame_plays_the_rule_written_out(parts):
    # a 6000-sound bank (the k-d tree), the default policy: glide, blend 48, density hysteresis
    config, arrays, extra = parts
    rng = np.random.default_rng(5)
    bank = dict(arrays["sound_bank"])
    d = bank["search"].shape[1]
    bank["search"] = rng.standard_normal((6000, d)).astype(np.float32)
    bank["params_unit"] = rng.random((6000, 4), np.float32)
    bank.pop("sound_labels", None)
    rt = Runtime(Bundle("(test)", config, {**arrays, "sound_bank": bank}))
    assert rt.search.whole_tree() and rt.blend_k == 48 and rt.hysteresis_spacing > 0
    windows = extra["windows"]
    moving = windows[np.any(windows[:, -3:] != 0, axis=1)]
    moving = moving[rng.integers(0, len(moving), 400)]
    # the rule with its separate questions: the closest sound, its spacing, the k + 1 closest
    glide, spacing, cache = PointGlide(d), bank_spacing(rt._search), np.full(6000, np.nan)
    current, sounds, params = -1, [], []
    for y in rt.targets_batch(moving):
        glide(y, rt.glide)
        best, d_best = rt.search.nearest(y)
        if current >= 0 and best != current:
            margin = rt.hysteresis_spacing * nearest_spacing(rt.search, rt._search, cache, current)
            if np.sqrt(d_best) < (1 - rt.hysteresis) * np.sqrt(rt.search.sq_distance(y, current)) \
                    - margin:
                current = best
        else:
            current = best
        sounds.append(current)
        params.append(blend_params(*rt.search.k_nearest(y, 49), rt.bank_params_unit, rt.table))
    got_sounds, got_params = rt.play(moving)
    assert list(got_sounds) == sounds and len(set(sounds)) > 5
    np.testing.assert_allclose(got_params, np.array(params), rtol=1e-5)
    known = ~np.isnan(rt._spacing)
    np.testing.assert_allclose(rt._spacing[known], spacing[known], rtol=1e-12)


def test_most_alike_takes_the_sound_made_like_the_current_among_the_nearly_closest():
    unit = np.array([[0.5, 0.5, 0.5, 0.5],    # 0: the current sound
                     [0.9, 0.1, 0.5, 0.5],    # 1: closest, made differently
                     [0.55, 0.5, 0.5, 0.5],   # 2: a little farther, made like the current
                     [0.5, 0.5, 0.5, 0.5]])   # 3: made exactly like it, but far
    near, sq = np.array([1, 2, 3]), np.array([1.0, 1.44, 9.0])   # distances 1, 1.2, 3
    assert most_alike(near, sq, 0, unit, 0.5) == 2       # 1.2 <= 1.5: in; 3 is out
    assert most_alike(near, sq, 0, unit, 0.1) == 1       # only the closest within 1.1
    assert most_alike(near, sq, 0, unit, 2.5) == 3       # 3 <= 3.5: the identical one
    assert most_alike(near, sq, -1, unit, 0.5) == 1      # nothing playing yet: the closest
    assert most_alike(near, sq, 0, unit, 0.0) == 1       # tolerance 0: the plain rule
    # a tie in the parameters goes to the closer sound
    assert most_alike(np.array([2, 1]), np.array([1.0, 1.0]), 0, unit[[0, 2, 2]], 1.0) == 2


def test_one_sound_played_changes_to_the_most_alike_in_the_frame_path(parts):
    points = [(-2.0, 0.0), (1.0, 0.0), (1.0, 1.1)]
    rt, point, window = _controlled(parts, points)
    unit = np.array([[0.5] * 4, [0.95, 0.05, 0.9, 0.5], [0.52, 0.5, 0.5, 0.5]], np.float32)
    rt.bank_params_unit = unit
    rt.bank_params = rt.table.to_physical(unit).astype(np.float32)
    point[:] = (-2.0, 0.0)
    assert rt.frame(window)[0] == 0
    point[:] = (1.0, 0.5)            # closest: 1 at 0.5; 2 at 0.6 is made like sound 0
    rt.like_tolerance = 0.5
    sound, params = rt.frame(window)
    assert sound == 2
    np.testing.assert_array_equal(params, rt.bank_params[2])   # played as it is
    rt.reset()
    point[:] = (-2.0, 0.0)
    rt.frame(window)
    point[:] = (1.0, 0.5)
    rt.like_tolerance = 0.1          # 0.6 > 1.1 * 0.5: only the closest is a candidate
    assert rt.frame(window)[0] == 1
    rt.reset()
    rt.blend_k, rt.like_tolerance = 2, 0.5   # a blend chooses by distance alone
    point[:] = (-2.0, 0.0)
    rt.frame(window)
    point[:] = (1.0, 0.5)
    assert rt.frame(window)[0] == 1


def test_the_blend_and_glide_are_chosen_by_pairing_unless_set():
    from instrument.config import TrainConfig
    from instrument.learn.training import blend_for, glide_for

    assert blend_for(TrainConfig()) == 1                         # descriptors: heard as chosen
    assert blend_for(TrainConfig(pairing="structure")) == 48     # feature spaces: glide
    assert blend_for(TrainConfig(blend_k=8)) == 8
    assert glide_for(TrainConfig()) == 0.5 and glide_for(TrainConfig(glide=0.5)) == 0.5
    assert glide_for(TrainConfig(pairing="random")) == 0.2
    with pytest.raises(BadInput, match="like_tolerance"):
        TrainConfig(like_tolerance=-1)


@pytest.mark.parametrize("bad", [-0.5, 101, "1", True])
def test_a_bad_like_tolerance_in_a_bundle_is_one_line(parts, bad):
    config = {**parts[0], "runtime": {**parts[0]["runtime"], "like_tolerance": bad}}
    with pytest.raises(ModelFileError, match="like_tolerance"):
        Runtime(Bundle("(test)", config, parts[1]))
