"""The model bundle: one directory that holds everything needed to perform a trained instrument.

Layout (format "instrument-model", version 1)::

    models/NAME/
      config.json               what built the model and how to read the rest (below)
      gesture_sae.safetensors   gesture stacked autoencoder (StackedAutoencoder.to_state arrays)
      sound_sae.safetensors     sound stacked autoencoder
      mapping.safetensors       mapping network (absent for --mapping l2)
      sound_bank.safetensors    the sound bank: parameters (0..1), spectral features, and the
                                closest-sound search space (coordinates of every bank sound)

``config.json`` holds the format name and version, every config used (``dataclasses.asdict``),
the parameter table, the normalisation statistics' shapes, training seconds, seed, metrics and,
for each array file, its sha256 and the name, dtype and shape of every array in it. Loading
checks all of that, reads arrays through safetensors (never pickle, never code from the file),
and turns any problem into one :class:`~instrument.errors.ModelFileError` line.

Writing is atomic at the directory level: everything goes into a temporary directory next to
the target, which is renamed into place at the end, so an interrupted save (Ctrl-C, a crash)
leaves either the old model or the new one, never half of one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass

import numpy as np

from instrument.errors import ModelFileError
from instrument.formats.bundle_check import check_array_values, check_config, file_size_cap
from instrument.formats.safe_io import load_arrays, read_format_json, save_arrays, write_json_atomic

FORMAT = "instrument-model"
VERSION = 1
CONFIG_FILE = "config.json"
ARRAY_FILES = ("gesture_sae", "sound_sae", "mapping", "sound_bank")
REQUIRED_FILES = ("gesture_sae", "sound_sae", "sound_bank")
_FIX = "train the model again (instrument train ...) or restore the whole directory"


@dataclass
class Bundle:
    """A loaded model bundle.

    Attributes:
        path: The directory it was read from (or will be written to).
        config: The parsed config.json.
        arrays: File stem (e.g. "sound_bank") -> array name -> numpy array.
    """

    path: str
    config: dict
    arrays: dict[str, dict[str, np.ndarray]]


def save_bundle(path: str | os.PathLike, config: dict,
                arrays: dict[str, dict[str, np.ndarray]]) -> str:
    """Write a bundle directory atomically (replacing an existing bundle at ``path``).

    Args:
        path: Target directory.
        config: JSON-able dict; "format", "version" and "files" are filled in here.
        arrays: File stem (one of ARRAY_FILES) -> name -> float32/int array.

    Returns:
        The bundle path.
    """
    path = os.path.abspath(os.fspath(path))
    unknown = sorted(set(arrays) - set(ARRAY_FILES))
    if unknown:
        raise ValueError(f"unknown bundle array files {unknown}")
    parent = os.path.dirname(path)
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=parent)
    except OSError as err:
        raise _cannot_write(path, err) from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a model is a normal directory
        files = {}
        for stem, named in arrays.items():
            named = {k: np.ascontiguousarray(v) for k, v in named.items()}
            sha = save_arrays(os.path.join(tmp, f"{stem}.safetensors"), named)
            files[stem] = {"file": f"{stem}.safetensors", "sha256": sha,
                           "arrays": {k: {"dtype": str(v.dtype), "shape": list(v.shape)}
                                      for k, v in sorted(named.items())}}
        full = dict(config)
        full.update({"format": FORMAT, "version": VERSION, "files": files})
        write_json_atomic(os.path.join(tmp, CONFIG_FILE), full)
        old = None
        if os.path.lexists(path):
            # Replace only an earlier model (or an empty folder): never a user's folder.
            if not os.path.isdir(path) or (os.listdir(path) and not is_model_dir(path)):
                raise ModelFileError(f"{path} exists and is not a model directory",
                                     "choose another --out (training writes a whole directory)")
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", suffix=".old", dir=parent)
            os.rmdir(old)
            os.replace(path, old)
        try:
            os.replace(tmp, path)
        except BaseException:
            if old:
                os.replace(old, path)  # put the earlier model back under its name
            raise
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _cannot_write(path, err) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _cannot_write(path: str, err: OSError) -> ModelFileError:
    return ModelFileError(f"cannot write model {path} ({err.strerror or err})",
                          "free some disk space, or choose an --out in a folder you can write to")


def is_model_dir(path: str | os.PathLike) -> bool:
    """True when ``path`` is a directory holding an instrument model and nothing else.

    Only such a directory is ever replaced by :func:`save_bundle`; anything more in it (a
    recording, a report, a user's notes) would be lost, so it is not a model directory.
    """
    path = os.fspath(path)
    if not os.path.isdir(path) or os.path.islink(path):
        return False
    names = {CONFIG_FILE} | {f"{stem}.safetensors" for stem in ARRAY_FILES}
    entries = set(os.listdir(path))
    if CONFIG_FILE not in entries or not entries <= names:
        return False
    try:
        read_format_json(os.path.join(path, CONFIG_FILE), FORMAT, 1 << 30, "instrument model",
                         _FIX)
    except ModelFileError:
        return False
    return True


def load_bundle(path: str | os.PathLike) -> Bundle:
    """Read and check a bundle directory.

    Raises:
        ModelFileError: missing directory or file, not a model, newer or invalid version, a
            truncated/corrupted/tampered array file, or arrays whose names, dtypes or shapes
            differ from what config.json records.
    """
    path = os.fspath(path)
    if not os.path.isdir(path):
        what = "is a file, not a model directory" if os.path.exists(path) else "does not exist"
        raise ModelFileError(f"model {path} {what}",
                             "give the directory written by 'instrument train --out'")
    config_path = os.path.join(path, CONFIG_FILE)
    config = read_format_json(config_path, FORMAT, VERSION, "instrument model",
                              "give a directory written by 'instrument train'")
    files = config.get("files")
    if not isinstance(files, dict):
        raise ModelFileError(f"{config_path} lists no array files", _FIX)
    missing = [stem for stem in REQUIRED_FILES if stem not in files]
    unknown = sorted(set(files) - set(ARRAY_FILES))
    if missing or unknown:
        raise ModelFileError(f"{config_path} lists array files wrongly (missing {missing}, "
                             f"unknown {unknown})", _FIX)
    check_config(config, config_path)  # every field the runtime reads, before any array
    arrays: dict[str, dict[str, np.ndarray]] = {}
    for stem, entry in files.items():
        file_path = os.path.join(path, f"{stem}.safetensors")
        loaded = load_arrays(file_path, expected_sha256=entry["sha256"], what="model file",
                             max_bytes=file_size_cap(config, stem))
        expected = entry["arrays"]
        if sorted(loaded) != sorted(expected):
            raise ModelFileError(f"{file_path} holds arrays {sorted(loaded)}, config.json "
                                 f"records {sorted(expected)}", _FIX)
        for name, array in loaded.items():
            spec = expected[name]
            if str(array.dtype) != spec.get("dtype") or list(array.shape) != spec.get("shape"):
                raise ModelFileError(f"{file_path}: array {name} is {array.dtype}"
                                     f"{list(array.shape)}, config.json records {spec}", _FIX)
            if array.dtype.kind == "f" and not np.isfinite(array).all():
                raise ModelFileError(f"{file_path}: array {name} has NaN or infinite values", _FIX)
        arrays[stem] = loaded
    check_array_values(arrays, config_path)
    return Bundle(path=path, config=config, arrays=arrays)


def require(condition: bool, path: str, what: str) -> None:
    """Raise a ModelFileError about bundle ``path`` unless ``condition`` holds."""
    if not condition:
        raise ModelFileError(f"model {path}: {what}", _FIX)
