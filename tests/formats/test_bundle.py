"""bundle.py: round trip and every way a model directory can be bad."""

import json
import os

import numpy as np
import pytest
from tiny_model import tiny_parts

from instrument.errors import ModelFileError
from instrument.formats.bundle import FORMAT, VERSION, load_bundle, save_bundle


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    config, arrays, _ = tiny_parts()
    path = tmp_path_factory.mktemp("models") / "tiny"
    save_bundle(path, config, arrays)
    return path, config, arrays


def _copy(saved, tmp_path):
    import shutil

    dst = tmp_path / "copy"
    shutil.copytree(saved[0], dst)
    return dst


def test_round_trip(saved):
    path, config, arrays = saved
    bundle = load_bundle(path)
    assert bundle.config["format"] == FORMAT and bundle.config["version"] == VERSION
    assert set(bundle.arrays) == {"gesture_sae", "sound_sae", "mapping", "sound_bank"}
    for stem, named in arrays.items():
        for name, value in named.items():
            np.testing.assert_array_equal(bundle.arrays[stem][name], value)
    assert bundle.config["configs"]["train"]["pairing"] == "structure"
    assert bundle.config["param_table"]["params"][0]["name"] == "carrier_hz"
    assert len(bundle.config["files"]["sound_bank"]["sha256"]) == 64
    assert sorted(os.listdir(path)) == ["config.json", "gesture_sae.safetensors",
                                        "mapping.safetensors", "sound_bank.safetensors",
                                        "sound_sae.safetensors"]


def test_saving_replaces_atomically_and_leaves_no_temp(saved, tmp_path):
    _, config, arrays = saved
    target = tmp_path / "m"
    save_bundle(target, config, arrays)
    save_bundle(target, dict(config, seed=7), arrays)
    assert load_bundle(target).config["seed"] == 7
    assert os.listdir(tmp_path) == ["m"]


def test_interrupted_save_leaves_old_model(saved, tmp_path):
    _, config, arrays = saved
    target = tmp_path / "m"
    save_bundle(target, config, arrays)
    bad = dict(arrays, sound_bank={"x": np.array(["not numeric"])})  # fails mid-write
    with pytest.raises(TypeError):
        save_bundle(target, config, bad)
    assert load_bundle(target).config["seed"] == config["seed"]
    assert os.listdir(tmp_path) == ["m"]


def _edit_config(path, change):
    cfg_path = path / "config.json"
    cfg = json.loads(cfg_path.read_text())
    change(cfg)
    cfg_path.write_text(json.dumps(cfg))


@pytest.mark.parametrize("damage, message", [
    (lambda p: os.remove(p / "sound_bank.safetensors"), "does not exist"),
    (lambda p: os.remove(p / "config.json"), "does not exist"),
    (lambda p: (p / "config.json").write_text('{"format": "instrument-model", "vers'), "not valid JSON"),
    (lambda p: _edit_config(p, lambda c: c.update(version=VERSION + 1)), "newer"),
    (lambda p: _edit_config(p, lambda c: c.update(format="something-else")), "not an instrument model"),
    (lambda p: _edit_config(p, lambda c: c.update(version="1")), "invalid format version"),
    (lambda p: _edit_config(p, lambda c: c["files"].pop("gesture_sae")), "missing"),
    (lambda p: _edit_config(p, lambda c: c["files"]["gesture_sae"]["arrays"]
                            ["layer0.decoder.bias"].update(shape=[1])), "records"),
])
def test_bad_bundles_give_one_line(saved, tmp_path, damage, message):
    path = _copy(saved, tmp_path)
    damage(path)
    with pytest.raises(ModelFileError, match=message) as err:
        load_bundle(path)
    assert "\n" not in str(err.value)


def test_truncated_and_tampered_weights(saved, tmp_path):
    path = _copy(saved, tmp_path)
    weights = path / "mapping.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="sha256"):
        load_bundle(path)
    flipped = bytearray(data)
    flipped[-3] ^= 0xFF
    weights.write_bytes(bytes(flipped))
    with pytest.raises(ModelFileError, match="sha256"):
        load_bundle(path)


def test_not_a_directory(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        load_bundle(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelFileError, match="not a model directory"):
        load_bundle(tmp_path / "file")
