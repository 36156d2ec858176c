"""``train --from`` without torch: the reused autoencoders and the mapping refit, in numpy.

A performer iterates with ``train --from models/M`` (new pins, steering, another recording):
the budget is 2 s for the whole command on 2 cores, and importing torch alone costs 1.5 s of
CPU. Nothing in a refit needs torch: the autoencoders are only *applied* (their weights are
kept as they are), and the mapping network is small enough for plain numpy. So this module
gives the two pieces torch-free, with the interface the training pipeline already calls:

- :class:`FrozenSAE`: a bundle's stacked autoencoder, checked like
  :func:`instrument.learn.sae_state.from_state` does, encoding in numpy; its state is the
  bundle's own, copied unchanged into the new bundle;
- :class:`NumpyMapping`: :class:`instrument.learn.mapping.MappingMLP`'s network and its
  bundle state, refitted from the base model's weights (see :meth:`NumpyMapping.refit`).

The play-time path (:class:`instrument.runtime.Runtime`) is numpy too, so a refitted model
plays exactly what it was measured with.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from instrument.errors import BadInput


def _activate(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if activation == "tanh":
        return np.tanh(z)
    return np.maximum(z, 0.0)


def _activation_slope(h: np.ndarray, z: np.ndarray, activation: str) -> np.ndarray:
    """d act(z) / dz from the activations ``h`` (or ``z`` for relu)."""
    if activation == "sigmoid":
        return h * (1.0 - h)
    if activation == "tanh":
        return 1.0 - h * h
    return (z > 0).astype(h.dtype)


class FrozenSAE:
    """A trained stacked autoencoder read from a bundle: encode only, numpy only.

    Args:
        meta, arrays: The bundle's ``gesture_sae``/``sound_sae`` state (sae_state.to_state).

    Raises:
        ModelFileError: The state is malformed (the same checks as loading it into torch).
    """

    def __init__(self, meta: dict, arrays: dict[str, np.ndarray]):
        from instrument.learn.sae_state import check_state

        self.config, self.n_inputs, self.n_classes = check_state(meta, arrays)
        self._meta, self._arrays = meta, arrays
        self.mean = np.asarray(arrays["norm.mean"], np.float32)
        self.std = np.asarray(arrays["norm.std"], np.float32)
        self._layers = [(np.ascontiguousarray(arrays[f"layer{k}.encoder.weight"].T, np.float32),
                         np.asarray(arrays[f"layer{k}.encoder.bias"], np.float32))
                        for k in range(len(self.config.hidden))]
        history = meta.get("history")
        self.history = history if isinstance(history, dict) else {}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "FrozenSAE":
        """The same as the constructor, named as StackedAutoencoder.from_state."""
        return cls(meta, arrays)

    def encode(self, x: np.ndarray, layers: Sequence[int] | None = None) -> np.ndarray:
        """Hidden activations of the chosen layers (all by default), concatenated, float32 —
        what :meth:`StackedAutoencoder.encode` gives, to float32 rounding."""
        x = np.asarray(x, np.float32)
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise BadInput(f"inputs have shape {x.shape}, expected (N, {self.n_inputs})")
        count = len(self._layers)
        chosen = list(range(count)) if layers is None else [int(k) for k in layers]
        if not chosen or not all(0 <= k < count for k in chosen):
            raise BadInput(f"layers {chosen} do not exist (this model has {count} layers)")
        data = (x - self.mean) / self.std
        acts = []
        for w, b in self._layers:
            data = _activate(data @ w + b, self.config.activation).astype(np.float32, copy=False)
            acts.append(data)
        return np.concatenate([acts[k] for k in chosen], axis=1)

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The bundle state it was read from, unchanged (the weights are not retrained)."""
        return dict(self._meta), dict(self._arrays)


