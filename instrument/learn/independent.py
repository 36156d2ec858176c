"""Measuring a map in spaces it was not trained in: what the hand does, what the ear hears.

:func:`instrument.learn.evaluation.measure` measures a map in the model's own spaces (gesture
SAE features against the search space its mapping lands in). This module measures the same
played sounds in independent spaces: the gesture descriptors of each window
(gesture/descriptors.py: speed, acceleration, curvature, direction, extent) against the
played sound's descriptors (sound/descriptors.py: loudness, pitch, centroid, spread,
flatness, roughness), with the same trustworthiness, continuity, distance Spearman and
coverage (learn/metrics.py), plus the Spearman rank correlation of every gesture descriptor
with every sound descriptor over the played windows.

Beside the model in the same run: ``random`` (the same played sounds shuffled across the
windows: chance) and ``paper_pairing`` (paper §5.2: random sounds assigned to random training
windows, then a mapping network trained on those pairs with the model's own autoencoders,
search space and settings; :func:`paper_runtime`).

Two held-out sets: the tail of the training recording, and held-out stroke families
(gesture/heldout.py) that no training generator makes.
"""

from __future__ import annotations

import numpy as np

from instrument.gesture.descriptors import STEERABLE, describe_windows, gesture_space, steer_column
from instrument.sound.descriptors import SOUND_DESCRIPTORS, descriptor_space

KEYS = ("trustworthiness", "continuity", "spearman", "coverage")
FAMILY_SECONDS = 120.0
CORRELATION_POINTS = 4000


def bank_descriptors(bundle, runtime) -> np.ndarray:
    """The bundle's stored sound descriptors, or computed now from its parameters (FM)."""
    stored = bundle.arrays["sound_bank"].get("descriptors")
    if stored is not None and stored.shape == (runtime.n_sounds, len(SOUND_DESCRIPTORS)):
        return np.asarray(stored, np.float64)
    from instrument.sound.descriptors import describe_params

    sound = bundle.config.get("configs", {}).get("sound", {})
    return describe_params(runtime.bank_params, float(sound.get("seconds", 1.0)),
                           float(sound.get("rate", 22050)), runtime.table).astype(np.float64)


def gesture_columns(descriptors: np.ndarray) -> dict[str, np.ndarray]:
    """Every steerable gesture descriptor present (pressure only where the stream has it)."""
    return {name: steer_column(descriptors, name) for name in STEERABLE
            if name != "pressure" or np.isfinite(descriptors[:, 6]).all()}


def correlations(gesture_desc: np.ndarray, played_desc: np.ndarray, seed: int = 0) -> dict:
    """Spearman of each gesture descriptor with each played sound descriptor.

    Returns:
        {gesture name: {sound name: rho}} over a seeded subsample of CORRELATION_POINTS rows
        (0.0 where a column is constant).
    """
    from scipy.stats import spearmanr

    rows = np.arange(len(gesture_desc))
    if len(rows) > CORRELATION_POINTS:
        rows = np.sort(np.random.default_rng(seed).choice(len(rows), CORRELATION_POINTS, False))
    out: dict = {}
    for g_name, column in gesture_columns(gesture_desc[rows]).items():
        out[g_name] = {}
        for j, s_name in enumerate(SOUND_DESCRIPTORS):
            s = played_desc[rows, j]
            constant = np.ptp(column) == 0 or np.ptp(s) == 0
            out[g_name][s_name] = 0.0 if constant else round(float(spearmanr(column, s).statistic), 4)
    return out


