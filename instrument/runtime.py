"""The play-time fast path: one gesture window in, one sound (bank index + synth parameters) out.

No torch here, ever: the networks of a model bundle are read as plain arrays and run with numpy
into buffers allocated once, so a control frame costs a few small matrix-vector products and
one exact nearest-neighbour search over the bank (sound/search.py: a k-d tree for large
banks; well under a millisecond even at a million sounds).

The per-frame rule lives in ONE place, :meth:`Runtime.frame`, used by the offline render and by
live performance alike, so both produce the same control stream for the same gesture file:

1. gesture window -> gesture SAE matching features (hidden layers concatenated);
2. -> mapping network -> a point in the sound search space (the sound SAE matching features
   on their first principal axes, whitened: see training.search_space); with l2 matching the
   gesture features themselves, compared with the sound features;
   With ``glide < 1`` each frame moves the point only ``glide`` of the way to the new one;
3. -> the closest bank sound, with hysteresis: the current sound is kept unless the new closest
   is nearer by more than ``hysteresis`` (a share of the distance) plus ``hysteresis_spacing``
   times the current sound's nearest-neighbour distance (the bank's local density); a still
   pointer (newest step did not move) holds its sound and parameters; with one sound played
   (``blend_k`` 1) and ``like_tolerance`` > 0, a change goes to the sound made most like the
   current one among those nearly as close (frame_policy.most_alike);
4. -> its parameters, or with ``blend_k > 1`` the k closest sounds' parameters interpolated so
   they move continuously with the point, capped under Nyquist (see frame_policy.py).
"""

from __future__ import annotations

import math
import os

import numpy as np
from scipy.special import expit

from instrument.formats.bundle import Bundle, load_bundle, require
from instrument.frame_policy import (
    LIKE_CANDIDATES,
    Blender,
    PointGlide,
    bank_map,
    most_alike,
    nearest_spacing,
    policy_from_runtime,
    spacing_from_neighbours,
)
from instrument.pin_snap import PinSnap, play_pinned
from instrument.runtime_batch import BatchPlay, activate_
from instrument.sound.bank_kind import bundle_kind
from instrument.sound.params import ParamTable, alias_free
from instrument.sound.search import SoundSearch
from instrument.stillness import motion_fade


