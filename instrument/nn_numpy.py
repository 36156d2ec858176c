"""Torch-free forward pass of an exported stacked autoencoder (for the live, numpy-only path).

``export`` is the dict from :meth:`instrument.sae.StackedAutoencoder.export_numpy`; this module
imports only numpy, so a performance never loads torch.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from instrument.errors import BadInput


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # exp of a non-positive number only: no overflow warnings for large |z|.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


_ACTIVATIONS = {
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
}


def _hidden_activations(export: dict, x: np.ndarray) -> list[np.ndarray]:
    act = _ACTIVATIONS.get(export["activation"])
    if act is None:
        raise BadInput(f"exported SAE has unknown activation {export['activation']!r}")
    x = np.asarray(x, dtype=np.float32)
    squeeze = x.ndim == 1
    if squeeze:
        x = x[None, :]
    n_inputs = export["mean"].shape[0]
    if x.ndim != 2 or x.shape[1] != n_inputs:
        raise BadInput(f"inputs have shape {x.shape}, expected (N, {n_inputs}) or ({n_inputs},)")
    h = (x - export["mean"]) / export["std"]
    acts = []
    for weight, bias in zip(export["weights"], export["biases"]):
        h = act(h @ weight + bias)
        acts.append(h[0] if squeeze else h)
    return acts


def forward_numpy(export: dict, x: np.ndarray, layers: Sequence[int] | None = None) -> np.ndarray:
    """Hidden activations of the chosen layers, concatenated: numpy twin of ``encode``.

    Args:
        export: From ``StackedAutoencoder.export_numpy()``.
        x: One row (n_inputs,) or rows (N, n_inputs); float32 recommended.
        layers: 0-based layer indices, in the order wanted; None = all layers.

    Returns:
        float32 (feature_dim,) for one row, else (N, feature_dim).
    """
    acts = _hidden_activations(export, x)
    chosen = range(len(acts)) if layers is None else list(layers)
    for k in chosen:
        if not 0 <= k < len(acts):
            raise BadInput(f"layer {k} does not exist (the exported SAE has {len(acts)} layers)")
    return np.concatenate([acts[k] for k in chosen], axis=-1)


def predict_proba_numpy(export: dict, x: np.ndarray) -> np.ndarray:
    """Softmax class probabilities from the exported head (numpy twin of ``predict_proba``)."""
    if export.get("head_weight") is None:
        raise BadInput("the exported SAE has no classifier head", "fine-tune it before exporting")
    top = _hidden_activations(export, x)[-1]
    logits = top @ export["head_weight"] + export["head_bias"]
    logits = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)
