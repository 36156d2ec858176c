"""Pins played exactly: a stroke pinned with ``--pin REC@T0-T1=SOUND`` plays SOUND.

Training pulls the pinned windows' targets onto the pinned sound (learn/descriptor_pairing.py)
and shows them to the mapping network more often, but a network fitted to thousands of
windows lands only *near* a point it saw a few dozen times, and in a bank of 5000 sounds
"near" is another sound: replaying a pinned stretch of the demo played its sound on 0-3% of
its moving frames. So the pin is also kept in the bundle, and the play-time path snaps to it:

- at training, every moving control frame of each pinned stretch (the frames a replay of it
  gives, not only the training windows, which are 4 steps apart) is stored as its gesture
  features (``pin.features`` (M, F)), with the pinned bank sound (``pin.sound`` (M,)) and a
  radius (``pin.radius`` (M,)): half the distance from the frame to the closest training
  window that shares no step with the stretch. So a replay of the stretch is inside (it is
  the stored frames), a stroke done again closely enough is too, and no other training
  window can be (it is twice the radius away): an earlier rule, the widest gap between
  the stretch's training windows, held 74% of the demo's other moving frames;
- at play time a frame whose features are within the radius of their nearest pinned window
  plays that window's sound exactly: the reported sound, the parameters (the bank sound's
  own, not a blend) and the smoothed point (so leaving the stretch glides on from the pinned
  sound, without a jump back);
- frames outside every radius play the network's map, which the pairing has pulled towards
  the pinned sound in proportion to how close the stroke is (neighbours play neighbouring
  sounds).

The check costs one (M, F) matrix-vector product per moving frame (M is a few hundred at
most: MAX_PIN_WINDOWS).
"""

from __future__ import annotations

import numpy as np

from instrument.errors import BadInput, ModelFileError

MAX_PIN_WINDOWS = 8000  # moving control frames of all pins: 10 pins of ~10 s each


def pin_arrays(encode, recordings: list, gesture_cfg, pins: list, train_features: np.ndarray,
               train_parts: list) -> dict:
    """The bundle's pin arrays (stored in the ``mapping`` file).

    Args:
        encode: Gesture windows (N, D) -> their matching features (N, F), as the runtime has.
        recordings: The training recordings (pointer recordings).
        gesture_cfg: The GestureConfig of the windows.
        pins: ``(recording index, t0, t1, bank index)`` per ``--pin``.
        train_features: (N, F) features of every training window (recordings in order).
        train_parts: Each recording's training windows (their counts place the rows).

    Returns:
        {"pin.features": (M, F) float32, "pin.sound": (M,) int64, "pin.radius": (M,) float32},
        or {} without pins (see the module docstring for the radius).
    """
    from scipy.spatial import cKDTree

    from instrument.gesture import steps
    from instrument.learn.refit import window_times

    if not pins:
        return {}
    train_features = np.asarray(train_features, np.float64)
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in train_parts])]).astype(int)
    span = gesture_cfg.window_steps / gesture_cfg.rate_hz   # a window's length in seconds
    parts, sounds, radii = [], [], []
    for rec_index, t0, t1, sound in pins:
        rec = recordings[rec_index]
        times, frames = steps.frames_from_recording(rec, gesture_cfg)
        frames = frames[(times >= t0) & (times <= t1)]
        frames = frames[np.abs(frames).sum(axis=1) > 0]     # still frames hold their sound
        if len(frames) == 0:
            continue
        # the training windows that share no step with the stretch
        ends = window_times(rec, gesture_cfg, len(train_parts[rec_index]))
        near = (ends >= t0 - span) & (ends <= t1 + span)
        away = np.ones(len(train_features), bool)
        away[offsets[rec_index]:offsets[rec_index] + len(ends)][near] = False
        feats = np.asarray(encode(frames), np.float64)
        if away.any():
            radius = 0.5 * cKDTree(train_features[away]).query(feats, k=1)[0]
        else:
            radius = np.zeros(len(feats))
        parts.append(feats)
        sounds.append(np.full(len(feats), int(sound), np.int64))
        radii.append(radius)
    if not parts:
        return {}
    total = sum(len(p) for p in parts)
    if total > MAX_PIN_WINDOWS:
        raise BadInput(f"the pins hold {total} moving control frames (at most "
                       f"{MAX_PIN_WINDOWS})", "pin shorter stretches")
    return {"pin.features": np.concatenate(parts).astype(np.float32),
            "pin.sound": np.concatenate(sounds),
            "pin.radius": np.concatenate(radii).astype(np.float32)}