def measure_descriptors(runtimes: dict, windows: np.ndarray, gesture_cfg,
                        bank_desc: np.ndarray, seed: int = 0,
                        sound_config: dict | None = None) -> dict:
    """The descriptor-space figures of each runtime on ``windows``, and chance.

    Args:
        runtimes: Name ("model", "paper_pairing", ...) -> Runtime; "model" must be there.
        windows: Held-out gesture windows (pointer windows of ``gesture_cfg``).
        bank_desc: (S, 6) descriptors of the bank sounds.
        sound_config: The bundle's ``configs.sound``: also measure what is heard
            (learn/heard.py: the parameters as played, rendered) under "as_heard".

    Returns:
        {"n_windows", "model": {...}, "random": {...}, other names: {...},
        "correlations": {name: {gesture: {sound: rho}}}, "as_heard": {...}}: the figures
        of the closest sound of each window, and of what it plays as heard.
    """
    from instrument.learn import metrics

    g_desc = describe_windows(windows, gesture_cfg)
    g_space = gesture_space(g_desc)
    s_space = descriptor_space(bank_desc)
    result: dict = {"n_windows": int(len(windows)), "correlations": {}}
    for name, runtime in runtimes.items():
        played = runtime.nearest_batch(windows)
        q = metrics.mapping_quality(g_space, played, s_space, seed=seed)
        result[name] = {k: round(q["model"][k], 4) for k in KEYS}
        if name == "model":
            result["random"] = {k: round(q["random"][k], 4) for k in KEYS}
        result["correlations"][name] = correlations(g_desc, bank_desc[played], seed)
    if sound_config is not None:
        from instrument.learn.heard import measure_heard

        result["as_heard"] = measure_heard(runtimes, windows, g_space, bank_desc, sound_config,
                                           seed)
    return result


def measure_own_space(runtimes: dict, windows: np.ndarray, seed: int = 0) -> dict:
    """The model's own-space figures (gesture features vs the search space) of each runtime."""
    from instrument.learn import metrics

    result: dict = {"n_windows": int(len(windows))}
    for name, runtime in runtimes.items():
        q = metrics.mapping_quality(runtime.features_batch(windows), runtime.nearest_batch(windows),
                                    runtime.bank_search, seed=seed)
        result[name] = {k: round(q["model"][k], 4) for k in KEYS}
        if name == "model":
            result["random"] = {k: round(q["random"][k], 4) for k in KEYS}
    return result


def family_windows(gesture_cfg, seconds: float = FAMILY_SECONDS) -> np.ndarray:
    """Every-step windows of the held-out stroke families (gesture/heldout.py, its own seed)."""
    from instrument.gesture import steps
    from instrument.gesture.heldout import heldout_strokes

    return steps.windows_from_recording(heldout_strokes(seconds), gesture_cfg, hop_steps=1)


def paper_runtime(bundle, train_windows: np.ndarray, seed: int = 0):
    """The paper's pairing (§5.2) with this model's autoencoders, search space and settings.

    Random bank sounds are assigned to random training windows and a mapping network like the
    model's is trained on those pairs (torch; a few seconds); the rest of the bundle is the
    model's own, so only the pairing differs.

    Returns:
        A Runtime, or None for an l2 model (no mapping network to train).
    """
    from instrument.formats.bundle import Bundle
    from instrument.learn.mapping import MappingMLP, pair_random
    from instrument.learn.sae import StackedAutoencoder
    from instrument.runtime import Runtime

    meta = bundle.config.get("mapping")
    if not meta:
        return None
    train = bundle.config["configs"]["train"]
    gesture_sae = StackedAutoencoder.from_state(bundle.config["gesture_sae"],
                                                bundle.arrays["gesture_sae"])
    feats = gesture_sae.encode(train_windows, layers=bundle.config["runtime"]["gesture_layers"])
    search = bundle.arrays["sound_bank"]["search"]
    pairs = pair_random(len(feats), len(search), seed)
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)    # a small network: one thread is fastest on a shared machine
    try:
        net = MappingMLP(feats.shape[1], search.shape[1], meta["hidden"], meta["activation"],
                         seed)
        net.fit(feats, search[pairs], epochs=int(train.get("mapping_epochs", 80)),
                lr=float(train.get("mapping_lr", 3e-3)), seed=seed)
    finally:
        torch.set_num_threads(threads)
    net_meta, net_arrays = net.to_state()
    config = dict(bundle.config, mapping=net_meta)
    arrays = dict(bundle.arrays, mapping=net_arrays)
    return Runtime(Bundle(path=f"{bundle.path} (paper's pairing)", config=config, arrays=arrays))