class Runtime(BatchPlay):
    """A trained instrument ready to play, built from a model bundle's arrays (numpy only).

    Attributes:
        gesture_config: The GestureConfig the model was trained with (build the
            GestureTracker / frames_from_recording with it).
        bank_map: (n_sounds, 2) float32 2-D positions of the bank sounds, for drawing.
        bank_search: (n_sounds, d) float32 the bank in the closest-sound search space.
        param_names: Synth parameter names in table order.
        table: The parameter table the model was trained with.
        window_dim: Length of one gesture window.
        stream_spec: None for a pointer model, else the StreamSpec (channels, normalisation)
            of the stream it was trained on (build a StreamTracker / stream_frames with it).
        n_sounds: Sounds in the bank.
        bank_params: (n_sounds, P) float32 physical parameters of every bank sound.
        bank_params_unit: (n_sounds, P) float32 the same in 0..1.
    """

    def __init__(self, bundle: Bundle):
        cfg, arrays, path = bundle.config, bundle.arrays, bundle.path
        rt = cfg.get("runtime")
        require(isinstance(rt, dict), path, "config.json has no runtime section")
        try:
            self.table = ParamTable.from_dict(cfg.get("param_table"))
        except Exception as err:  # noqa: BLE001 - BadInput from the table parser
            require(False, path, f"parameter table: {err}")
        self.param_names = self.table.names
        self.hysteresis = float(rt.get("hysteresis", 0.1))
        self.blend_k = int(rt.get("blend_k") or 1)  # null: no blending (checked by bundle_check)
        # Bundles from before these keys play as they always did (no glide, plain hysteresis).
        self.glide, self.hysteresis_spacing, self.like_tolerance = policy_from_runtime(rt, path)
        self.still_hold = bool(rt.get("still_hold", True))
        self.stillness = rt.get("stillness", "hold")    # stillness.py: hold, or fade with motion
        require(self.stillness in ("hold", "fade"), path,
                f"runtime.stillness must be hold or fade, not {self.stillness!r}")
        self.still_columns = np.asarray(rt.get("still_columns", []), dtype=np.int64)
        self._still_list = [int(c) for c in self.still_columns]
        layers = list(rt.get("gesture_layers") or [])

        # Gesture encoder, input normalisation folded into the first layer.
        g = arrays["gesture_sae"]
        gmeta = cfg.get("gesture_sae", {})
        self.gesture_activation = gmeta.get("config", {}).get("activation", "sigmoid")
        n_layers = len([k for k in g if k.endswith(".encoder.weight")])
        require(n_layers >= 1 and all(0 <= k < n_layers for k in layers) and layers, path,
                f"gesture_layers {layers} do not fit a {n_layers}-layer gesture SAE")
        mean, std = g["norm.mean"], g["norm.std"]
        self.window_dim = int(mean.shape[0])
        self._enc_w, self._enc_b = [], []
        for k in range(n_layers):  # all layers: a category head sits on the top one
            w = g[f"layer{k}.encoder.weight"].T.astype(np.float32)
            b = g[f"layer{k}.encoder.bias"].astype(np.float32)
            if k == 0:
                b = b - (mean / std) @ w
                w = w / std[:, None]
            self._enc_w.append(np.ascontiguousarray(w, np.float32))
            self._enc_b.append(b.astype(np.float32))
        sizes = [w.shape[1] for w in self._enc_w]
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        # Every layer's activations, then a constant 1 so the mapping's bias rides in its matmul.
        self._hidden = np.empty(int(offsets[-1]) + 1, np.float32)
        self._hidden[-1] = 1.0
        self._layer_views = [self._hidden[offsets[k]:offsets[k + 1]] for k in range(len(sizes))]
        self.gesture_layers = layers
        self.feature_dim = int(sum(sizes[k] for k in layers))
        self._contiguous_layers = layers == list(range(len(sizes)))
        if self._contiguous_layers:
            self._features_aug = self._hidden
        else:
            self._features_aug = np.empty(self.feature_dim + 1, np.float32)
            self._features_aug[-1] = 1.0
        self._features = self._features_aug[:-1]

        # Mapping (or l2: identity) with the search projection folded into its last layer.
        bank = arrays["sound_bank"]
        s_mean, s_axes = bank["search_mean"], bank["search_axes"]
        self._search = np.ascontiguousarray(bank["search"], np.float32)
        self.bank_search = self._search  # (n_sounds, d) every bank sound in the search space
        self.n_sounds = int(self._search.shape[0])
        require(s_axes.shape[1] == self._search.shape[1], path, "search axes and bank disagree")
        if "mapping" in arrays:
            m = arrays["mapping"]
            self.mapping_activation = cfg.get("mapping", {}).get("activation", "tanh")
            require(m["w0"].shape[0] == self.feature_dim, path,
                    f"mapping network takes {m['w0'].shape[0]} features, the gesture SAE gives "
                    f"{self.feature_dim}")
            require(m["w1"].shape[1] == s_axes.shape[1], path,
                    "mapping network output does not match the sound search space")
            w0 = m["w0"] / m["in_std"][:, None]
            b0 = m["b0"] - (m["in_mean"] / m["in_std"]) @ m["w0"]
            w1 = m["w1"] * m["out_std"][None, :]
            b1 = m["b1"] * m["out_std"] + m["out_mean"]
            self._map_w = [np.ascontiguousarray(w0, np.float32), np.ascontiguousarray(w1, np.float32)]
            self._map_b = [b0.astype(np.float32), b1.astype(np.float32)]
            self._map_hidden_aug = np.empty(w0.shape[1] + 1, np.float32)
            self._map_hidden_aug[-1] = 1.0
            self._map_hidden = self._map_hidden_aug[:-1]
        else:
            require(s_axes.shape[0] == self.feature_dim, path,
                    "l2 matching needs gesture and sound features of the same size")
            self.mapping_activation = None
            self._map_w = [np.ascontiguousarray(s_axes, np.float32)]
            self._map_b = [(-s_mean @ s_axes).astype(np.float32)]
            self._map_hidden = None
        # The same layers with their bias as a last weight row (inputs carry a trailing 1).
        self._map_w_aug = [np.ascontiguousarray(np.vstack([w, b[None, :]]), np.float32)
                           for w, b in zip(self._map_w, self._map_b)]
        self._target_aug = np.empty(self._search.shape[1] + 1, np.float32)
        self._target_aug[-1] = 1.0
        self._target = self._target_aug[:-1]
        # Labels: the gesture's category (the fine-tuned gesture SAE's softmax head) restricts
        # the search to the sound category the user matched it with (paper §4.1).
        self._match = None
        match = rt.get("match")
        sound_labels = None
        if match:
            require("head.weight" in g and "sound_labels" in bank, path,
                    "a labels model needs the gesture head and the sound categories")
            self._head_w = np.ascontiguousarray(g["head.weight"].T, np.float32)
            self._head_b = g["head.bias"].astype(np.float32)
            require(len(match) == self._head_w.shape[1], path, "match does not fit the head")
            sound_labels = bank["sound_labels"]
            require(sound_labels.shape == (self.n_sounds,), path,
                    "sound categories do not fit the bank")
            # gesture category -> the sound category searched (-1: the whole bank)
            self._match = np.array([s if s is not None and s >= 0 else -1 for s in match],
                                   np.int64)
            self._logits = np.empty(len(match), np.float32)
        # The exact closest-sound search (a k-d tree for large banks): sound/search.py.
        self.search = SoundSearch(self._search, sound_labels)

        params_unit = bank["params_unit"]
        require(params_unit.shape == (self.n_sounds, len(self.table)), path,
                f"sound bank parameters have shape {params_unit.shape}, expected "
                f"({self.n_sounds}, {len(self.table)})")
        # Banks from before the alias-free corpus are capped here, so every bundle plays
        # alias-free; the unit values follow the capped physical ones.
        physical = alias_free(self.table.to_physical(params_unit), self.table)
        self.bank_params = physical.astype(np.float32)
        self.bank_params_unit = self.table.to_unit(physical).astype(np.float32)
        self.bank_params.flags.writeable = False  # frame() hands out rows of it
        self.bank_params_unit.flags.writeable = False
        self._params_out = np.empty(len(self.table), np.float32)
        self._glider = PointGlide(self._search.shape[1])  # the smoothed mapped point
        self._blender = Blender(self.bank_params_unit, self.table)
        # --pin stretches: a frame inside one plays its sound exactly (pin_snap.py); None: no pins
        self.pins = PinSnap.from_bundle(arrays, self.feature_dim, self.n_sounds, path)
        # nearest-neighbour distances, found when first needed (NaN): a 1M-sound self-query costs 45 s
        self._spacing = np.full(self.n_sounds, np.nan) if self.hysteresis_spacing > 0 else None
        # Ufunc handles for the fused frame path (sigmoid/tanh networks with every layer used).
        ufuncs = {"sigmoid": expit, "tanh": np.tanh}
        self._fused = None
        if (self._contiguous_layers and self._map_hidden is not None
                and self.gesture_activation in ufuncs and self.mapping_activation in ufuncs):
            self._fused = (np.dot,
                           [(w, b, self._layer_views[k])
                            for k, (w, b) in enumerate(zip(self._enc_w, self._enc_b))],
                           ufuncs[self.gesture_activation],
                           ((self._map_w_aug[0], self._map_hidden, self._map_hidden_aug),
                            (self._map_w_aug[1], self._target)),
                           ufuncs[self.mapping_activation])
        self.gesture_config = self._gesture_config(cfg, path)
        # What plays the sounds: "fm", or "audio" slices / a "pyo" or "pd" synth (bank_kind.py).
        self.sound_kind = bundle_kind(cfg)
        self.sound_source = {"config": cfg, "arrays": arrays, "path": path}
        self.stream_spec = None     # a pointer model; else the stream's channels + normalisation
        if cfg.get("stream") is not None:
            from instrument.gesture.stream import spec_from_bundle

            self.stream_spec = spec_from_bundle(cfg["stream"], self.gesture_config,
                                                self.window_dim, path)
        self.fade = motion_fade(self) if self.stillness == "fade" else None
        self.model_path = path
        self.bank_map = bank_map(self._search)
        self.reset()

    @staticmethod
    def _gesture_config(cfg: dict, path: str):
        from instrument.config import GestureConfig, config_from_dict
        from instrument.errors import InstrumentError

        try:
            return config_from_dict(GestureConfig, cfg.get("configs", {}).get("gesture"),
                                    where="gesture config")
        except InstrumentError as err:
            require(False, path, err.problem)

    @classmethod
    def from_bundle(cls, path: str | os.PathLike) -> "Runtime":
        """Load a model bundle directory and build its runtime (ModelFileError if bad)."""
        return cls(load_bundle(path))

    # --- state --------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the current sound and the smoothed point (the next frame starts afresh)."""
        self.current = -1
        self._glider.reset()
        if getattr(self, "fade", None) is not None:
            self.fade.reset()

    # --- one frame ----------------------------------------------------------------------

    def features(self, window: np.ndarray) -> np.ndarray:
        """Gesture matching features of one window (a view into a reused buffer)."""
        x = window
        for k, (w, b) in enumerate(zip(self._enc_w, self._enc_b)):
            out = self._layer_views[k]
            np.matmul(x, w, out=out)
            out += b
            activate_(out, self.gesture_activation)
            x = out
        if not self._contiguous_layers:
            np.concatenate([self._layer_views[k] for k in self.gesture_layers],
                           out=self._features)
        return self._features

    def target(self, window: np.ndarray) -> np.ndarray:
        """Where the window lands in the sound search space (a view into a reused buffer)."""
        self.features(window)
        if self._map_hidden is not None:
            np.matmul(self._features_aug, self._map_w_aug[0], out=self._map_hidden)
            activate_(self._map_hidden, self.mapping_activation)
            np.matmul(self._map_hidden_aug, self._map_w_aug[1], out=self._target)
        else:
            np.matmul(self._features_aug, self._map_w_aug[0], out=self._target)
        return self._target

    def is_still(self, window: np.ndarray) -> bool:
        """True when the window's newest step did not move (the pointer is held still)."""
        for column in self._still_list:  # a few scalars: faster than any numpy call
            if window[column] != 0:
                return False
        return self._still_list != []

    def frame(self, window: np.ndarray) -> tuple[int, np.ndarray]:
        """One control frame (:meth:`_frame`), its level following the motion with
        ``stillness="fade"``."""
        sound, params = self._frame(window)
        return (sound, params) if self.fade is None else (sound, self.fade.apply(window, params))

    def _frame(self, window: np.ndarray) -> tuple[int, np.ndarray]:
        """One control frame: the sound to play for the window ending now.

        Args:
            window: float32 (window_dim,) gesture window (from tracker.GestureTracker.window_at
                or gestures.frames_from_recording).

        Returns:
            (sound index in the bank, float32 (P,) physical parameters). The parameter array is
            read-only (a row of ``bank_params``) or, when blending, a reused buffer: copy it
            if you keep it past the next call.
        """
        if self.still_hold and self.current >= 0 and self.is_still(window):
            if self.blend_k > 1:
                return self.current, self._params_out  # the last blend, unchanged
            return self.current, self.bank_params[self.current]
        if self._fused is not None:
            # target() written out with locals: the same arithmetic, fewer Python calls.
            dot, enc_ops, enc_act, map_ops, map_act = self._fused
            x = window
            for w, b, out in enc_ops:
                dot(x, w, out=out)
                out += b
                enc_act(out, out=out)
                x = out
            (w0, h0, h0_aug), (w1, y) = map_ops
            dot(self._features_aug, w0, out=h0)
            map_act(h0, out=h0)
            dot(h0_aug, w1, out=y)
        else:
            y = self.target(window)
        if self.pins is not None:  # a pinned stroke plays its sound exactly (pin_snap.py)
            pinned = self.pins.match(self._features)
            if pinned >= 0:
                return play_pinned(self, pinned)
        if self.glide < 1.0:
            self._glider(y, self.glide)  # y becomes the point smoothed along the stroke
        group = None
        if self._match is not None:
            np.matmul(self._layer_views[-1], self._head_w, out=self._logits)
            self._logits += self._head_b
            group = int(self._match[int(np.argmax(self._logits))])
        search = self.search
        if self.blend_k > 1:
            # one query: the blend's k + 1 closest sounds, the closest of them first
            near, sq = search.k_nearest(y, self.blend_k + 1, group)
            best, d_best = int(near[0]), float(sq[0])
        else:
            best, d_best = search.nearest(y, group)
        cur = self.current
        if cur < 0 or best == cur:
            self.current = best
        else:
            # a current sound outside the gesture's sound category is left at once
            d_cur = search.sq_distance(y, cur) if search.allowed(cur, group) else np.inf
            # in distances (not squared): keep unless nearer by the share plus the margin
            margin = 0.0 if self._spacing is None else \
                self.hysteresis_spacing * nearest_spacing(search, self._search, self._spacing, cur)
            if math.sqrt(d_best) < (1.0 - self.hysteresis) * math.sqrt(d_cur) - margin:
                if self.like_tolerance > 0 and self.blend_k <= 1:
                    # one sound played: the change goes to the one made most like it
                    near, sq = search.k_nearest(y, LIKE_CANDIDATES, group)
                    best = most_alike(near, sq, cur, self.bank_params_unit, self.like_tolerance)
                self.current = best
        if self.blend_k > 1:
            if (self.current != cur and self._spacing is not None
                    and self._spacing[best] != self._spacing[best] and search.whole_tree(group)):
                # the new sound's spacing, for its later hysteresis, from the same neighbours
                spacing = spacing_from_neighbours(self._search, near, sq)
                if spacing is not None:
                    self._spacing[best] = spacing
            self._params_out[:] = self._blender(near, sq)
            return self.current, self._params_out
        return self.current, self.bank_params[self.current]