class NumpyMapping:
    """The mapping network of a bundle (``act(((x - in_mean) / in_std) @ w0 + b0) @ w1 + b1``,
    then ``* out_std + out_mean``), refitted in numpy; the same state as MappingMLP's.

    Args:
        meta, arrays: The base bundle's ``mapping`` state (MappingMLP.to_state).
    """

    def __init__(self, meta: dict, arrays: dict[str, np.ndarray]):
        self.n_inputs, self.n_outputs = int(meta["n_inputs"]), int(meta["n_outputs"])
        self.hidden, self.activation = int(meta["hidden"]), str(meta["activation"])
        shapes = {"w0": (self.n_inputs, self.hidden), "b0": (self.hidden,),
                  "w1": (self.hidden, self.n_outputs), "b1": (self.n_outputs,),
                  "in_mean": (self.n_inputs,), "in_std": (self.n_inputs,),
                  "out_mean": (self.n_outputs,), "out_std": (self.n_outputs,)}
        for name, shape in shapes.items():
            if name not in arrays or tuple(arrays[name].shape) != shape:
                raise BadInput(f"the base model's mapping array {name} is not {list(shape)}",
                               "train from scratch (drop --from)")
        self.params = [np.array(arrays[k], np.float32) for k in ("w0", "b0", "w1", "b1")]
        self.in_mean, self.in_std = (np.array(arrays[k], np.float32) for k in ("in_mean", "in_std"))
        self.out_mean, self.out_std = (np.array(arrays[k], np.float32)
                                       for k in ("out_mean", "out_std"))
        self.history: dict = {"losses": [], "seconds": 0.0}

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w0, b0, w1, b1 = self.params
        z = x @ w0 + b0
        h = _activate(z, self.activation).astype(np.float32, copy=False)
        return z, h, h @ w1 + b1

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int, lr: float = 3e-3,
            batch_size: int = 256, weight_decay: float = 1e-5, seed: int = 0) -> dict:
        """Adam on the mean squared error of standardised targets, as MappingMLP.fit does
        (the same loss, optimiser and settings; shuffles from a numpy generator), starting
        from the current weights; the data's own statistics standardise inputs and targets."""
        x, y = self._pairs(x, y)
        start = time.perf_counter()
        self.in_mean, self.in_std = x.mean(0), np.maximum(x.std(0), 1e-6)
        self.out_mean, self.out_std = y.mean(0), np.maximum(y.std(0), 1e-6)
        xs = (x - self.in_mean) / self.in_std
        ys = (y - self.out_mean) / self.out_std
        rng = np.random.default_rng(seed)
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        moments = [np.zeros_like(p) for p in self.params]
        squares = [np.zeros_like(p) for p in self.params]
        step, losses = 0, []
        for _ in range(epochs):
            order = self._order(rng, len(xs))
            x_epoch, y_epoch = xs[order], ys[order]   # one gather, then contiguous batches
            total = 0.0
            for i in range(0, len(xs), batch_size):
                xb, yb = x_epoch[i:i + batch_size], y_epoch[i:i + batch_size]
                z, h, out = self._forward(xb)
                diff = out - yb
                total += float(np.einsum("ij,ij->", diff, diff)) / diff.shape[1]
                g_out = diff * np.float32(2.0 / diff.size)
                g_h = (g_out @ self.params[2].T) * _activation_slope(h, z, self.activation)
                grads = [xb.T @ g_h, g_h.sum(0), h.T @ g_out, g_out.sum(0)]
                step += 1
                rate = np.float32(lr / (1.0 - beta1 ** step))
                correct2 = np.float32(np.sqrt(1.0 - beta2 ** step))
                for p, g, m, v in zip(self.params, grads, moments, squares):
                    g += np.float32(weight_decay) * p      # L2 in the gradient, as torch's Adam
                    m *= beta1
                    m += np.float32(1.0 - beta1) * g
                    v *= beta2
                    v += np.float32(1.0 - beta2) * (g * g)
                    denom = np.sqrt(v)
                    denom /= correct2
                    denom += np.float32(eps)
                    p -= rate * m / denom
            losses.append(total / len(xs))
        self.history = {"losses": losses, "seconds": time.perf_counter() - start}
        return self.history

    def _order(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """One epoch's shuffle of the ``n`` pairs (a method, so a test can follow torch's)."""
        return rng.permutation(n)

    def _pairs(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)
        if x.ndim != 2 or y.ndim != 2 or len(x) != len(y) or x.shape[1] != self.n_inputs \
                or y.shape[1] != self.n_outputs:
            raise BadInput(f"mapping network expects ({self.n_inputs},) -> ({self.n_outputs},) "
                           f"pairs, got {x.shape} -> {y.shape}")
        return x, y

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Search-space points for gesture features ``x`` (N, n_inputs)."""
        x = (np.asarray(x, np.float32) - self.in_mean) / self.in_std
        return self._forward(x)[2] * self.out_std + self.out_mean

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(meta, arrays) in MappingMLP.to_state's form."""
        meta = {"n_inputs": self.n_inputs, "n_outputs": self.n_outputs, "hidden": self.hidden,
                "activation": self.activation, "history": self.history}
        arrays = dict(zip(("w0", "b0", "w1", "b1"), self.params))
        arrays.update(in_mean=self.in_mean, in_std=self.in_std, out_mean=self.out_mean,
                      out_std=self.out_std)
        return meta, {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}
