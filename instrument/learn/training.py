"""Train a whole instrument: gesture SAE, sound SAE, pairing, mapping network, measured, bundled.

The stages, each with its own progress bar:

1. gesture windows from the recordings (the tail ``holdout`` share of each recording is kept
   out of training and used to measure the map);
2. the sound bank (built, or read from ``--sound-bank``);
3. one stacked autoencoder per modality (paper §3.1), optionally fine-tuned with a softmax head
   on the user's categories (§3.2, ``labels`` pairing);
4. matching features: all hidden layers concatenated (§4.2: "all values from both hidden
   layers"); the closest-sound search space is the sound matching features on their first
   principal axes, whitened (see :func:`search_space`), so a frame searches a few numbers per
   sound instead of hundreds;
5. pairing and the mapping network (mapping.py), or l2 matching;
6. metrics on the held-out windows with the exact play-time path (runtime.py);
7. the bundle, written atomically (bundle.py).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

import numpy as np

from instrument.config import GestureConfig, SAEConfig, TrainConfig
from instrument.errors import BadInput
from instrument.learn.evaluation import evaluation_windows, measure, split_windows
from instrument.learn.label_spec import LabelSpec  # noqa: F401 (imported from here too)

MIN_WINDOWS = 50


def search_space(sound_features: np.ndarray, cfg: TrainConfig) -> dict:
    """The closest-sound search space: where the mapping lands and "closest" is measured.

    For ``--mapping mlp`` it is the sound matching features on their first
    ``cfg.structure_dims`` principal axes, whitened (the space the structure pairing matches
    in): a few numbers per sound, so a frame's search is cheap, and every axis counts alike.
    With ``--mapping l2`` gesture features are compared with sound features directly, so the
    space is the features themselves (identity).

    Returns:
        {"search_mean": (F,), "search_axes": (F, d), "search": (S, d)} float32 arrays and
        "retained": the share of the features' variance on those axes.
    """
    from instrument.learn.mapping import principal_axes

    feats = np.asarray(sound_features, np.float64)
    if cfg.mapping == "l2":
        mean, axes = np.zeros(feats.shape[1]), np.eye(feats.shape[1])
        retained = 1.0
    else:
        mean, axes = principal_axes(feats, cfg.structure_dims)
        centred = feats - mean
        unit = axes / np.linalg.norm(axes, axis=0)
        retained = float(((centred @ unit) ** 2).sum() / max((centred ** 2).sum(), 1e-30))
    return {"search_mean": mean.astype(np.float32), "search_axes": axes.astype(np.float32),
            "search": ((feats - mean) @ axes).astype(np.float32), "retained": retained}


def blend_for(cfg: TrainConfig) -> int:
    """The sounds a frame blends: ``blend_k``, or by pairing when 0 (config.TrainConfig)."""
    if cfg.blend_k:
        return cfg.blend_k
    return 1 if cfg.pairing == "descriptors" else 48


def glide_for(cfg: TrainConfig) -> float:
    """The point's glide per frame: ``glide``, or by pairing when 0 (config.TrainConfig)."""
    if cfg.glide:
        return cfg.glide
    return 0.5 if cfg.pairing == "descriptors" else 0.2


def still_columns(gesture_cfg: GestureConfig, window_dim: int) -> list[int]:
    """Columns of a window holding its newest step (all zero when the pointer is still)."""
    per_step = window_dim // gesture_cfg.window_steps
    return list(range(window_dim - per_step, window_dim))


