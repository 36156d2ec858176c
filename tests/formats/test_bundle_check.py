"""A model file as a weapon: links to devices, FIFOs, hand-edited configs, absurd weights.

Each case is one the fault-injection pass found (issue 10 item 7); each must give one
ModelFileError line naming the file or field, never a hang, a MemoryError or a crash later.
"""

from __future__ import annotations

import copy
import json
import os

import numpy as np
import pytest
from tiny_model import tiny_parts

from instrument.errors import ModelFileError
from instrument.formats.bundle import load_bundle, save_bundle
from instrument.runtime import Runtime


@pytest.fixture(scope="module")
def parts():
    config, arrays, _ = tiny_parts()
    return config, arrays


@pytest.fixture(scope="module")
def good(parts, tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "tiny"
    save_bundle(path, *parts)
    return path


def _copy(good, tmp_path):
    import shutil

    dst = tmp_path / "copy"
    shutil.copytree(good, dst)
    return dst


def _refused(path, message) -> str:
    with pytest.raises(ModelFileError, match=message) as err:
        load_bundle(path)
    text = str(err.value)
    assert "\n" not in text
    return text


def test_config_linked_to_dev_zero_is_refused_without_reading(good, tmp_path):
    path = _copy(good, tmp_path)
    os.remove(path / "config.json")
    os.symlink("/dev/zero", path / "config.json")
    _refused(path, "config.json is not a regular file")


def test_config_fifo_is_refused_without_hanging(good, tmp_path):
    path = _copy(good, tmp_path)
    os.remove(path / "config.json")
    os.mkfifo(path / "config.json")  # opening it for reading would block for ever
    _refused(path, "not a regular file")


def test_weights_linked_to_dev_zero_or_grown_are_refused(good, tmp_path):
    path = _copy(good, tmp_path)
    weights = path / "mapping.safetensors"
    size = weights.stat().st_size
    os.remove(weights)
    os.symlink("/dev/zero", weights)
    _refused(path, "mapping.safetensors is not a regular file")
    os.remove(weights)
    # A regular file far larger than its declared shapes allow is not read whole.
    with open(weights, "wb") as handle:
        handle.truncate(size + (4 << 20))
    _refused(path, r"mapping.safetensors is \d+ bytes, more than")


def _edited(good, tmp_path, change):
    path = _copy(good, tmp_path)
    config = json.loads((path / "config.json").read_text())
    change(config)
    (path / "config.json").write_text(json.dumps(config))
    return path


@pytest.mark.parametrize("change, message", [
    (lambda c: c["runtime"].update(hysteresis="abc"), "runtime.hysteresis"),
    (lambda c: c["runtime"].update(hysteresis=1.5), "runtime.hysteresis"),
    (lambda c: c["runtime"].update(blend_k="3"), "runtime.blend_k"),
    (lambda c: c["runtime"].update(blend_k=10 ** 9), "runtime.blend_k"),
    (lambda c: c["runtime"].update(still_columns=[0, 999]), "runtime.still_columns"),
    (lambda c: c["runtime"].update(still_columns="abc"), "runtime.still_columns"),
    (lambda c: c["runtime"].update(still_hold="yes"), "runtime.still_hold"),
    (lambda c: c["runtime"].update(gesture_layers=[0, 7]), "runtime.gesture_layers"),
    (lambda c: c["runtime"].update(gesture_layers=[]), "runtime.gesture_layers"),
    (lambda c: c.pop("runtime"), "no runtime section"),
    (lambda c: c["gesture_sae"]["config"].update(activation="swish"),
     "gesture_sae.config.activation 'swish'"),
    (lambda c: c["mapping"].update(activation=None), "mapping.activation"),
    (lambda c: c["files"]["mapping"]["arrays"]["w0"].update(shape=[1e9, 2]), "w0.shape"),
    (lambda c: c["files"]["mapping"]["arrays"]["w0"].update(shape=[60000, 60000, 60000]),
     "more than"),
    (lambda c: c["files"]["mapping"]["arrays"]["w0"].update(dtype="object"), "w0.dtype"),
    (lambda c: c["files"]["mapping"].update(sha256=None), "sha256"),
    (lambda c: c["files"]["mapping"].update(file="../../etc/passwd"), "mapping.safetensors"),
    (lambda c: c["param_table"].update(params=[]), "param_table"),
])
def test_hand_edited_config_fields_are_named(good, tmp_path, change, message):
    _refused(_edited(good, tmp_path, change), message)


def test_blend_k_null_means_no_blending(good, tmp_path):
    path = _edited(good, tmp_path, lambda c: c["runtime"].update(blend_k=None))
    runtime = Runtime.from_bundle(path)
    assert runtime.blend_k == 1
    sound, _ = runtime.frame(np.zeros(runtime.window_dim, np.float32))
    assert 0 <= sound < runtime.n_sounds


def _saved(parts, tmp_path, change):
    config, arrays = copy.deepcopy(parts[0]), copy.deepcopy(parts[1])
    change(config, arrays)
    path = tmp_path / "crafted"
    save_bundle(path, config, arrays)  # hashes and shapes recorded: only the schema can tell
    return path


@pytest.mark.parametrize("change, message", [
    (lambda c, a: a["gesture_sae"].pop("norm.mean"), "no array norm.mean"),
    (lambda c, a: a["mapping"].pop("w0"), "no array w0"),
    (lambda c, a: a["gesture_sae"].update({"layer1.encoder.weight": np.ones((6, 5), np.float32)}),
     "layer1.encoder.weight takes 5 inputs, the layer before gives 6"),
    (lambda c, a: a["mapping"].update(b1=np.zeros(9, np.float32)), "mapping b1 has shape"),
    (lambda c, a: a["sound_bank"].update(search=a["sound_bank"]["search"][:5]), "search has 5"),
])
def test_crafted_arrays_that_do_not_fit_together(parts, tmp_path, change, message):
    _refused(_saved(parts, tmp_path, change), message)


@pytest.mark.parametrize("stem, name, value, message", [
    ("gesture_sae", "norm.std", 0.0, "zero, tiny or negative standard deviation"),
    ("mapping", "in_std", 0.0, "zero, tiny or negative standard deviation"),
    ("mapping", "out_std", -1.0, "zero, tiny or negative standard deviation"),
    ("gesture_sae", "layer0.encoder.weight", 3e38, "absurd values"),
    ("mapping", "w1", 3e38, "absurd values"),
    ("sound_bank", "params_unit", 2.0, "outside 0..1"),
])
def test_values_that_collapse_the_instrument_to_one_sound(parts, tmp_path, stem, name, value,
                                                          message):
    def change(config, arrays):
        array = arrays[stem][name].copy()
        array.flat[0] = value
        arrays[stem][name] = array

    _refused(_saved(parts, tmp_path, change), message)


def test_cli_names_the_bad_field_in_one_line(good, tmp_path, run_cli):
    from tiny_model import write_strokes

    path = _edited(good, tmp_path, lambda c: c["runtime"].update(hysteresis="abc"))
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=1, seed=1)
    res = run_cli("render", "--model", str(path), "--gestures", gestures,
                  "--out", str(tmp_path / "o.wav"))
    assert res.code == 2, res.err
    assert "runtime.hysteresis" in res.err and res.err.count("\n") == 1
    assert not (tmp_path / "o.wav").exists()


def test_config_json_larger_than_any_config_is_not_read(good, tmp_path):
    from instrument.formats.filecheck import MAX_CONFIG_BYTES

    path = _copy(good, tmp_path)
    with open(path / "config.json", "ab") as handle:
        handle.truncate(MAX_CONFIG_BYTES + 1)  # valid JSON followed by a sea of NULs
    _refused(path, r"config.json is \d+ bytes, more than the")
