"""The ``descriptors`` pairing: similar strokes get sounds a listener hears as similar.

The structure pairing (mapping.py) keeps neighbourhoods between the two autoencoders' feature
spaces, which are neither what a performer does nor what a listener hears. This pairing
matches the *descriptor* spaces instead: what each window does (gesture/descriptors.py:
speed, acceleration, curvature, direction, extent) onto what each bank sound sounds like
(sound/descriptors.py: loudness, pitch, centroid, spread, flatness, roughness).

1. Both descriptor sets become spaces where every axis counts alike (``gesture_space``,
   ``descriptor_space``: logs where we perceive ratios, standardised).
2. The sound space is reduced to its first ``dims`` principal axes, whitened: the search
   space the mapping network lands in and the closest sound is chosen in.
3. Steering (``--steer speed=loudness``): each steered gesture descriptor is carried onto its
   sound descriptor (sign ``-`` reverses it) by ranks, axis against axis. The rest of each
   space (the descriptors with the steered columns regressed out, on their principal axes)
   is matched the same way, principal axis against principal axis.
4. As in the structure pairing, each gesture axis goes to the matching sound axis by ranks
   (quantile matching, monotone, so neighbours stay neighbours), then ``iterations`` rounds of
   iterative distribution transfer (Pitié et al. 2005) among the unsteered axes spread the
   windows over the whole bank.
5. Pins (``--pin``): the windows of a pinned stretch go to the pinned sound exactly, and every
   other window is pulled the same way by ``exp(-d² / 2σ²)`` of its gesture distance ``d`` to
   the pinned stretch (σ: the median distance to its 10th neighbour times 3), so its
   neighbours play neighbouring sounds.

The result is the target point of every window in the search space (the network is trained
on those, not on the snapped sounds: smoother targets, a smoother map) and the bank sound
closest to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from instrument.errors import BadInput
from instrument.gesture.descriptors import STEERABLE, gesture_space, steer_column
from instrument.sound.descriptors import SOUND_DESCRIPTORS, descriptor_space

# Short names a performer types in --steer, for the sound descriptors.
SOUND_NAMES = {"loudness": 0, "pitch": 1, "brightness": 2, "centroid": 2, "spread": 3,
               "flatness": 4, "noisiness": 4, "roughness": 5}
for _i, _name in enumerate(SOUND_DESCRIPTORS):
    SOUND_NAMES.setdefault(_name, _i)


@dataclass(frozen=True)
class Steer:
    """One ``--steer`` pair: gesture descriptor -> (+/-) sound descriptor."""

    gesture: str
    sound: str
    sign: float

    @property
    def sound_column(self) -> int:
        """The sound descriptor's column in SOUND_DESCRIPTORS order."""
        return SOUND_NAMES[self.sound]


def parse_steer(text: str) -> list[Steer]:
    """``speed=loudness,height=-pitch`` -> Steer pairs (BadInput naming a bad part)."""
    pairs = []
    for part in [p.strip() for p in str(text).split(",") if p.strip()]:
        g, sep, s = part.partition("=")
        g, s = g.strip(), s.strip()
        sign = -1.0 if s.startswith("-") else 1.0
        s = s.lstrip("+-").strip()
        if not sep or g not in STEERABLE or s not in SOUND_NAMES:
            raise BadInput(f"--steer {part!r} is not GESTURE=SOUND or =-SOUND",
                           f"gesture: {', '.join(STEERABLE)}; sound: {', '.join(SOUND_NAMES)}")
        pairs.append(Steer(g, s, sign))
    if not pairs:
        raise BadInput(f"--steer {text!r} names no pair", "e.g. --steer speed=loudness")
    if len({p.gesture for p in pairs}) < len(pairs) or \
            len({p.sound_column for p in pairs}) < len(pairs):
        raise BadInput(f"--steer {text!r} uses a descriptor twice",
                       "steer each gesture and each sound descriptor at most once")
    return pairs


def sound_search_space(bank_descriptors: np.ndarray, dims: int) -> dict:
    """The closest-sound search space of a descriptor model (see module docstring, step 2).

    Returns:
        {"search_mean": (6,), "search_axes": (6, d), "search": (S, d)} float32 — search =
        (descriptor_space(bank) - mean) @ axes — and "retained", the variance share kept.
    """
    from instrument.learn.mapping import principal_axes

    space = descriptor_space(bank_descriptors)
    mean, axes = principal_axes(space, dims)
    centred = space - mean
    unit = axes / np.linalg.norm(axes, axis=0)
    retained = float(((centred @ unit) ** 2).sum() / max((centred ** 2).sum(), 1e-30))
    return {"search_mean": mean.astype(np.float32), "search_axes": axes.astype(np.float32),
            "search": (centred @ axes).astype(np.float32), "retained": retained}


