"""The schema of a model bundle's config.json, and the sanity of its arrays, checked before use.

config.json is not hashed (it holds the hashes), so a hand-edited or crafted one can say
anything: every field the runtime reads is checked here, with one
:class:`~instrument.errors.ModelFileError` line naming the field, before any array is read.
The declared shapes must form a network that runs (each layer's input is the previous
layer's output, the mapping fits the gesture features and the sound search space), and they
bound the size of every weights file (:func:`file_size_cap`). After loading,
:func:`check_array_values` refuses weights that would make an instrument play one sound for
every gesture: zero or negative standard deviations, absurd magnitudes.
"""

from __future__ import annotations

import math
import re

import numpy as np

from instrument.errors import ModelFileError

_FIX = "train the model again (instrument train ...) or restore the whole directory"
ACTIVATIONS = ("sigmoid", "tanh", "relu")
_DTYPES = {"float32": 4, "float64": 8, "int64": 8, "int32": 4, "uint8": 1, "bool": 1,
           "int8": 1, "int16": 2, "uint16": 2, "uint32": 4, "uint64": 8, "float16": 2}
_MAX_DIM = 1 << 26          # no axis of a model array is anywhere near 67 M long
_MAX_FILE_BYTES = 1 << 31   # a model's weights file is a few MB; 2 GiB is absurd
_MAX_LAYERS = 64
_HEADER_BYTES = 1 << 20     # safetensors' JSON header: a few hundred bytes per array
# Trained weights are O(1)..O(100); beyond this a network saturates for every input.
MAX_WEIGHT = 1e6
# Training floors every standard deviation (SAEConfig.min_std, 1e-6 in the mapping); one
# below this divides an input into saturation.
_MIN_STD = 1e-9


def _bad(where: str, problem: str) -> ModelFileError:
    return ModelFileError(f"{where}: {problem}", _FIX)


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shapes(config: dict, where: str) -> dict[str, dict[str, tuple[int, ...]]]:
    """File stem -> array name -> declared shape, each checked to be sane."""
    out: dict[str, dict[str, tuple[int, ...]]] = {}
    for stem, entry in config["files"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("arrays"), dict):
            raise _bad(where, f"files.{stem} is malformed (no arrays)")
        sha = entry.get("sha256")
        if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise _bad(where, f"files.{stem}.sha256 is not a sha256 hex digest")
        if entry.get("file", f"{stem}.safetensors") != f"{stem}.safetensors":
            raise _bad(where, f"files.{stem}.file must be {stem}.safetensors")
        named = {}
        for name, spec in entry["arrays"].items():
            field = f"files.{stem}.arrays.{name}"
            if not isinstance(spec, dict) or spec.get("dtype") not in _DTYPES:
                raise _bad(where, f"{field}.dtype is missing or not a numeric dtype")
            shape = spec.get("shape")
            if (not isinstance(shape, list) or len(shape) > 4
                    or not all(_int(n) and 0 <= n <= _MAX_DIM for n in shape)):
                raise _bad(where, f"{field}.shape must be a list of at most 4 sizes "
                                  f"0..{_MAX_DIM}")
            named[name] = tuple(shape)
        out[stem] = named
    return out


def file_size_cap(config: dict, stem: str) -> int:
    """The most bytes ``STEM.safetensors`` may have, from the shapes config.json declares."""
    total = _HEADER_BYTES
    for spec in config["files"][stem]["arrays"].values():
        total += math.prod(spec["shape"]) * _DTYPES[spec["dtype"]]
    return total


