"""How well an instrument maps: the held-out part of a recording and the figures measured on it.

The map is measured with the exact play-time path (:class:`instrument.runtime.Runtime`), on
the tail of each recording that training never saw; every figure comes with its random
baseline in the same run (see :mod:`instrument.learn.metrics` for the definitions).
"""

from __future__ import annotations

import numpy as np

from instrument.config import GestureConfig
from instrument.errors import BadInput


def split_windows(windows: np.ndarray, holdout: float) -> tuple[np.ndarray, np.ndarray]:
    """(training windows, held-out tail windows) of one recording's windows in time order."""
    n_test = int(round(len(windows) * holdout))
    return windows[:len(windows) - n_test], windows[len(windows) - n_test:]


def evaluation_windows(rec, gesture_cfg: GestureConfig, holdout: float, stream_spec=None,
                       with_times: bool = False) -> tuple[np.ndarray, ...]:
    """The held-out tail of a recording: (windows at every control step, control frames).

    The tail is the last ``holdout`` share of the recording's time; windows are taken at every
    step (hop 1) so the map is measured densely, frames are every control frame of the tail in
    time order (for stillness stability). ``stream_spec``: None for a pointer, else the
    model's StreamSpec (:mod:`instrument.gesture.stream`). ``with_times``: also return the
    frames' times in seconds (for the continuity-in-time figures).
    """
    from instrument.gesture.stream import gesture_frames, gesture_windows

    if stream_spec is None:  # a pointer: only the tail is computed (gesture/tail.py)
        from instrument.gesture.stream import check_fits
        from instrument.gesture.tail import pointer_tail

        check_fits(None, rec.channel_list(), "the model", rec.path or "the recording")
        windows, frames, times = pointer_tail(rec, gesture_cfg, holdout)
        return (windows, frames, times) if with_times else (windows, frames)
    windows = gesture_windows(rec, gesture_cfg, stream_spec, hop_steps=1)
    times, frames = gesture_frames(rec, gesture_cfg, stream_spec)
    n_test = int(round(len(windows) * holdout))
    if len(times) == 0:
        return (windows[:0], frames, times) if with_times else (windows[:0], frames)
    cut = times[0] + (times[-1] - times[0]) * (1.0 - holdout)
    tail = times >= cut
    # a copy of the tail, not a view: a view would keep every hop-1 window of the whole
    # recording alive through training (280 MB for 2 hours, 5x what is used)
    kept = windows[len(windows) - n_test:].copy()
    del windows
    if with_times:
        return kept, frames[tail], times[tail]
    return kept, frames[tail]


def measure(runtime, eval_windows: np.ndarray, frame_windows: np.ndarray | None,
            seed: int = 0, frame_times: np.ndarray | None = None) -> dict:
    """Mapping metrics of a runtime on held-out windows, with the random baseline.

    Args:
        runtime: A :class:`instrument.runtime.Runtime`.
        eval_windows: Held-out gesture windows (N, D): the map is measured on them.
        frame_windows: Every control frame of the held-out stretch, in time order (for
            stillness stability through the stateful per-frame path), or None.
        frame_times: The frames' times in seconds: adds ``continuity_in_time``, the figures
            of :mod:`instrument.learn.continuity` for the frames as played and for the plain
            closest sound (no glide, no blend), so the glide's part is plain.
    """
    from instrument.learn import metrics

    if len(eval_windows) < 2 * metrics.N_NEIGHBORS + 2:
        raise BadInput(f"only {len(eval_windows)} held-out gesture windows to measure the map on",
                       "record longer gestures or give --gestures with a longer file")
    gesture = runtime.features_batch(eval_windows)
    played = runtime.nearest_batch(eval_windows)
    sounds = still = None
    if frame_windows is not None and len(frame_windows):
        sounds, _ = runtime.play(frame_windows)
        still = np.array([runtime.is_still(w) for w in frame_windows], bool)
    result = metrics.mapping_quality(gesture, played, runtime.bank_search, sounds, still,
                                     seed=seed)
    if sounds is not None and frame_times is not None:
        result["continuity_in_time"] = continuity_in_time(runtime, frame_windows, frame_times)
    if sounds is not None:
        # The same frames without the still hold (hysteresis only), said next to it so the
        # hold's share of the stability figure is plain.
        hold = runtime.still_hold
        runtime.still_hold = False
        try:
            unheld, _ = runtime.play(frame_windows)
        finally:
            runtime.still_hold = hold
            runtime.reset()
        rng = np.random.default_rng(seed + 2)
        result["model"]["stability_no_hold"] = metrics.stability(unheld, still)
        result["random"]["stability_no_hold"] = metrics.stability(
            unheld[rng.permutation(len(unheld))], still)
    return result


def measure_in_sound_features(bundle, runtime, eval_windows: np.ndarray, seed: int = 0) -> dict:
    """Trustworthiness, continuity and Spearman against the played sounds' *full* matching
    features (the sound SAE's hidden layers), with the random baseline.

    :func:`measure` places the played sounds in the search space (the few principal axes
    the closest sound is chosen in); this says how much of the neighbourhood-keeping holds in
    the whole sound feature space, so the two can be read side by side.
    """
    from instrument.learn import metrics
    from instrument.learn.sae import StackedAutoencoder

    sound_sae = StackedAutoencoder.from_state(bundle.config["sound_sae"],
                                              bundle.arrays["sound_sae"])
    features = sound_sae.encode(bundle.arrays["sound_bank"]["features"],
                                layers=bundle.config["runtime"]["sound_layers"])
    result = metrics.mapping_quality(runtime.features_batch(eval_windows),
                                     runtime.nearest_batch(eval_windows), features, seed=seed,
                                     with_coverage=False)
    keys = ("trustworthiness", "continuity", "spearman")
    return {"dims": int(features.shape[1]),
            "model": {k: result["model"][k] for k in keys},
            "random": {k: result["random"][k] for k in keys}}


def continuity_in_time(runtime, frame_windows: np.ndarray, frame_times: np.ndarray) -> dict:
    """Continuity-in-time figures of the frames as played and with the plain closest sound.

    Returns:
        {"played": figures, "closest_sound": figures} (see learn.continuity.time_continuity);
        ``closest_sound`` is the rule of bundles from before the glide
        (frame_policy.plain_rule).
    """
    from instrument.frame_policy import plain_rule
    from instrument.learn.continuity import time_continuity

    still = np.array([runtime.is_still(w) for w in frame_windows], bool)
    out = {}
    try:
        sounds, params = runtime.play(frame_windows)
    finally:
        runtime.reset()
    out["played"] = time_continuity(frame_times, sounds, params, still, runtime.table)
    with plain_rule(runtime):
        sounds, params = runtime.play(frame_windows)
    out["closest_sound"] = time_continuity(frame_times, sounds, params, still, runtime.table)
    return out
