"""Retrain in seconds: the pieces of training that ``--from``, pins and steering change.

``instrument train --from models/M`` keeps M's two autoencoders and its sound bank exactly as
they are (their weights are copied, not retrained) and refits only what a new recording,
new pins or new steering change: the gesture windows, the pairing and the mapping network,
which starts from M's weights and trains for ``REFIT_EPOCHS`` epochs instead of the full
``mapping_epochs``. A refit imports no torch (1.5 s of its 2 s budget): the autoencoders are
applied and the mapping refitted in numpy (learn/refit_numpy.py), except with ``--pairing
labels``, which fine-tunes the autoencoders. The descriptors pairing's stage helpers live
here too, so training.py only calls them.
"""

from __future__ import annotations

import numpy as np

from instrument.errors import BadInput

REFIT_EPOCHS = 8
PIN_SHARE = 0.1


def uses_descriptors(train_cfg, gesture_cfg, windows: np.ndarray) -> bool:
    """Whether this training pairs by descriptors: a mapping network on pointer windows
    (polar steps; a stream of other channels has no strokes to describe)."""
    from instrument.gesture.steps import window_dim

    return train_cfg.pairing == "descriptors" and train_cfg.mapping == "mlp" \
        and windows.shape[1] == window_dim(gesture_cfg)


def numpy_only(train_cfg, base) -> bool:
    """Whether this training runs without torch: a ``--from`` refit that keeps the
    autoencoders as they are (every pairing but ``labels``, which fine-tunes them)."""
    return base is not None and train_cfg.pairing != "labels"


def reuse_autoencoders(base, windows: np.ndarray, spectral: np.ndarray, trainable: bool = False):
    """(gesture SAE, sound SAE, SAEConfig) of the ``--from`` bundle, checked against the data.

    ``trainable``: torch StackedAutoencoders (labels fine-tune them); otherwise numpy
    :class:`instrument.learn.refit_numpy.FrozenSAE` (encode only, no torch import).
    """
    from instrument.config import SAEConfig, config_from_dict

    if trainable:
        from instrument.learn.sae import StackedAutoencoder as kind
    else:
        from instrument.learn.refit_numpy import FrozenSAE as kind
    gesture = kind.from_state(base.config["gesture_sae"], base.arrays["gesture_sae"])
    sound = kind.from_state(base.config["sound_sae"], base.arrays["sound_sae"])
    if gesture.n_inputs != windows.shape[1]:
        raise BadInput(f"--from {base.path}: its gesture network takes windows of "
                       f"{gesture.n_inputs} values, these recordings give {windows.shape[1]}",
                       "train from scratch (drop --from) for another kind of input")
    if sound.n_inputs != spectral.shape[1]:
        raise BadInput(f"--from {base.path}: its sound network takes {sound.n_inputs} features, "
                       f"the bank has {spectral.shape[1]}", "use the model's own sound bank")
    sae_cfg = config_from_dict(SAEConfig, base.config["configs"]["sae"], "sae config")
    return gesture, sound, sae_cfg


def bank_of(base):
    """The ``--from`` bundle's sound bank as a SoundBank (parameters, features, descriptors)."""
    from instrument.config import FeatureConfig, SoundConfig, config_from_dict
    from instrument.sound.bank import SoundBank
    from instrument.sound.params import ParamTable

    arrays = base.arrays["sound_bank"]
    configs = base.config["configs"]
    from instrument.sound.bank_kind import restore_kind

    bank = SoundBank(np.asarray(arrays["params_unit"], np.float32),
                     np.asarray(arrays["features"], np.float32),
                     config_from_dict(SoundConfig, configs["sound"], "sound config"),
                     config_from_dict(FeatureConfig, configs["features"], "feature config"),
                     ParamTable.from_dict(base.config["param_table"]),
                     arrays.get("descriptors"))
    # audio slices / a pyo or Pd synth stay what the refitted model plays (bank_kind.py)
    return restore_kind(bank, base.config, arrays, f"model {base.path}")


def window_times(rec, gesture_cfg, n_windows: int) -> np.ndarray:
    """End times (recording seconds) of a recording's first ``n_windows`` training windows."""
    from instrument.gesture import steps

    # the accepted sample times, with pauses over 10 s shortened as the windows see them
    times = steps._trace(rec, gesture_cfg)[0]
    return steps.window_end_times(times, gesture_cfg)[:n_windows]