def check_config(config: dict, where: str) -> None:
    """Check every field of a bundle config the runtime uses, before any array is read.

    Args:
        config: The parsed config.json (format and version already checked).
        where: The config's path, for messages.

    Raises:
        ModelFileError: One line naming the first bad field and what it must be.
    """
    shapes = _shapes(config, where)
    for stem in shapes:
        if file_size_cap(config, stem) > _MAX_FILE_BYTES:
            raise _bad(where, f"files.{stem} declares arrays of more than {_MAX_FILE_BYTES} bytes")
    g, bank = shapes["gesture_sae"], shapes["sound_bank"]

    def need(stem_shapes: dict, stem: str, name: str, ndim: int) -> tuple[int, ...]:
        shape = stem_shapes.get(name)
        if shape is None:
            raise _bad(where, f"files.{stem} has no array {name}")
        if len(shape) != ndim or (ndim and min(shape) < 1):
            raise _bad(where, f"files.{stem}.arrays.{name} has shape {list(shape)}, "
                              f"expected {ndim} axes of size >= 1")
        return shape

    (dim,) = need(g, "gesture_sae", "norm.mean", 1)
    if need(g, "gesture_sae", "norm.std", 1) != (dim,):
        raise _bad(where, f"gesture_sae norm.std does not match norm.mean ({dim} values)")
    n_layers = len([k for k in g if re.fullmatch(r"layer\d+\.encoder\.weight", k)])
    if not 1 <= n_layers <= _MAX_LAYERS:
        raise _bad(where, f"the gesture SAE has {n_layers} encoder layers (expected 1.."
                          f"{_MAX_LAYERS})")
    sizes, width = [], dim
    for k in range(n_layers):
        out, inp = need(g, "gesture_sae", f"layer{k}.encoder.weight", 2)
        if inp != width:
            raise _bad(where, f"gesture_sae layer{k}.encoder.weight takes {inp} inputs, the "
                              f"layer before gives {width}")
        if need(g, "gesture_sae", f"layer{k}.encoder.bias", 1) != (out,):
            raise _bad(where, f"gesture_sae layer{k}.encoder.bias does not have {out} values")
        sizes.append(out)
        width = out

    rt = config.get("runtime")
    if not isinstance(rt, dict):
        raise _bad(where, "config.json has no runtime section")
    layers = rt.get("gesture_layers")
    if (not isinstance(layers, list) or not layers or len(set(map(repr, layers))) != len(layers)
            or not all(_int(k) and 0 <= k < n_layers for k in layers)):
        raise _bad(where, f"runtime.gesture_layers must list distinct layers 0..{n_layers - 1}")
    feature_dim = sum(sizes[k] for k in layers)
    _check_runtime_values(rt, dim, where)
    _check_activation(config, "gesture_sae", where)

    n_sounds, n_params = need(bank, "sound_bank", "params_unit", 2)
    n_search, d = need(bank, "sound_bank", "search", 2)
    if n_search != n_sounds:
        raise _bad(where, f"sound_bank search has {n_search} sounds, params_unit {n_sounds}")
    f_in, d_axes = need(bank, "sound_bank", "search_axes", 2)
    if d_axes != d or need(bank, "sound_bank", "search_mean", 1) != (f_in,):
        raise _bad(where, "sound_bank search_axes/search_mean do not fit the search space")
    table = config.get("param_table")
    params = table.get("params") if isinstance(table, dict) else None
    if not isinstance(params, list) or len(params) != n_params:
        raise _bad(where, f"param_table must list {n_params} parameters (the bank's columns)")
    if "sound_labels" in bank and bank["sound_labels"] != (n_sounds,):
        raise _bad(where, f"sound_bank sound_labels must have {n_sounds} values")
    if rt.get("blend_k") is not None and rt["blend_k"] > n_sounds:
        raise _bad(where, f"runtime.blend_k {rt['blend_k']} is more than the {n_sounds} sounds")

    if "mapping" in shapes:
        m = shapes["mapping"]
        _check_activation(config, "mapping", where)
        w0_in, hidden = need(m, "mapping", "w0", 2)
        if w0_in != feature_dim:
            raise _bad(where, f"mapping w0 takes {w0_in} features, the gesture SAE gives "
                              f"{feature_dim}")
        expected = {"b0": (hidden,), "w1": (hidden, d), "b1": (d,), "in_mean": (feature_dim,),
                    "in_std": (feature_dim,), "out_mean": (d,), "out_std": (d,)}
        for name, shape in expected.items():
            if m.get(name) != shape:
                raise _bad(where, f"mapping {name} has shape {list(m.get(name) or [])}, "
                                  f"expected {list(shape)}")
    elif f_in != feature_dim:
        raise _bad(where, "l2 matching needs gesture and sound features of the same size "
                          f"({feature_dim} and {f_in})")
    _check_match(rt, g, bank, sizes[-1], where)


