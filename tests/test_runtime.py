"""runtime.py: the numpy play path equals the torch networks, holds still, and never imports torch."""

import subprocess
import sys

import numpy as np
import pytest
from tiny_model import tiny_parts

from instrument.formats.bundle import Bundle, save_bundle
from instrument.runtime import Runtime
from instrument.sound.search import SoundSearch


@pytest.fixture(scope="module")
def parts():
    return tiny_parts(seed=1)


@pytest.fixture
def runtime(parts):
    """The plain closest-sound rule (no glide, no blend, share-only hysteresis), as in
    bundles from before the glide default: the rule tests below are about it."""
    config, arrays, _ = parts
    rt = Runtime(Bundle("(test)", config, arrays))
    rt.glide, rt.blend_k, rt._spacing, rt.like_tolerance = 1.0, 1, None, 0.0
    return rt


def _torch_targets(parts, windows):
    config, arrays, models = parts
    feats = models["gesture_sae"].encode(windows)
    if models["mapping"] is not None:
        return models["mapping"].predict(feats)  # the network lands in the search space
    bank = arrays["sound_bank"]
    return (feats - bank["search_mean"]) @ bank["search_axes"]


def test_numpy_forward_equals_torch(parts, runtime):
    windows = parts[2]["windows"][:50]
    expected = _torch_targets(parts, windows)
    np.testing.assert_allclose(runtime.targets_batch(windows), expected, atol=1e-5)
    for i in range(5):
        np.testing.assert_allclose(runtime.target(windows[i]), expected[i], atol=1e-5)
    np.testing.assert_allclose(runtime.features(windows[0]),
                               parts[2]["gesture_sae"].encode(windows[:1])[0], atol=1e-5)


def test_l2_runtime_equals_direct_comparison():
    config, arrays, models = tiny_parts(seed=2, mapping="l2")
    rt = Runtime(Bundle("(test)", config, arrays))
    windows = models["windows"][:40]
    g = models["gesture_sae"].encode(windows)
    s = models["sound_sae"].encode(arrays["sound_bank"]["features"])
    nearest = np.argmin(((g[:, None, :] - s[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(rt.nearest_batch(windows), nearest)


def test_frame_picks_the_closest_sound_with_hysteresis(runtime, parts):
    windows = parts[2]["windows"]
    moving = windows[np.any(windows[:, -3:] != 0, axis=1)][:30]
    runtime.reset()
    runtime.hysteresis = 0.0
    for w in moving:
        sound, params = runtime.frame(w)
        assert sound == runtime.nearest_batch(w[None])[0]
        np.testing.assert_array_equal(params, runtime.bank_params[sound])
    # With a huge margin the first sound is never left.
    runtime.reset()
    runtime.hysteresis = 0.999
    first, _ = runtime.frame(moving[0])
    assert all(runtime.frame(w)[0] == first for w in moving[1:])


def test_fused_frame_equals_the_general_path(parts):
    config, arrays, models = parts
    fused, general = (Runtime(Bundle("(test)", config, arrays)) for _ in range(2))
    assert fused._fused is not None
    general._fused = None
    for w in models["windows"][:100]:
        a, pa = fused.frame(w)
        b, pb = general.frame(w)
        assert a == b
        np.testing.assert_array_equal(pa, pb)
    np.testing.assert_allclose(fused._target, general._target, atol=1e-6)


def test_hysteresis_switches_only_past_the_margin(runtime):
    # A controlled bank: sounds a=(0,0) and b=(1,0); the target point is placed by hand.
    runtime._search = runtime.bank_search = np.array([[0, 0], [1, 0]], np.float32)
    runtime.search = SoundSearch(runtime._search)
    runtime._fused = None  # the general path, with target() replaced below
    runtime.hysteresis = 0.2
    runtime._target_aug = np.array([0, 0, 1], np.float32)  # frame() searches with [y, 1]
    point = runtime._target = runtime._target_aug[:-1]
    runtime.target = lambda w: point
    window = np.ones(runtime.window_dim, np.float32)  # moving, so no still hold
    runtime.reset()
    assert runtime.frame(window)[0] == 0
    point[:] = (0.52, 0)  # closer to b, but not by 20 %: stay on a
    assert runtime.frame(window)[0] == 0
    point[:] = (0.6, 0)   # d_b = 0.4 < 0.8 * 0.6: switch
    assert runtime.frame(window)[0] == 1
    point[:] = (0.48, 0)  # back towards a, inside the margin: stay on b
    assert runtime.frame(window)[0] == 1
    runtime.hysteresis = 0.0
    assert runtime.frame(window)[0] == 0


def test_still_pointer_holds_the_sound(runtime, parts):
    windows = parts[2]["windows"]
    still = windows[np.all(windows[:, -3:] == 0, axis=1)]
    moving = windows[np.any(windows[:, -3:] != 0, axis=1)]
    assert runtime.is_still(still[0]) and not runtime.is_still(moving[0])
    runtime.reset()
    held, _ = runtime.frame(moving[0])
    assert all(runtime.frame(w)[0] == held for w in still[:20])
    runtime.reset()
    assert runtime.frame(still[0])[0] == runtime.nearest_batch(still[:1])[0]  # nothing to hold yet


def test_play_is_deterministic_and_blend_stays_in_range(parts):
    config, arrays, models = parts
    rt = Runtime(Bundle("(test)", config, arrays))
    s1, p1 = rt.play(models["windows"])
    s2, p2 = rt.play(models["windows"])
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(p1, p2)
    rt.blend_k = 4
    _, blended = rt.play(models["windows"][:20])
    low, high = rt.table.low, rt.table.high
    assert np.all(blended >= low - 1e-4) and np.all(blended <= high + 1e-4)


def test_runtime_imports_no_torch(parts, tmp_path):
    config, arrays, models = parts
    save_bundle(tmp_path / "m", config, arrays)
    np.save(tmp_path / "w.npy", models["windows"][:5])
    code = (
        "import sys, numpy as np\n"
        "from instrument.runtime import Runtime\n"
        f"rt = Runtime.from_bundle({str(tmp_path / 'm')!r})\n"
        f"w = np.load({str(tmp_path / 'w.npy')!r})\n"
        "print([rt.frame(x)[0] for x in w])\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    expected = Runtime(Bundle("(test)", config, arrays)).play(models["windows"][:5])[0]
    assert proc.stdout.strip() == str([int(s) for s in expected])