def pinned_windows(recordings, train_parts, gesture_cfg, pins) -> list[tuple[np.ndarray, int]]:
    """Training-window indices (into the concatenated windows) of each pin, with its sound."""
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in train_parts])])
    out = []
    for rec_index, t0, t1, sound in pins or []:
        ends = window_times(recordings[rec_index], gesture_cfg, len(train_parts[rec_index]))
        # still windows are alike all through a recording: a pin holds the moving ones
        moving = np.abs(train_parts[rec_index][:len(ends)]).sum(axis=1) > 0
        inside = np.flatnonzero((ends >= t0) & (ends <= t1) & moving)
        if len(inside) == 0:
            raise BadInput(f"--pin {t0:g}-{t1:g} s holds no moving training window of "
                           f"{getattr(recordings[rec_index], 'path', 'the recording')}",
                           "pin a stretch of at least 0.4 s inside the first "
                           "80% of the recording (the tail is held out)")
        out.append((offsets[rec_index] + inside, int(sound)))
    return out


def descriptor_pairs(recordings, windows, train_parts, gesture_cfg, bank_descriptors, search,
                     train_cfg, pins):
    """(pairs, targets, repeat) of the descriptors pairing with steering and pins (training
    stage 5); ``repeat``: window rows the network sees again (the pinned ones) or None."""
    from instrument.gesture.descriptors import describe_windows
    from instrument.learn.descriptor_pairing import pair_descriptors, parse_steer

    steer = parse_steer(train_cfg.steer) if train_cfg.steer else []
    pinned = pinned_windows(recordings, train_parts, gesture_cfg, pins)
    pairs, targets = pair_descriptors(describe_windows(windows, gesture_cfg), bank_descriptors,
                                      search, train_cfg.spread_iterations, train_cfg.seed, steer,
                                      pinned)
    # A pin is a few dozen windows among thousands: the network sees each pinned stretch as
    # often as PIN_SHARE of the data, or it would average the pin away.
    repeat = [np.tile(rows, max(1, int(PIN_SHARE * len(windows) / len(rows))))
              for rows, _ in pinned]
    return pairs, targets, (np.concatenate(repeat) if repeat else None)


def mapping_network(g_feats: np.ndarray, targets: np.ndarray, train_cfg, base, quiet: bool,
                    repeat: np.ndarray | None = None):
    """The fitted mapping network: from scratch (torch), or from ``base``'s weights for
    REFIT_EPOCHS (numpy, learn/refit_numpy.py); the rows ``repeat`` are trained on once more
    each."""
    from instrument.learn.mapping import MappingMLP

    if repeat is not None and len(repeat):
        g_feats = np.concatenate([g_feats, g_feats[repeat]])
        targets = np.concatenate([targets, targets[repeat]])

    meta = (base.config.get("mapping") if base is not None else None) or {}
    same = (meta.get("n_inputs") == g_feats.shape[1] and meta.get("n_outputs") == targets.shape[1]
            and meta.get("hidden") == train_cfg.mapping_hidden
            and meta.get("activation") == train_cfg.mapping_activation)
    if same:    # numpy: the same network, loss and Adam as MappingMLP.fit, no torch import
        from instrument.learn.refit_numpy import NumpyMapping

        net = NumpyMapping(meta, base.arrays["mapping"])
        net.fit(g_feats, targets, epochs=min(REFIT_EPOCHS, train_cfg.mapping_epochs),
                lr=train_cfg.mapping_lr, seed=train_cfg.seed)
        return net
    net = MappingMLP(g_feats.shape[1], targets.shape[1], train_cfg.mapping_hidden,
                     train_cfg.mapping_activation, train_cfg.seed)
    net.fit(g_feats, targets, epochs=train_cfg.mapping_epochs, lr=train_cfg.mapping_lr,
            seed=train_cfg.seed, quiet=quiet, desc="mapping network")
    return net


def metric_sample(windows: np.ndarray, frames: np.ndarray | None, max_windows: int = 1000,
                  max_frames: int = 1000) -> tuple[np.ndarray, np.ndarray | None]:
    """Every k-th held-out window (at most ``max_windows``) and the first ``max_frames``
    control frames in time order (stability needs consecutive frames), for --from's metrics."""
    step = max(1, -(-len(windows) // max_windows))
    return windows[::step], (None if frames is None else frames[:max_frames])