def _check_runtime_values(rt: dict, dim: int, where: str) -> None:
    hysteresis = rt.get("hysteresis", 0.1)
    if (not isinstance(hysteresis, (int, float)) or isinstance(hysteresis, bool)
            or not 0 <= hysteresis < 1):
        raise _bad(where, f"runtime.hysteresis must be a number 0 <= h < 1, not "
                          f"{_short(hysteresis)}")
    blend_k = rt.get("blend_k", 1)
    if blend_k is not None and (not _int(blend_k) or blend_k < 1):
        raise _bad(where, f"runtime.blend_k must be a whole number >= 1 or null, not "
                          f"{_short(blend_k)}")
    if not isinstance(rt.get("still_hold", True), bool):
        raise _bad(where, "runtime.still_hold must be true or false")
    columns = rt.get("still_columns", [])
    if (not isinstance(columns, list) or len(columns) > dim
            or not all(_int(c) and 0 <= c < dim for c in columns)):
        raise _bad(where, f"runtime.still_columns must list window columns 0..{dim - 1}")


def _check_activation(config: dict, section: str, where: str) -> None:
    meta = config.get(section, {})
    if not isinstance(meta, dict):
        raise _bad(where, f"{section} must be an object")
    if section == "gesture_sae":
        meta = meta.get("config", {})
        if not isinstance(meta, dict):
            raise _bad(where, "gesture_sae.config must be an object")
    activation = meta.get("activation", "sigmoid" if section == "gesture_sae" else "tanh")
    if activation not in ACTIVATIONS:
        field = "gesture_sae.config.activation" if section == "gesture_sae" else "mapping.activation"
        raise _bad(where, f"{field} {_short(activation)} is not one of {', '.join(ACTIVATIONS)}")


def _check_match(rt: dict, g: dict, bank: dict, top: int, where: str) -> None:
    match = rt.get("match")
    if not match:
        return
    if "head.weight" not in g or "head.bias" not in g or "sound_labels" not in bank:
        raise _bad(where, "a labels model (runtime.match) needs the gesture head and the "
                          "sound categories")
    n_classes, head_in = g["head.weight"] if len(g["head.weight"]) == 2 else (0, 0)
    if head_in != top or g["head.bias"] != (n_classes,):
        raise _bad(where, f"gesture_sae head does not fit the top layer ({top} units)")
    if not isinstance(match, list) or len(match) != n_classes or not all(
            m is None or (_int(m) and -1 <= m < 1 << 20) for m in match):
        raise _bad(where, f"runtime.match must list {n_classes} sound categories (integers or "
                          "null)")


def check_array_values(arrays: dict[str, dict[str, np.ndarray]], where: str) -> None:
    """Refuse arrays that would make the instrument play one sound whatever the gesture.

    Raises:
        ModelFileError: A standard deviation <= 0 (division by zero), a weight or bias with
            magnitude above MAX_WEIGHT (every unit saturates), or bank parameters outside 0..1.
    """
    stds = [("gesture_sae", "norm.std"), ("sound_sae", "norm.std"), ("mapping", "in_std"),
            ("mapping", "out_std")]
    for stem, name in stds:
        array = arrays.get(stem, {}).get(name)
        if array is not None and array.size and not float(array.min()) > _MIN_STD:
            raise _bad(where, f"{stem} {name} has a zero, tiny or negative standard deviation "
                              f"({float(array.min()):g})")
    for stem in ("gesture_sae", "sound_sae", "mapping"):
        for name, array in arrays.get(stem, {}).items():
            if array.dtype.kind == "f" and array.size and float(np.abs(array).max()) > MAX_WEIGHT:
                raise _bad(where, f"{stem} {name} holds absurd values (|x| up to "
                                  f"{float(np.abs(array).max()):.3g}, more than {MAX_WEIGHT:g})")
    bank = arrays.get("sound_bank", {})
    for name in ("search", "search_axes", "search_mean"):
        array = bank.get(name)
        if array is not None and array.size and float(np.abs(array).max()) > MAX_WEIGHT:
            raise _bad(where, f"sound_bank {name} holds absurd values (more than {MAX_WEIGHT:g})")
    params = bank.get("params_unit")
    if params is not None and params.size and not (params.min() >= 0 and params.max() <= 1):
        raise _bad(where, "sound_bank params_unit has values outside 0..1")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."