def independent_report(bundle, runtime, tail_windows: np.ndarray,
                       train_windows: np.ndarray | None, seed: int = 0,
                       family_seconds: float = FAMILY_SECONDS) -> dict:
    """Both held-out sets in the descriptor spaces, and the families in the model's own space.

    Args:
        bundle, runtime: The model (Bundle and its Runtime).
        tail_windows: Held-out windows of the training recording (or of --gestures).
        train_windows: The training windows the paper's pairing is trained on (None: no
            paper's pairing, e.g. when the training recording is not found).
        family_seconds: Length of the held-out stroke families (0: leave them out).

    Returns:
        {"descriptor_space": {"held_out_tail": ..., "held_out_families": ...},
         "model_space_families": ..., "paper_pairing": how it was made or why it is missing}.
        Pointer models only; a stream model gets {"descriptor_space": None, ...}.
    """
    if getattr(runtime, "stream_spec", None) is not None:
        return {"descriptor_space": None,
                "note": "descriptors are defined for pointer windows; this model reads a stream"}
    runtimes = {"model": runtime}
    paper_note = "not measured: the model's training recording was not found"
    if train_windows is not None and len(train_windows) >= 50:
        paper = paper_runtime(bundle, train_windows, seed)
        if paper is not None:
            runtimes["paper_pairing"] = paper
            paper_note = ("random bank sounds for random training windows, then a mapping "
                          "network like the model's on those pairs (paper 5.2)")
        else:
            paper_note = "not measured: an l2 model has no mapping network"
    cfg = runtime.gesture_config
    bank_desc = bank_descriptors(bundle, runtime)
    sound = bundle.config.get("configs", {}).get("sound", {})
    out = {"descriptor_space": {"held_out_tail": measure_descriptors(
               runtimes, tail_windows, cfg, bank_desc, seed, sound)},
           "paper_pairing": paper_note}
    if family_seconds > 0:
        families = family_windows(cfg, family_seconds)
        out["descriptor_space"]["held_out_families"] = measure_descriptors(
            runtimes, families, cfg, bank_desc, seed, sound)
        out["model_space_families"] = measure_own_space(runtimes, families, seed)
        out["held_out_families"] = {"seconds": family_seconds, "seed": _heldout_seed(),
                                    "families": list(_heldout_families())}
    return out


def _heldout_seed() -> int:
    from instrument.gesture.heldout import HELDOUT_SEED

    return HELDOUT_SEED


def _heldout_families() -> tuple[str, ...]:
    from instrument.gesture.heldout import HELDOUT_FAMILIES

    return HELDOUT_FAMILIES


def training_windows(bundle, runtime) -> np.ndarray | None:
    """The model's training windows (its recordings where training saw them, or in
    recordings/; less the held-out tail), for the paper's pairing; None when not found."""
    import os

    from instrument.formats.recording import read_recording
    from instrument.gesture import steps
    from instrument.learn.evaluation import split_windows

    names = [n for n in bundle.config.get("gesture_files") or [] if isinstance(n, str)]
    kept = [p for p in bundle.config.get("gesture_paths") or [] if isinstance(p, str)]
    paths = [kept[i] if i < len(kept) and os.path.isfile(kept[i])
             else os.path.join("recordings", os.path.basename(n)) for i, n in enumerate(names)]
    stream = getattr(runtime, "stream_spec", None) is not None
    if not paths or not all(os.path.exists(p) for p in paths) or stream:
        return None
    holdout = float(bundle.config["configs"]["train"].get("holdout", 0.2))
    parts = [split_windows(steps.windows_from_recording(read_recording(p), runtime.gesture_config),
                           holdout)[0] for p in paths]
    return np.concatenate(parts).astype(np.float32)


def report_lines(result: dict) -> list[str]:
    """Plain-text lines of the descriptor-space figures in an evaluate result."""
    spaces = result.get("descriptor_space")
    if not spaces:
        return [f"  descriptor space: {result.get('note', 'not measured')}"]
    lines = []
    for where, figures in spaces.items():
        names = [n for n in ("model", "random", "paper_pairing") if n in figures]
        lines.append(f"  descriptor space, {where.replace('_', ' ')} ({figures['n_windows']} "
                     f"windows): " + " / ".join(names))
        for key in KEYS:
            lines.append(f"  {key:<18} " + " ".join(f"{figures[n][key]:7.3f}" for n in names))
        top = sorted(((abs(r), g, s, r) for g, row in figures["correlations"]["model"].items()
                      for s, r in row.items()), reverse=True)[:3]
        lines.append("  strongest descriptor pairs: " + ", ".join(
            f"{g}~{s} {r:+.2f}" for _, g, s, r in top))
        if "as_heard" in figures:
            from instrument.learn.heard import heard_lines

            lines.extend(heard_lines(figures["as_heard"]))
    return lines