class PinSnap:
    """The stored pins of a bundle, checked, and the play-time test of a frame against them.

    Args:
        arrays: The bundle's ``mapping`` arrays (with ``pin.*`` when the model has pins).
        feature_dim: Width of the gesture matching features.
        n_sounds: Sounds in the bank.
        path: The bundle, for error messages.
    """

    def __init__(self, arrays: dict, feature_dim: int, n_sounds: int, path: str):
        feats, sound, radius = (arrays.get(k) for k in ("pin.features", "pin.sound",
                                                          "pin.radius"))
        m = 0 if feats is None else len(feats)
        ok = (feats is not None and sound is not None and radius is not None
              and feats.ndim == 2 and feats.shape[1] == feature_dim and 1 <= m <= MAX_PIN_WINDOWS
              and np.shape(sound) == (m,) and np.shape(radius) == (m,)
              and np.asarray(sound).dtype.kind in "iu" and np.isfinite(feats).all()
              and np.isfinite(radius).all() and (np.asarray(radius) >= 0).all()
              and int(np.min(sound)) >= 0 and int(np.max(sound)) < n_sounds)
        if not ok:
            raise ModelFileError(f"model {path}: its pin arrays (mapping pin.features, "
                                 f"pin.sound, pin.radius) do not fit the model",
                                 "train the model again")
        self.features = np.ascontiguousarray(feats, np.float32)
        self.sound = np.asarray(sound, np.int64)
        self._sq = (self.features.astype(np.float64) ** 2).sum(axis=1)
        self._r2 = np.asarray(radius, np.float64) ** 2
        self._dot = np.empty(m, np.float32)

    @classmethod
    def from_bundle(cls, arrays: dict, feature_dim: int, n_sounds: int,
                    path: str) -> "PinSnap | None":
        """The pins of a bundle's ``arrays`` (all stems), or None for a model without pins."""
        mapping = arrays.get("mapping") or {}
        if not any(k.startswith("pin.") for k in mapping):
            return None
        return cls(mapping, feature_dim, n_sounds, path)

    def match(self, features: np.ndarray) -> int:
        """The pinned bank sound of one frame's features, or -1 when no pin holds them."""
        np.matmul(self.features, features, out=self._dot)
        d2 = self._sq - 2.0 * self._dot + float(features @ features)
        i = int(np.argmin(d2))
        return int(self.sound[i]) if d2[i] <= self._r2[i] else -1

    def match_batch(self, features: np.ndarray) -> np.ndarray:
        """:meth:`match` for many frames (N, F) -> (N,) bank index or -1."""
        f = np.asarray(features, np.float64)
        d2 = self._sq[None, :] - 2.0 * f @ self.features.T.astype(np.float64) \
            + (f ** 2).sum(axis=1)[:, None]
        i = np.argmin(d2, axis=1)
        inside = d2[np.arange(len(f)), i] <= self._r2[i]
        return np.where(inside, self.sound[i], -1)


def play_pinned(runtime, sound: int) -> tuple[int, np.ndarray]:
    """A frame held by a pin: the runtime's state set to ``sound`` exactly (its reported
    sound, the smoothed point, the last parameters a still frame repeats), its parameters."""
    runtime.current = sound
    glider = runtime._glider
    glider.point[:] = runtime.bank_search[sound]
    glider.started = True
    params = runtime.bank_params[sound]
    if runtime.blend_k > 1:
        runtime._params_out[:] = params
        return sound, runtime._params_out
    return sound, params
