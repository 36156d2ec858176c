"""What a listener hears of a map: the frames as played, rendered and described.

:mod:`instrument.learn.independent` places each window's *closest* bank sound in the sound
descriptor space (the bank's stored descriptors). The instrument does not play exactly that:
its frame path (``Runtime.frame``) glides the mapped point, keeps a sound by hysteresis,
may choose the most alike sound on a change, and with ``blend_k`` > 1 plays the closest
sounds' 0..1 parameters interpolated, and an FM sound made of interpolated parameters need
not sound like any of them (FM's pitch and roughness are far from linear in the modulator
ratio). This module plays the held-out windows through the frame path in time order from a
fresh state, as a performance would, and places what each moving frame plays in the
descriptor space: the bank sound's stored descriptors when one sound is played as it is, or
its parameters rendered and described with the bank's own renderer and settings
(sound/descriptors.describe_params) when they are blended or faded. The same
trustworthiness, continuity and distance Spearman then say whether "similar strokes,
similar sounds" holds for what is heard.

Beside the figures: ``to_sound_played``, the median distance in the descriptor space from
what is heard to the stored descriptors of the bank sound the frame reports (0 when that
sound is played as it is), and for scale ``bank_spacing``, the bank's median distance from a
sound to its nearest other sound.

Rendered here: FM banks. A pyo or Pd synth or audio slices played blended or faded are left
out with the reason (their renderer is the user's synth or the sampler).
"""

from __future__ import annotations

import numpy as np

from instrument.sound.descriptors import descriptor_space

KEYS = ("trustworthiness", "continuity", "spearman")
HEARD_POINTS = 2000   # frames placed per runtime: the size the neighbourhood figures use
MAX_SECONDS = 10.0    # longest render per frame a bundle may ask for


def moving_rows(still: np.ndarray, seed: int, points: int = HEARD_POINTS) -> np.ndarray:
    """A seeded subsample (sorted) of the frames that are not still."""
    moving = np.flatnonzero(~np.asarray(still, bool))
    if len(moving) <= points:
        return moving
    return np.sort(np.random.default_rng(seed + 7).choice(moving, points, replace=False))


def heard_frames(runtime, windows: np.ndarray, bank_desc: np.ndarray, sound_config: dict,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray] | str:
    """(rows, reported sounds, descriptors (n, 6) of what is heard) of the moving frames,
    or a line saying why it is not measured.

    Args:
        runtime: A Runtime (played from a fresh state and reset after).
        windows: Gesture windows in time order, one per frame.
        bank_desc: The bank's stored descriptors (S, 6).
        sound_config: The bundle's ``configs.sound`` (``seconds``, ``rate`` of the renders).
    """
    try:
        sounds, params = runtime.play(windows)
        still = np.array([runtime.is_still(w) for w in windows], bool)
    finally:
        runtime.reset()
    rows = moving_rows(still, seed)
    if runtime.blend_k <= 1 and runtime.fade is None:
        return rows, sounds[rows], np.asarray(bank_desc[sounds[rows]], np.float64)
    what = f"a blend of {runtime.blend_k} sounds" if runtime.blend_k > 1 else "faded sounds"
    if getattr(runtime, "sound_kind", "fm") != "fm":
        return (f"not measured: {what} of a {runtime.sound_kind} bank are rendered by its "
                f"own voice, not here")
    from instrument.sound.descriptors import describe_params

    seconds, rate = sound_config.get("seconds", 1.0), sound_config.get("rate", 22050)
    if not (isinstance(seconds, (int, float)) and 0 < seconds <= MAX_SECONDS
            and isinstance(rate, (int, float)) and 8000 <= rate <= 192_000):
        return (f"not measured: the bundle's sound length {seconds!r} s or rate {rate!r} Hz "
                f"is outside 0-{MAX_SECONDS} s / 8000-192000 Hz")
    rendered = describe_params(params[rows], float(seconds), float(rate), runtime.table)
    return rows, sounds[rows], rendered.astype(np.float64)


def measure_heard(runtimes: dict, windows: np.ndarray, g_space: np.ndarray,
                  bank_desc: np.ndarray, sound_config: dict, seed: int = 0) -> dict:
    """Descriptor-space figures of what each runtime's frames sound like.

    Args:
        runtimes: Name -> Runtime ("model", "paper_pairing", ...).
        windows: Held-out gesture windows in time order (N, D), played as frames.
        g_space: Their gesture descriptor space (N, G) (gesture/descriptors.gesture_space).
        bank_desc: The bank's stored descriptors (S, 6).
        sound_config: The bundle's ``configs.sound``.

    Returns:
        {"blend_k": the model's, "bank_spacing": median nearest-sound distance,
        name: {n_frames, trustworthiness, continuity, spearman, to_sound_played} or
        {"note": why not}}; the model's chance figures under "random".
    """
    from instrument.frame_policy import bank_spacing
    from instrument.learn import metrics

    bank_space = descriptor_space(bank_desc)
    out: dict = {"blend_k": int(runtimes["model"].blend_k),
                 "bank_spacing": round(float(np.median(bank_spacing(bank_space))), 4)}
    for name, runtime in runtimes.items():
        heard = heard_frames(runtime, windows, bank_desc, sound_config, seed)
        if isinstance(heard, str):
            out[name] = {"note": heard}
            continue
        rows, sounds, desc = heard
        if len(rows) < 2 * metrics.N_NEIGHBORS + 2:
            out[name] = {"note": f"not measured: only {len(rows)} moving frames"}
            continue
        space = descriptor_space(desc, bank_desc)   # the bank's scale, so the two compare
        q = metrics.mapping_quality(g_space[rows], np.arange(len(rows)), space, seed=seed,
                                    with_coverage=False)
        out[name] = {"n_frames": int(len(rows))}
        out[name].update({k: round(q["model"][k], 4) for k in KEYS})
        out[name]["to_sound_played"] = round(float(np.median(
            np.linalg.norm(space - bank_space[sounds], axis=1))), 4)
        if name == "model":
            out["random"] = {k: round(q["random"][k], 4) for k in KEYS}
    return out


def heard_lines(heard: dict) -> list[str]:
    """Plain-text lines of one held-out set's as-heard figures."""
    names = [n for n in ("model", "random", "paper_pairing") if n in heard
             and "note" not in heard[n]]
    if "model" not in names:
        return [f"  as heard: {heard.get('model', {}).get('note', 'not measured')}"]
    policy = "one sound as it is" if heard["blend_k"] <= 1 else \
        f"a blend of {heard['blend_k']} rendered"
    lines = [f"  as heard ({heard['model']['n_frames']} moving frames as played, {policy}): "
             + " / ".join(names)]
    for key in KEYS:
        lines.append(f"  {key:<18} " + " ".join(f"{heard[n][key]:7.3f}" for n in names))
    lines.append(f"  heard to the bank sound played: median "
                 f"{heard['model']['to_sound_played']:.3f} (bank's nearest-sound spacing "
                 f"{heard['bank_spacing']:.3f})")
    return lines