def assemble(configs: dict, train_cfg: TrainConfig, gesture_sae, sound_sae, mapping_net,
             params_unit: np.ndarray, spectral: np.ndarray, search: dict, table,
             gesture_cfg: GestureConfig, extra: dict | None = None) -> tuple[dict, dict]:
    """The bundle's (config dict, arrays) from trained parts (no file written here).

    Args:
        configs: Section name -> config dataclass (or dict), stored with ``asdict``.
        mapping_net: A fitted MappingMLP, or None for l2 matching.
        params_unit, spectral: The sound bank (S, P) and its spectral features (S, F).
        search: :func:`search_space` output.
        table: The ParamTable.
        extra: More top-level keys (metrics, timings, seed...).
    """
    g_meta, g_arrays = gesture_sae.to_state()
    s_meta, s_arrays = sound_sae.to_state()
    layers = list(range(train_cfg.layers))
    config = {
        "configs": {k: dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v
                    for k, v in configs.items()},
        "param_table": table.to_dict(),
        "gesture_sae": g_meta, "sound_sae": s_meta,
        "normalisation": {"gesture": {"mean_shape": list(g_arrays["norm.mean"].shape)},
                          "sound": {"mean_shape": list(s_arrays["norm.mean"].shape)}},
        "runtime": {"gesture_layers": layers, "sound_layers": layers,
                    "hysteresis": train_cfg.hysteresis,
                    "blend_k": min(blend_for(train_cfg), len(params_unit)),
                    "like_tolerance": train_cfg.like_tolerance,
                    "glide": glide_for(train_cfg), "hysteresis_spacing": train_cfg.hysteresis_spacing,
                    "still_hold": train_cfg.still_hold, "mapping": train_cfg.mapping,
                    "still_columns": still_columns(gesture_cfg, int(g_arrays["norm.mean"].shape[0])),
                    "search_dims": int(search["search"].shape[1]),
                    "search_variance_retained": search["retained"]},
    }
    arrays = {"gesture_sae": g_arrays, "sound_sae": s_arrays,
              "sound_bank": {"params_unit": np.asarray(params_unit, np.float32),
                             "features": np.asarray(spectral, np.float32),
                             "search": search["search"], "search_mean": search["search_mean"],
                             "search_axes": search["search_axes"]}}
    if mapping_net is not None:
        meta, m_arrays = mapping_net.to_state()
        config["mapping"] = meta
        arrays["mapping"] = m_arrays
    config.update(extra or {})
    return config, arrays


def train_instrument(recordings: list, train_cfg: TrainConfig, gesture_cfg: GestureConfig,
                     sound_cfg, feature_cfg, sound_bank=None, labels: LabelSpec | None = None,
                     label_of_recording: list[str | None] | None = None, quiet: bool = True,
                     log: Callable[[str], None] = lambda text: None, pins: list | None = None,
                     base=None) -> tuple[dict, dict, dict]:
    """Run every training stage and return (bundle config, bundle arrays, summary).

    Args:
        recordings: gesture Recordings (recording.read_recording).
        train_cfg, gesture_cfg, sound_cfg, feature_cfg: The configs used (stored in the bundle).
        sound_bank: A SoundBank to use instead of building one from ``sound_cfg``.
        labels: Categories and matching for ``pairing="labels"``.
        label_of_recording: Gesture category name of each recording (None = unlabelled).
        quiet: No progress bars.
        log: Called with one line per finished stage.
        pins: ``(recording index, t0, t1, bank index)`` per ``--pin`` (descriptors pairing).
        base: A loaded model Bundle (``--from``): its autoencoders and sound bank are reused
            and only the pairing and the mapping network are refitted (learn/refit.py).
    """
    from instrument.learn.refit import numpy_only
    from instrument.learn.threads import blas_threads

    if numpy_only(train_cfg, base):  # --from: numpy only, importing torch is 1.5 s of 2
        with blas_threads():
            return _train(recordings, train_cfg, gesture_cfg, sound_cfg, feature_cfg,
                          sound_bank, labels, label_of_recording, quiet, log, pins, base)
    from instrument.learn.autoencoder import training_threads

    with training_threads(train_cfg.seed):
        return _train(recordings, train_cfg, gesture_cfg, sound_cfg, feature_cfg, sound_bank,
                      labels, label_of_recording, quiet, log, pins, base)


