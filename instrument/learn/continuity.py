"""Continuity in time: does the sound glide while the hand moves, or leap?

Neighbourhood figures (:mod:`instrument.learn.metrics`) say whether similar strokes give
similar sounds; they cannot see an instrument that leaps an octave every few frames along one
stroke. These figures are measured on the control stream itself, frame by frame, over the
frames while the pointer moves (a still frame holds its sound by design and is left out):

- ``octave_jumps``: share of consecutive moving frames whose carrier moves more than an octave;
- ``param_jumps``: share whose parameter vector moves more than ``PARAM_JUMP`` (10%) of a
  parameter's range in some parameter (0..1 space: any synth, not only FM);
- ``changes_per_s``: how often the bank sound (the closest one, after hysteresis) changes,
  per second of movement;
- ``median_run``: median number of consecutive moving frames that keep one bank sound, and
  ``median_run_ms`` the same in milliseconds.

Pure numpy; no torch.
"""

from __future__ import annotations

import numpy as np

from instrument.errors import BadInput

#: A parameter step larger than this share of the parameter's range counts as a jump.
PARAM_JUMP = 0.1
KEYS = ("octave_jumps", "param_jumps", "changes_per_s", "median_run", "median_run_ms")


def time_continuity(times: np.ndarray, sounds: np.ndarray, params: np.ndarray,
                    still: np.ndarray, table) -> dict:
    """Per-frame continuity figures of one control stream (see the module docstring).

    A frame *moves* when its window's newest step moved; a mouse sends fewer samples than the
    control rate, so moving frames alternate with still frames that hold the sound. Each
    moving frame is compared with the frame before it (what was heard just before); time in
    movement is every frame gap that touches a moving frame.

    Args:
        times: float (N,) frame times in seconds, increasing.
        sounds: int (N,) bank index of each frame.
        params: float (N, P) physical parameters of each frame, in table order.
        still: bool (N,) True where the frame's newest step did not move.
        table: The :class:`instrument.sound.params.ParamTable` of ``params``.

    Returns:
        A dict with KEYS, plus ``moving_frames`` (how many moving frames were measured) and
        ``param_jump`` (the threshold used). Figures are 0 without movement.
    """
    times = np.asarray(times, np.float64)
    sounds = np.asarray(sounds)
    params = np.asarray(params, np.float64)
    still = np.asarray(still, bool)
    n = len(times)
    if not (len(sounds) == len(still) == n and params.shape[:1] == (n,)):
        raise BadInput(f"continuity: {n} frame times but {len(sounds)} sounds, "
                       f"{len(params)} parameter rows and {len(still)} still flags")
    result = {"moving_frames": 0, "param_jump": PARAM_JUMP, "octave_jumps": 0.0,
              "param_jumps": 0.0, "changes_per_s": 0.0, "median_run": 0.0, "median_run_ms": 0.0}
    if n < 2:
        return result
    moving = ~still
    step = moving[1:]                      # frame i computed a new sound
    active = moving[1:] | moving[:-1]      # the gap i-1 -> i is time in movement
    result["moving_frames"] = int(step.sum())
    if not step.any():
        return result
    if "carrier_hz" in table.names:
        carrier = params[:, table.index_of("carrier_hz")]
        octaves = np.abs(np.diff(np.log2(np.maximum(carrier, 1e-9))))
        result["octave_jumps"] = float((octaves[step] > 1.0).mean())
    unit = table.to_unit(params)
    jumps = np.abs(np.diff(unit, axis=0)).max(axis=1)
    result["param_jumps"] = float((jumps[step] > PARAM_JUMP).mean())
    changed = (sounds[1:] != sounds[:-1]) & step
    dts = np.diff(times)
    seconds = float(dts[active].sum())
    result["changes_per_s"] = float(changed.sum() / seconds) if seconds > 0 else 0.0
    # runs of one sound inside movement: a change or a pause ends a run
    frames, spans = [], []
    run, run_s = int(moving[0]), 0.0
    for i in range(1, n):
        if active[i - 1] and not changed[i - 1]:
            run += int(moving[i])
            run_s += dts[i - 1]
            continue
        if run:
            frames.append(run)
            spans.append(run_s + (dts[i - 1] if active[i - 1] else 0.0))
        run, run_s = int(moving[i]), 0.0
    if run:
        frames.append(run)
        spans.append(run_s)
    result["median_run"] = float(np.median(frames))
    result["median_run_ms"] = float(np.median(spans) * 1000.0)
    return result
