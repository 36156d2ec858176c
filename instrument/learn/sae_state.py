"""A stacked autoencoder as plain data: JSON meta + named float32 arrays (how bundles store it).

Reading a state never runs code: every array's name, dtype, shape and finiteness is checked
against the config before a single weight is copied. The checks (:func:`check_state`) need no
torch, so ``train --from`` can use a state without importing it (learn/refit_numpy.py).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from instrument.config import SAEConfig, config_from_dict
from instrument.errors import InstrumentError, ModelFileError

FORMAT = "instrument-sae"
VERSION = 1


def to_state(model) -> tuple[dict, dict[str, np.ndarray]]:
    """(JSON-able meta, named float32 arrays) describing the whole model.

    Arrays: ``norm.mean``, ``norm.std`` (n_inputs,); per layer k ``layer{k}.encoder.weight``
    (out, in), ``layer{k}.encoder.bias``, ``layer{k}.decoder.weight``, ``layer{k}.decoder.bias``;
    and ``head.weight`` (n_classes, top), ``head.bias`` once fine-tuned.
    """
    meta = {
        "format": FORMAT, "version": VERSION,
        "config": dataclasses.asdict(model.config), "n_inputs": model.n_inputs,
        "n_classes": model.n_classes,
        "normalisation": {"mean": list(model.mean.shape), "std": list(model.std.shape)},
        "history": model.history, "finetune_history": model.finetune_history,
    }
    arrays = {"norm.mean": model.mean, "norm.std": model.std}
    for k, layer in enumerate(model.layers):
        for part in ("encoder", "decoder"):
            mod = getattr(layer, part)
            arrays[f"layer{k}.{part}.weight"] = mod.weight.detach().numpy()
            arrays[f"layer{k}.{part}.bias"] = mod.bias.detach().numpy()
    if model.head is not None:
        arrays["head.weight"] = model.head.weight.detach().numpy()
        arrays["head.bias"] = model.head.bias.detach().numpy()
    return meta, {k: np.array(v, dtype=np.float32) for k, v in arrays.items()}


def check_state(meta: dict, arrays: dict[str, np.ndarray]) -> tuple[SAEConfig, int, int | None]:
    """(config, n_inputs, n_classes) of a state whose meta and arrays are well-formed.

    Raises:
        ModelFileError: The meta or arrays are malformed (missing/extra arrays, wrong shapes
            or dtypes, non-finite values, an invalid config).
    """
    if not isinstance(meta, dict):
        raise ModelFileError("SAE state: meta is not an object")
    from instrument.formats.filecheck import check_format

    check_format(meta, FORMAT, VERSION, "SAE state", "instrument SAE state",
                 "save the model again")
    try:
        config = config_from_dict(SAEConfig, meta.get("config"), where="SAE state")
    except InstrumentError as err:
        raise ModelFileError(f"SAE state: {err.problem}", "save the model again") from None
    n_inputs = meta.get("n_inputs")
    if not isinstance(n_inputs, int) or isinstance(n_inputs, bool) or n_inputs < 1:
        raise ModelFileError(f"SAE state: n_inputs must be an integer >= 1, got {n_inputs!r}",
                             "save the model again")
    n_classes = meta.get("n_classes")
    if n_classes is not None and (not isinstance(n_classes, int) or n_classes < 2):
        raise ModelFileError(f"SAE state: n_classes {n_classes!r} is not an integer >= 2")
    sizes = (n_inputs,) + config.hidden
    shapes = {"norm.mean": (n_inputs,), "norm.std": (n_inputs,)}
    for k in range(len(config.hidden)):
        shapes[f"layer{k}.encoder.weight"] = (sizes[k + 1], sizes[k])
        shapes[f"layer{k}.encoder.bias"] = (sizes[k + 1],)
        shapes[f"layer{k}.decoder.weight"] = (sizes[k], sizes[k + 1])
        shapes[f"layer{k}.decoder.bias"] = (sizes[k],)
    if n_classes is not None:
        shapes["head.weight"] = (n_classes, sizes[-1])
        shapes["head.bias"] = (n_classes,)
    missing, extra = sorted(set(shapes) - set(arrays)), sorted(set(arrays) - set(shapes))
    if missing or extra:
        raise ModelFileError(f"SAE state: arrays do not match the config (missing {missing}, "
                             f"unexpected {extra})", "save the model again")
    for name, shape in shapes.items():
        arr = arrays[name]
        if arr.dtype != np.float32 or arr.shape != shape or not np.isfinite(arr).all():
            raise ModelFileError(f"SAE state: array {name} is {arr.dtype}{list(arr.shape)}, "
                                 f"expected finite float32{list(shape)}", "save the model again")
    if not (arrays["norm.std"] > 0).all():
        raise ModelFileError("SAE state: norm.std has values <= 0", "save the model again")
    return config, n_inputs, n_classes


def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]):
    """Rebuild a ``cls`` (a StackedAutoencoder) from :func:`to_state` output.

    Raises:
        ModelFileError: The meta or arrays are malformed (see :func:`check_state`).
    """
    import torch
    from torch import nn

    from instrument.learn.autoencoder import Autoencoder

    config, n_inputs, n_classes = check_state(meta, arrays)
    try:
        model = cls(n_inputs, config)
    except InstrumentError as err:
        raise ModelFileError(f"SAE state: {err.problem}", "save the model again") from None
    sizes = (model.n_inputs,) + config.hidden
    model.mean = arrays["norm.mean"].copy()
    model.std = arrays["norm.std"].copy()
    gen = torch.Generator().manual_seed(0)
    for k in range(len(config.hidden)):
        layer = Autoencoder(sizes[k], sizes[k + 1], config.activation, gen)
        with torch.no_grad():
            for part in ("encoder", "decoder"):
                mod = getattr(layer, part)
                mod.weight.copy_(torch.from_numpy(arrays[f"layer{k}.{part}.weight"]))
                mod.bias.copy_(torch.from_numpy(arrays[f"layer{k}.{part}.bias"]))
        layer.eval()
        layer.requires_grad_(False)
        model.layers.append(layer)
    if n_classes is not None:
        head = nn.Linear(sizes[-1], n_classes)
        with torch.no_grad():
            head.weight.copy_(torch.from_numpy(arrays["head.weight"]))
            head.bias.copy_(torch.from_numpy(arrays["head.bias"]))
        head.requires_grad_(False)
        model.head, model.n_classes = head, n_classes
    history, finetune_history = meta.get("history"), meta.get("finetune_history")
    model.history = history if isinstance(history, dict) else {}
    model.finetune_history = finetune_history if isinstance(finetune_history, dict) else {}
    return model
