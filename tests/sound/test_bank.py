"""The sound bank: seeded, threaded builds; npz save/load; bad files; the CLI."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pytest

from instrument.config import FeatureConfig, SoundConfig
from instrument.errors import BadInput, DataFileError
from instrument.sound.bank import SoundBank, build_sound_bank
from instrument.sound.features import spectral_features
from instrument.sound.fm import render_fm

SMALL = SoundConfig(n_sounds=120, seconds=0.25, rate=22050, seed=3)
FEATS = FeatureConfig(n_bands=32)


@pytest.fixture(scope="module")
def bank():
    return build_sound_bank(SMALL, FEATS)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_bank_shapes_and_uniform_unit_parameters(bank):
    assert len(bank) == 120 and bank.params_unit.shape == (120, 4)
    assert bank.features.shape == (120, 32) and bank.feature_dim == 32
    assert bank.params_unit.dtype == np.float32 and bank.features.dtype == np.float32
    assert 0 <= bank.params_unit.min() and bank.params_unit.max() <= 1
    assert abs(bank.params_unit.mean() - 0.5) < 0.05  # uniform in unit space
    phys = bank.params_physical()
    assert phys[:, 0].min() >= 50 and phys[:, 0].max() <= 2000


def test_features_describe_the_stored_parameters(bank):
    # a sound re-rendered one by one from the stored parameters has the stored features
    for i in (0, 57, 119):
        audio = render_fm(*bank.params_physical()[i], SMALL.n_samples, SMALL.rate)
        np.testing.assert_allclose(spectral_features(audio, SMALL.rate, FEATS),
                                   bank.features[i], atol=2e-3)


def test_same_seed_same_bank_whatever_the_threads(bank, tmp_path):
    again = build_sound_bank(SMALL, FEATS, workers=1)
    np.testing.assert_array_equal(again.params_unit, bank.params_unit)
    np.testing.assert_array_equal(again.features, bank.features)
    bank.save(str(tmp_path / "a.npz"))
    again.save(str(tmp_path / "b.npz"))
    assert sha(tmp_path / "a.npz") == sha(tmp_path / "b.npz")
    other = build_sound_bank(SoundConfig(n_sounds=120, seconds=0.25, seed=4), FEATS)
    assert not np.array_equal(other.params_unit, bank.params_unit)


def test_save_load_round_trip(bank, tmp_path):
    path = str(tmp_path / "bank.npz")
    bank.save(path)
    loaded = SoundBank.load(path)
    np.testing.assert_array_equal(loaded.params_unit, bank.params_unit)
    np.testing.assert_array_equal(loaded.features, bank.features)
    assert loaded.sound_config == SMALL and loaded.feature_config == FEATS
    assert loaded.table == bank.table


def _rewrite(src, dst, **changes):
    with np.load(src, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del arrays[key]
    np.savez(dst, **arrays)


@pytest.mark.parametrize("change,match", [
    ({"features": None}, "missing entries"),
    ({"format": np.array("something-else")}, "not a sound bank"),
    ({"version": np.array(7)}, "version 7"),
    ({"features": np.zeros((120, 31), np.float32)}, "features have shape"),
    ({"features": np.full((120, 32), np.nan, np.float32)}, "NaN"),
    ({"params_unit": np.full((120, 4), 2.0, np.float32)}, "outside 0..1"),
    ({"params_unit": np.zeros((120, 4))}, "float32"),
    ({"sound_config": np.array(json.dumps({"n_sounds": 120, "colour": "red"}))},
     "unknown SoundConfig keys"),
    ({"param_table": np.array("{")}, "not valid JSON"),
])
def test_load_rejects_bad_files(bank, tmp_path, change, match):
    good, bad = str(tmp_path / "good.npz"), str(tmp_path / "bad.npz")
    bank.save(good)
    _rewrite(good, bad, **change)
    with pytest.raises(DataFileError, match=match) as err:
        SoundBank.load(bad)
    assert "\n" not in str(err.value) and "bad.npz" in str(err.value)


def test_load_rejects_garbage_truncation_pickles_and_missing(bank, tmp_path):
    path = tmp_path / "x.npz"
    path.write_text("hello")
    with pytest.raises(DataFileError, match="not an .npz"):
        SoundBank.load(str(path))
    bank.save(str(path))
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(DataFileError, match="not a readable"):
        SoundBank.load(str(path))
    buf = io.BytesIO()
    np.savez(buf, format=np.array([{"evil": 1}], dtype=object))
    path.write_bytes(buf.getvalue())
    with pytest.raises(DataFileError):
        SoundBank.load(str(path))
    with pytest.raises(DataFileError, match="does not exist"):
        SoundBank.load(str(tmp_path / "nope.npz"))


def test_config_validation():
    with pytest.raises(BadInput, match="n_sounds"):
        SoundConfig(n_sounds=0)
    with pytest.raises(BadInput, match="seconds"):
        SoundConfig(seconds=-1)
    with pytest.raises(BadInput, match="rate"):
        SoundConfig(rate=10)


def test_cli_build_is_deterministic_and_info_describes_it(run_cli, tmp_path):
    a, b = str(tmp_path / "a.npz"), str(tmp_path / "b.npz")
    args = ["sounds", "build", "--n", "60", "--seconds", "0.2", "--rate", "16000", "--seed",
            "5", "--bands", "24", "--quiet"]
    first = run_cli(*args, "--out", a)
    second = run_cli(*args, "--out", b, "--workers", "1")
    assert first.code == 0 and second.code == 0, first.err + second.err
    assert "60 sounds x 24 features" in first.out
    assert sha(a) == sha(b)
    loaded = SoundBank.load(a)
    assert loaded.sound_config == SoundConfig(n_sounds=60, seconds=0.2, rate=16000, seed=5)
    info = run_cli("sounds", "info", a)
    assert info.code == 0 and "60 sounds of 0.2 s at 16000 Hz" in info.out
    assert "carrier_hz" in info.out


def test_cli_bad_bank_and_bad_args_are_one_line(run_cli, tmp_path):
    path = tmp_path / "bad.npz"
    path.write_text("nope")
    result = run_cli("sounds", "info", str(path))
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err
    result = run_cli("sounds", "build", "--n", "0", "--out", str(tmp_path / "x.npz"))
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    result = run_cli("sounds", "build", "--n", "20", "--bands", "900", "--seconds", "0.01",
                     "--out", str(tmp_path / "x.npz"))
    assert result.code == 2 and "bands" in result.err and "Traceback" not in result.err
