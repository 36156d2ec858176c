"""Many windows at once, stateless: evaluation, reports and tests ask these of a
:class:`instrument.runtime.Runtime` (the live frame path is ``Runtime.frame``, one window at a
time with its hysteresis and blend state).

A mixin so the batch forms sit beside the weights they use without growing runtime.py; the
arithmetic is the frame path's (the same folded weights), in batches.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit


def activate(z: np.ndarray, activation: str) -> np.ndarray:
    """A float32 copy of ``z`` through the network's activation."""
    z = np.array(z, dtype=np.float32)
    activate_(z, activation)
    return z


def activate_(z: np.ndarray, activation: str) -> None:
    """The activation in place (one ufunc call: no allocation on the frame path)."""
    if activation == "sigmoid":
        expit(z, out=z)  # overflow-free
    elif activation == "tanh":
        np.tanh(z, out=z)
    elif activation == "relu":
        np.maximum(z, 0, out=z)
    else:
        raise ValueError(activation)


class BatchPlay:
    """The stateless batch methods of a Runtime (needs its ``_enc_w``, ``_map_w``, ...)."""

    def _encode_batch(self, windows: np.ndarray) -> list[np.ndarray]:
        """Every encoder layer's activations for many windows (N, window_dim), stateless."""
        x = np.asarray(windows, np.float32)
        acts = []
        for w, b in zip(self._enc_w, self._enc_b):
            x = activate(x @ w + b, self.gesture_activation)
            acts.append(x)
        return acts

    def features_batch(self, windows: np.ndarray) -> np.ndarray:
        """Gesture matching features for many windows (N, window_dim) -> (N, feature_dim)."""
        acts = self._encode_batch(windows)
        return np.concatenate([acts[k] for k in self.gesture_layers], axis=1)

    def targets_batch(self, windows: np.ndarray) -> np.ndarray:
        """Search-space points for many windows (N, window_dim) -> (N, d), stateless."""
        return self._targets_of(self.features_batch(windows))

    def _targets_of(self, feats: np.ndarray) -> np.ndarray:
        """Search-space points of gesture features (N, feature_dim) -> (N, d)."""
        if self._map_hidden is not None:
            h = activate(feats @ self._map_w[0] + self._map_b[0], self.mapping_activation)
            return h @ self._map_w[1] + self._map_b[1]
        return feats @ self._map_w[0] + self._map_b[0]

    def categories_batch(self, windows: np.ndarray) -> np.ndarray:
        """Gesture category (index) of many windows, from the fine-tuned head (labels models)."""
        top = self._encode_batch(windows)[-1]
        return np.argmax(top @ self._head_w + self._head_b, axis=1)

    def nearest_batch(self, windows: np.ndarray, chunk: int = 2048) -> np.ndarray:
        """Closest bank sound for each of many windows (no hysteresis, no state)."""
        out = np.empty(len(windows), np.int64)
        for i in range(0, len(windows), chunk):
            part = windows[i:i + chunk]
            groups = None if self._match is None else self._match[self.categories_batch(part)]
            feats = self.features_batch(part)
            out[i:i + chunk] = self.search.nearest_batch(self._targets_of(feats), groups)
            if self.pins is not None:  # pinned stretches play their sound (pin_snap.py)
                snapped = self.pins.match_batch(feats)
                out[i:i + chunk] = np.where(snapped >= 0, snapped, out[i:i + chunk])
        return out

    def play(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run ``frame`` over a sequence of windows from a fresh state.

        Returns:
            (int64 (N,) sound indices, float32 (N, P) physical parameters).
        """
        self.reset()
        sounds = np.empty(len(windows), np.int64)
        params = np.empty((len(windows), len(self.table)), np.float32)
        for i, window in enumerate(np.asarray(windows, np.float32)):
            sounds[i], params[i] = self.frame(window)
        return sounds, params
