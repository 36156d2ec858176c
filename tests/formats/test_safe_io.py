"""safe_io: atomic safetensors/JSON writes, and one clear ModelFileError for every bad file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from instrument.errors import ModelFileError
from instrument.formats.safe_io import (
    load_arrays,
    read_json,
    save_arrays,
    sha256_file,
    write_json_atomic,
)


@pytest.fixture
def arrays(rng):
    return {"w": rng.standard_normal((3, 4)).astype(np.float32),
            "idx": np.arange(5, dtype=np.int64),
            "t": np.asfortranarray(rng.standard_normal((2, 3)))}


def one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert "\n" not in text
    return text


def test_round_trip_is_exact_and_hash_is_the_file_hash(tmp_path, arrays):
    path = tmp_path / "sub" / "w.safetensors"
    sha = save_arrays(path, arrays)
    assert sha == sha256_file(path)
    loaded = load_arrays(path, expected_sha256=sha)
    assert sorted(loaded) == sorted(arrays)
    for name, value in arrays.items():
        assert loaded[name].dtype == value.dtype
        np.testing.assert_array_equal(loaded[name], value)
        assert loaded[name].flags.writeable
    assert [p.name for p in path.parent.iterdir()] == ["w.safetensors"]  # no temp file left


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError) as err:
        load_arrays(tmp_path / "nope.safetensors", what="SAE weights")
    assert "SAE weights" in one_line(err) and "nope.safetensors" in str(err.value)
    assert "does not exist" in str(err.value)


@pytest.mark.parametrize("cut", [3, 20, -5])
def test_truncated_file(tmp_path, arrays, cut):
    path = tmp_path / "w.safetensors"
    save_arrays(path, arrays)
    data = path.read_bytes()
    path.write_bytes(data[:cut])
    with pytest.raises(ModelFileError) as err:
        load_arrays(path)
    assert "truncated or corrupted" in one_line(err) and str(path) in str(err.value)


def test_garbage_and_hash_mismatch(tmp_path, arrays):
    path = tmp_path / "w.safetensors"
    sha = save_arrays(path, arrays)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # flip bits in the last weight: still parses, only the hash can tell
    path.write_bytes(bytes(data))
    assert load_arrays(path)  # parses fine without a hash...
    with pytest.raises(ModelFileError) as err:  # ...but the recorded hash catches it
        load_arrays(path, expected_sha256=sha)
    assert "sha256" in one_line(err)
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelFileError):
        load_arrays(path)


def test_refuses_object_arrays(tmp_path):
    with pytest.raises(TypeError):
        save_arrays(tmp_path / "x.safetensors", {"o": np.array([object()])})
    assert not list(tmp_path.iterdir())


def test_atomic_replace_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "c.json"
    write_json_atomic(path, {"a": 1})
    with pytest.raises(ValueError):
        write_json_atomic(path, {"a": float("nan")})  # NaN is not JSON: refused before writing
    assert read_json(path) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]


def test_json_errors(tmp_path):
    with pytest.raises(ModelFileError) as err:
        read_json(tmp_path / "missing.json", what="bundle manifest")
    assert "bundle manifest" in one_line(err)
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 1,\n "b": ')
    with pytest.raises(ModelFileError) as err:
        read_json(bad)
    assert "not valid JSON" in one_line(err) and "line 2" in str(err.value)
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ModelFileError) as err:
        read_json(bad)
    assert "UTF-8" in one_line(err)
    bad.write_text('{"a": NaN}')
    with pytest.raises(ModelFileError) as err:
        read_json(bad)
    assert "NaN" in one_line(err)
    with pytest.raises(ModelFileError) as err:
        read_json(tmp_path)
    assert "directory" in one_line(err)


def test_json_round_trip(tmp_path):
    obj = {"format": "x", "version": 1, "list": [1, 2.5, "three"], "none": None}
    write_json_atomic(tmp_path / "c.json", obj)
    assert read_json(tmp_path / "c.json") == obj
    assert json.loads((tmp_path / "c.json").read_text()) == obj


def test_safe_io_does_not_import_torch():
    code = "import sys, instrument.formats.safe_io; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ})
    assert out.stdout.strip() == "False"


def test_unwritable_destination(tmp_path, arrays):
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(ModelFileError, match="cannot write") as err:
        save_arrays(tmp_path / "a_file" / "w.safetensors", arrays)
    assert "\n" not in str(err.value)
    with pytest.raises(ModelFileError, match="cannot write"):
        write_json_atomic(tmp_path / "a_file" / "c.json", {"a": 1})


def test_atomic_write_gives_a_normal_file_mode(tmp_path):
    import os

    from instrument.formats.safe_io import atomic_write

    umask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "out.txt") as handle:
            handle.write("x")
    finally:
        os.umask(umask)
    assert (os.stat(tmp_path / "out.txt").st_mode & 0o777) == 0o644  # not mkstemp's 0600