def _standard(x: np.ndarray) -> np.ndarray:
    std = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(std > 1e-12, std, 1.0)


def _residual_axes(space: np.ndarray, steered: np.ndarray, dims: int) -> np.ndarray:
    """``space`` with the steered columns regressed out, on its first ``dims`` whitened axes."""
    from instrument.learn.mapping import whitened_axes

    if dims <= 0:
        return np.zeros((len(space), 0))
    if steered.shape[1]:
        design = np.hstack([steered, np.ones((len(space), 1))])
        coef, *_ = np.linalg.lstsq(design, space, rcond=None)
        space = space - design @ coef
    return whitened_axes(space, dims)


def pair_descriptors(gesture_descriptors: np.ndarray, bank_descriptors: np.ndarray,
                     search: dict, iterations: int = 1, seed: int = 0,
                     steer: list[Steer] | None = None,
                     pins: list[tuple[np.ndarray, int]] | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Descriptor-space pairing (module docstring).

    Args:
        gesture_descriptors: (N, 7) descriptors of the training windows.
        bank_descriptors: (S, 6) descriptors of the bank sounds.
        search: :func:`sound_search_space` output.
        iterations: Rounds of distribution transfer among the unsteered axes.
        seed: Seeds the rotations.
        steer: Steered pairs.
        pins: (window indices, bank index) per pin.

    Returns:
        (pairs (N,) bank index per window, targets (N, d) points in the search space).
    """
    from scipy.spatial import cKDTree

    from instrument.learn.mapping import transfer

    steer = steer or []
    g_space = gesture_space(gesture_descriptors)
    s_space = descriptor_space(bank_descriptors)
    bank_search = np.asarray(search["search"], np.float64)
    d = bank_search.shape[1]
    if len(steer) > d:
        raise BadInput(f"{len(steer)} steered pairs but the search space has {d} axes",
                       f"steer at most {d} pairs")
    g_steer = np.stack([_standard(steer_column(gesture_descriptors, p.gesture)) for p in steer],
                       axis=1) if steer else np.zeros((len(g_space), 0))
    s_steer = np.stack([p.sign * s_space[:, p.sound_column] for p in steer], axis=1) \
        if steer else np.zeros((len(s_space), 0))
    free = d - len(steer)
    g = np.hstack([g_steer, _residual_axes(g_space, g_steer, free)])
    s = np.hstack([s_steer, _residual_axes(s_space, s_steer, free)])
    moved = transfer(g, s, 0, seed)        # steered and free axes: ranks, axis against axis
    if iterations and free > 1:
        moved[:, len(steer):] = transfer(moved[:, len(steer):], s[:, len(steer):], iterations,
                                         seed)
    # From the pairing coordinates to the search space: both are linear in the sound
    # descriptors, so one least-squares map fitted on the bank carries points over.
    design = np.hstack([s, np.ones((len(s), 1))])
    coef, *_ = np.linalg.lstsq(design, bank_search, rcond=None)
    targets = np.hstack([moved, np.ones((len(moved), 1))]) @ coef
    for windows, sound in pins or []:
        targets = _pull(targets, g_space, np.asarray(windows, np.int64), bank_search[sound])
    pairs = np.asarray(cKDTree(bank_search).query(targets, k=1)[1], np.int64)
    for windows, sound in pins or []:
        pairs[np.asarray(windows, np.int64)] = sound
    return pairs, targets.astype(np.float32)


def _pull(targets: np.ndarray, g_space: np.ndarray, windows: np.ndarray,
          point: np.ndarray) -> np.ndarray:
    """Move the pinned windows onto ``point`` and their gesture neighbours most of the way."""
    from scipy.spatial import cKDTree

    if len(windows) == 0:
        return targets
    tree = cKDTree(g_space[windows])
    dist, _ = tree.query(g_space, k=1)
    k = min(10, len(g_space) - 1)
    scale = np.median(cKDTree(g_space).query(g_space[windows], k=k + 1)[0][:, -1]) * 3
    weight = np.exp(-(dist / max(scale, 1e-9)) ** 2 / 2)[:, None]
    shift = point[None, :] - targets[windows].mean(axis=0, keepdims=True)
    out = targets + weight * shift
    out[windows] = point
    return out
