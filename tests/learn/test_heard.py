"""What is heard: frames as played, placed by their stored descriptors or rendered ones."""

import numpy as np
import pytest
from tiny_model import tiny_parts

from instrument.formats.bundle import Bundle
from instrument.learn import metrics
from instrument.learn.heard import heard_frames, heard_lines, measure_heard, moving_rows
from instrument.runtime import Runtime
from instrument.sound.descriptors import describe_params, descriptor_space

SOUND = {"seconds": 0.1, "rate": 8000}


@pytest.fixture(scope="module")
def parts():
    config, arrays, extra = tiny_parts(seed=3)
    rt = Runtime(Bundle("(test)", config, arrays))
    bank_desc = describe_params(rt.bank_params, SOUND["seconds"], SOUND["rate"], rt.table)
    return config, arrays, extra["windows"], bank_desc.astype(np.float64)


def _runtime(parts, blend_k, plain=False):
    rt = Runtime(Bundle("(test)", parts[0], parts[1]))
    rt.blend_k = blend_k
    if plain:   # the closest sound of every frame: no glide, no hysteresis, no choice
        rt.glide, rt.hysteresis, rt._spacing, rt.like_tolerance = 1.0, 0.0, None, 0.0
    return rt


def test_one_sound_as_it_is_is_heard_as_its_stored_descriptors(parts):
    _, _, windows, bank_desc = parts
    rt = _runtime(parts, 1)
    rows, sounds, desc = heard_frames(rt, windows, bank_desc, SOUND)
    still = np.array([rt.is_still(w) for w in windows])
    assert len(rows) == int((~still).sum()) and not still[rows].any()
    played, _ = rt.play(windows)
    np.testing.assert_array_equal(sounds, played[rows])
    np.testing.assert_array_equal(desc, bank_desc[sounds])
    heard = measure_heard({"model": rt}, windows, rt.features_batch(windows), bank_desc, SOUND)
    assert heard["model"]["to_sound_played"] == 0.0 and heard["blend_k"] == 1


def test_a_blend_is_rendered_and_heard_apart_from_the_sound_it_reports(parts):
    _, _, windows, bank_desc = parts
    rt = _runtime(parts, 48)
    rows, sounds, desc = heard_frames(rt, windows, bank_desc, SOUND)
    _, params = rt.play(windows)
    np.testing.assert_allclose(desc, describe_params(params[rows], SOUND["seconds"],
                                                     SOUND["rate"], rt.table), rtol=1e-6)
    apart = np.linalg.norm(descriptor_space(desc, bank_desc)
                           - descriptor_space(bank_desc)[sounds], axis=1)
    # 48 random FM sounds' parameters mixed sound like none of them (measured: median 1.2)
    assert np.median(apart) > 0.5
    heard = measure_heard({"model": rt}, windows, rt.features_batch(windows), bank_desc, SOUND)
    assert heard["model"]["to_sound_played"] == pytest.approx(np.median(apart), abs=1e-3)
    assert "a blend of 48 rendered" in heard_lines(heard)[0]


def test_with_the_plain_rule_heard_is_the_closest_sound_of_each_frame(parts):
    _, _, windows, bank_desc = parts
    rt = _runtime(parts, 1, plain=True)
    g_space = rt.features_batch(windows)
    heard = measure_heard({"model": rt}, windows, g_space, bank_desc, SOUND, seed=2)
    rows = moving_rows(np.array([rt.is_still(w) for w in windows]), 2)
    closest = rt.nearest_batch(windows[rows])
    want = metrics.mapping_quality(g_space[rows], closest, descriptor_space(bank_desc),
                                   seed=2)["model"]
    for key in ("trustworthiness", "continuity", "spearman"):
        assert heard["model"][key] == pytest.approx(want[key], abs=1e-4)
    assert heard["model"]["n_frames"] == len(rows)
    assert 0.0 <= heard["random"]["trustworthiness"] <= 1.0


def test_what_cannot_be_rendered_here_is_said(parts):
    _, _, windows, bank_desc = parts
    rt = _runtime(parts, 8)
    rt.sound_kind = "pyo"
    assert "pyo bank" in heard_frames(rt, windows, bank_desc, SOUND)
    rt.sound_kind = "fm"
    note = heard_frames(rt, windows, bank_desc, {"seconds": 1e6, "rate": 8000})
    assert isinstance(note, str) and "outside" in note
    heard = measure_heard({"model": _runtime(parts, 1)}, windows[:5],
                          np.zeros((5, 3)), bank_desc, SOUND)
    assert "only" in heard["model"]["note"]
    assert heard_lines(heard)[0].startswith("  as heard: not measured")