def _train(recordings, train_cfg, gesture_cfg, sound_cfg, feature_cfg, sound_bank, labels,
           label_of_recording, quiet, log, pins=None, base=None):
    from instrument.formats.bundle import Bundle
    from instrument.gesture.stream import fit_stream_spec, gesture_windows
    from instrument.learn import mapping, refit
    from instrument.learn.descriptor_pairing import sound_search_space
    from instrument.runtime import Runtime
    from instrument.sound.bank import build_sound_bank
    from instrument.sound.bank_kind import bundle_sound_parts

    start = time.perf_counter()
    timings: dict[str, float] = {}

    def stage(name: str, t0: float) -> None:
        timings[name] = round(time.perf_counter() - t0, 3)
        log(f"{name}: {timings[name]:.1f} s")

    # 1. gesture windows, with a held-out tail per recording
    t0 = time.perf_counter()
    train_parts, test_parts, frame_parts, train_labels = [], [], [], []
    time_parts: list[np.ndarray] = []
    names = list(labels.gesture_files) if labels else []
    # A pointer keeps the polar steps (spec None); any other stream gets per-channel
    # normalisation learned here and stored in the bundle (gesture/stream.py).
    spec = fit_stream_spec(recordings, gesture_cfg)
    for i, rec in enumerate(recordings):
        windows = gesture_windows(rec, gesture_cfg, spec)
        train, test = split_windows(windows, train_cfg.holdout)
        train_parts.append(train)
        test_parts.append(test)
        label = (label_of_recording or [None] * len(recordings))[i]
        train_labels.append(np.full(len(train), names.index(label) if label in names else -1))
        if train_cfg.holdout > 0:
            test, frames, times = evaluation_windows(rec, gesture_cfg, train_cfg.holdout, spec,
                                                     with_times=True)
            test_parts[-1] = test
            frame_parts.append(frames)
            # recordings one after another, a second apart: times keep increasing
            offset = time_parts[-1][-1] + 1.0 if time_parts and len(time_parts[-1]) else 0.0
            time_parts.append(times - (times[0] if len(times) else 0.0) + offset)
    windows = np.concatenate(train_parts).astype(np.float32)
    held_out = np.concatenate(test_parts).astype(np.float32)
    frames_held = np.concatenate(frame_parts).astype(np.float32) if frame_parts else None
    times_held = np.concatenate(time_parts) if time_parts else None
    window_labels = np.concatenate(train_labels)
    if len(windows) < MIN_WINDOWS:
        raise BadInput(f"the gesture recordings give only {len(windows)} training windows "
                       f"(need {MIN_WINDOWS})", "record more gestures (a minute or more)")
    stage("gesture windows", t0)

    # 2. the sound bank
    t0 = time.perf_counter()
    bank = sound_bank if sound_bank is not None else build_sound_bank(sound_cfg, feature_cfg,
                                                                      quiet=quiet)
    spectral = np.asarray(bank.features, np.float32)
    params_unit = np.asarray(bank.params_unit, np.float32)
    stage("sound bank", t0)

    # 3. one stacked autoencoder per modality (+ fine-tuning for labels)
    sae_cfg = SAEConfig(hidden=(train_cfg.layer_size,) * train_cfg.layers,
                        epochs=train_cfg.sae_epochs, seed=train_cfg.seed)
    t0 = time.perf_counter()
    if base is not None:    # --from: the trained autoencoders, unchanged
        gesture_sae, sound_sae, sae_cfg = refit.reuse_autoencoders(
            base, windows, spectral, trainable=not refit.numpy_only(train_cfg, base))
        stage("autoencoders reused", t0)
    else:
        from instrument.learn import sae

        gesture_sae = sae.StackedAutoencoder(windows.shape[1], sae_cfg)
        # the held-out tail's reconstruction error too, per epoch (the report draws it)
        gesture_sae.fit(windows, quiet=quiet, desc="gesture SAE",
                        held_out=held_out if len(held_out) else None)
        if refit.uses_descriptors(train_cfg, gesture_cfg, windows):  # features that keep them
            from instrument.learn.gesture_keeping import keep_descriptors
            keep_descriptors(gesture_sae, windows, gesture_cfg, quiet=quiet)
        stage("gesture SAE", t0)
        t0 = time.perf_counter()
        sound_sae = sae.StackedAutoencoder(spectral.shape[1], sae_cfg)
        sound_sae.fit(spectral, quiet=quiet, desc="sound SAE")
        stage("sound SAE", t0)
    sound_labels = None
    if train_cfg.pairing == "labels":
        if labels is None:
            raise BadInput("--pairing labels needs --gesture-labels, --sound-labels and --match")
        labels.check()
        t0 = time.perf_counter()
        sound_labels = labels.sound_labels(bank.table.to_physical(params_unit), bank.table.names)
        # 20+ unlabelled windows (free gestures) get a category of their own that searches the
        # whole bank; without it every free stroke would be forced into a labelled category.
        free_class = int((window_labels < 0).sum()) >= 20
        g_labels = np.where(window_labels < 0, len(names) if free_class else -1, window_labels)
        _finetune(gesture_sae, windows, g_labels, len(names) + free_class, "gesture", quiet)
        _finetune(sound_sae, spectral, sound_labels, len(labels.sound_ranges), "sound", quiet)
        stage("fine-tuning", t0)

    # 4. matching features and the search space
    t0 = time.perf_counter()
    g_feats = gesture_sae.encode(windows)
    by_descriptors = refit.uses_descriptors(train_cfg, gesture_cfg, windows)
    s_feats = None if by_descriptors else sound_sae.encode(spectral)   # not searched then
    if by_descriptors:
        bank_descriptors = bank.ensure_descriptors()
        search = sound_search_space(bank_descriptors, train_cfg.descriptor_dims)
    else:
        search = search_space(s_feats, train_cfg)
    stage("matching features", t0)

    # 5. pairing and mapping
    t0 = time.perf_counter()
    net = None
    if train_cfg.mapping == "l2":
        mapping.check_l2_sizes(g_feats.shape[1], s_feats.shape[1])
    else:
        fit_targets, repeat = None, None
        if train_cfg.pairing == "random":
            pairs = mapping.pair_random(len(g_feats), len(s_feats), train_cfg.seed)
        elif by_descriptors:
            pairs, fit_targets, repeat = refit.descriptor_pairs(
                recordings, windows, train_parts, gesture_cfg, bank_descriptors, search,
                train_cfg, pins)
        elif train_cfg.pairing in ("structure", "descriptors"):
            pairs = mapping.pair_structure(g_feats, s_feats, train_cfg.structure_dims,
                                           train_cfg.spread_iterations, train_cfg.seed)
        else:
            sound_names = list(labels.sound_ranges)
            match = {names.index(g): sound_names.index(s) for g, s in labels.match.items()}
            pairs = mapping.pair_labels(g_feats, s_feats, window_labels, sound_labels, match,
                                        train_cfg.structure_dims, train_cfg.spread_iterations,
                                        train_cfg.seed)
        # Targets: the paired sounds' matching features, in the search space (the descriptors
        # pairing gives its transported points instead: smoother targets).
        targets = search["search"]
        fit_targets = targets[pairs] if fit_targets is None else fit_targets
        net = refit.mapping_network(g_feats, fit_targets, train_cfg, base, quiet, repeat)
    stage("mapping", t0)

    configs = {"train": train_cfg, "gesture": gesture_cfg, "sound": sound_cfg,
               "features": feature_cfg, "sae": sae_cfg}
    config, arrays = assemble(configs, train_cfg, gesture_sae, sound_sae, net, params_unit,
                              spectral, search, bank.table, gesture_cfg)
    if pins and by_descriptors and net is not None:  # pinned strokes snap to their sound
        from instrument.pin_snap import pin_arrays
        arrays["mapping"].update(pin_arrays(gesture_sae.encode, recordings, gesture_cfg, pins,
                                            g_feats, train_parts))
    if spec is not None:
        config["stream"] = spec.to_dict()
        # Still = the newest step's deltas are all zero (its values are not).
        dim = int(windows.shape[1])
        config["runtime"]["still_columns"] = list(range(dim - spec.width, dim))
    if train_cfg.pairing == "labels":
        sound_names = list(labels.sound_ranges)
        config["labels"] = {"gesture": names, "sound": sound_names, "match": labels.match}
        config["runtime"]["match"] = [sound_names.index(labels.match[g]) if g in labels.match
                                      else -1 for g in names] + [-1] * free_class
        config["labels"]["free_gestures"] = bool(free_class)  # last head class: whole bank
        arrays["sound_bank"]["sound_labels"] = sound_labels.astype(np.int64)
    config["runtime"]["stillness"] = train_cfg.stillness
    config["runtime"]["search_space"] = "descriptors" if by_descriptors else "sound features"
    if bank.descriptors is not None:
        arrays["sound_bank"]["descriptors"] = np.asarray(bank.descriptors, np.float32)
    # What made the sounds (audio slices, a pyo or Pd synth), so perform picks the voice.
    source, source_arrays = bundle_sound_parts(bank)
    if source is not None:
        config["sound_source"] = source
        arrays["sound_bank"].update(source_arrays)
        if bank.kind == "audio":  # a slice plays whole: slice numbers are not blended
            config["runtime"]["blend_k"] = 1    # nor alike: their numbers say nothing of it
            config["runtime"]["like_tolerance"] = 0.0

    # 6. metrics with the exact play-time path
    t0 = time.perf_counter()
    runtime = Runtime(Bundle(path="(training)", config=config, arrays=arrays))
    eval_windows = held_out if len(held_out) >= 2 * 10 + 2 else windows
    if base is not None:    # --from: seconds matter; a sample says as much
        eval_windows, frames_held = refit.metric_sample(eval_windows, frames_held)
        times_held = None  # a sample of frames has no times to follow
    quality = measure(runtime, eval_windows, frames_held, seed=train_cfg.seed,
                      frame_times=times_held)
    quality["held_out"] = bool(len(held_out) >= 22)
    stage("metrics", t0)

    total = time.perf_counter() - start
    losses = {"gesture_sae": _last_losses(gesture_sae.history),
              "gesture_sae_held_out": _last_losses(gesture_sae.history, "held_out_losses"),
              "sound_sae": _last_losses(sound_sae.history),
              "mapping": (net.history["losses"][-1] if net is not None else None)}
    config.update({"seed": train_cfg.seed, "training_seconds": round(total, 3),
                   "timings": timings, "metrics": quality, "final_losses": losses,
                   "n_training_windows": int(len(windows)),
                   "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    summary = {"seconds": total, "timings": timings, "losses": losses, "metrics": quality,
               "histories": {"gesture_sae": gesture_sae.history, "sound_sae": sound_sae.history,
                             "mapping": net.history if net is not None else None},
               "windows": windows, "held_out": held_out,
               "gesture_seconds": float(sum(rec.duration for rec in recordings))}
    return config, arrays, summary


def _finetune(model, x: np.ndarray, y: np.ndarray, n_classes: int, what: str, quiet: bool) -> None:
    """Fine-tune on the labelled rows only (paper §3.2: labels may cover part of the data)."""
    keep = y >= 0
    if len(np.unique(y[keep])) < 2:
        raise BadInput(f"fine-tuning the {what} network needs at least two labelled {what} "
                       f"categories with data, got {len(np.unique(y[keep]))}",
                       f"label more {what}s (two categories or more)")
    model.finetune(x[keep], y[keep], max(n_classes, 2), quiet=quiet)


def _last_losses(history: dict, key: str = "layer_losses") -> list[float]:
    return [float(layer[-1]) for layer in (history or {}).get(key, []) if layer]
