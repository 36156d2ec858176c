"""How good is a learned gesture-to-sound map? Numbers that say whether similar strokes give similar sounds.

The paper claims that its random pairing still makes "similar strokes yield similar sounds" but
never measures it. These are the measures we use, each next to a random-permutation baseline
computed in the same call (the same played sounds, shuffled across the gestures), so a figure is
always read against chance:

- trustworthiness (sklearn's definition, k=10): sounds that are neighbours were played by
  gestures that are neighbours (no false neighbours in the sound space);
- continuity: trustworthiness with the roles swapped: gestures that are neighbours play sounds
  that are neighbours (no torn neighbourhoods);
- spearman: rank correlation of all pairwise distances, gesture space vs sound space;
- coverage: share of the sound bank within reach, after Naeem et al. 2020 ("Reliable fidelity and
  diversity metrics for generative models"): a bank sound counts as reached when some played
  sound lies among its ``coverage_k`` nearest bank neighbours, i.e. the instrument gets to its
  neighbourhood. ``coverage_exact`` (share of bank sounds played exactly) is reported too; with
  fewer windows than sounds it is necessarily small;
- stability: share of still frames (the pointer has not moved since the previous frame) whose
  sound is the previous frame's sound.

Pure numpy/scipy/sklearn; no torch.
"""

from __future__ import annotations

import numpy as np

from instrument.errors import BadInput

N_NEIGHBORS = 10
COVERAGE_K = 5


def _check_pair(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise BadInput(f"metrics need two 2-D arrays with the same number of rows, got shapes "
                       f"{x.shape} and {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise BadInput("metrics got NaN or infinite features", "check the model and the inputs")
    return x, y


def subsample(n: int, max_points: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded random subsample of ``min(n, max_points)`` of ``n`` rows."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


def trustworthiness(x: np.ndarray, y: np.ndarray, k: int = N_NEIGHBORS) -> float:
    """sklearn's trustworthiness of embedding ``y`` of ``x`` (1 = no false neighbours in ``y``).

    Args:
        x: Points in the original space, shape (N, Dx).
        y: The same points in the other space, shape (N, Dy).
        k: Neighbourhood size; must be < N / 2.
    """
    from sklearn.manifold import trustworthiness as sk_trust

    x, y = _check_pair(x, y)
    if not 0 < k < len(x) / 2:
        raise BadInput(f"trustworthiness needs more than {2 * k} points, got {len(x)}",
                       "evaluate on a longer gesture recording")
    return float(sk_trust(x, y, n_neighbors=k))


def continuity(x: np.ndarray, y: np.ndarray, k: int = N_NEIGHBORS) -> float:
    """Continuity: trustworthiness with the roles swapped (1 = neighbours in ``x`` stay neighbours)."""
    return trustworthiness(y, x, k)


def distance_spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation between the pairwise distances in ``x`` and in ``y``."""
    from scipy.spatial.distance import pdist
    from scipy.stats import spearmanr

    x, y = _check_pair(x, y)
    dx, dy = pdist(x), pdist(y)
    if np.ptp(dx) == 0 or np.ptp(dy) == 0:
        return 0.0  # a constant side has no ranks to correlate
    return float(spearmanr(dx, dy).statistic)


def coverage(played: np.ndarray, bank_features: np.ndarray, k: int = COVERAGE_K) -> float:
    """Share of bank sounds that have a played sound among their ``k`` nearest bank neighbours.

    Args:
        played: Bank indices of the sounds that were played (any length, repeats allowed).
        bank_features: The whole bank in the sound feature space, shape (S, F).
        k: Neighbourhood size (a sound is its own first neighbour).
    """
    from scipy.spatial import cKDTree

    bank = np.asarray(bank_features, dtype=np.float64)
    hit = np.zeros(len(bank), dtype=bool)
    hit[np.asarray(played, dtype=np.int64)] = True
    k = min(k, len(bank))
    _, neighbours = cKDTree(bank).query(bank, k=k)
    return float(hit[np.asarray(neighbours).reshape(len(bank), k)].any(axis=1).mean())


def coverage_exact(played: np.ndarray, n_sounds: int) -> float:
    """Share of the ``n_sounds`` bank sounds that were played at least once."""
    return float(len(np.unique(np.asarray(played))) / n_sounds)


def stability(sounds: np.ndarray, still: np.ndarray) -> float:
    """Share of still frames whose sound equals the previous frame's sound.

    Args:
        sounds: Bank index of each control frame, in time order.
        still: True where the pointer did not move since the previous frame (the first frame
            is never counted).
    """
    sounds = np.asarray(sounds)
    still = np.asarray(still, dtype=bool).copy()
    if len(sounds) != len(still):
        raise BadInput(f"stability: {len(sounds)} sounds but {len(still)} still flags")
    if len(still) == 0:
        return 1.0
    still[0] = False
    if not still.any():
        return 1.0  # no still frames: nothing could flicker
    same = np.zeros_like(still)
    same[1:] = sounds[1:] == sounds[:-1]
    return float(same[still].mean())


def mapping_quality(gesture_features: np.ndarray, played: np.ndarray,
                    bank_features: np.ndarray, frame_sounds: np.ndarray | None = None,
                    frame_still: np.ndarray | None = None, seed: int = 0,
                    max_points: int = 2000, max_pairs_points: int = 600,
                    k: int = N_NEIGHBORS) -> dict:
    """Every measure for one map, and the same measures for a random permutation of it.

    Args:
        gesture_features: Gesture matching features of each evaluation window, (N, G).
        played: Bank index of the sound each window plays, (N,).
        bank_features: The sound bank in the sound feature space, (S, F); the played sounds'
            features are its rows ``played``.
        frame_sounds: Optional sound index of every control frame (time order), for stability.
        frame_still: Optional still flag of every control frame.
        seed: Seeds the subsamples and the permutation.
        max_points: Subsample size for trustworthiness/continuity (O(N^2) memory).
        max_pairs_points: Subsample size for the distance correlation.
        k: Neighbourhood size.

    Returns:
        {"model": {...}, "random": {...}, "n_windows": N, "n_sounds": S, "k": k} where each side
        has trustworthiness, continuity, spearman, coverage, coverage_exact and (with frames)
        stability.
    """
    gesture = np.asarray(gesture_features, dtype=np.float64)
    played = np.asarray(played, dtype=np.int64)
    bank = np.asarray(bank_features, dtype=np.float64)
    if len(gesture) != len(played):
        raise BadInput(f"{len(gesture)} gesture windows but {len(played)} played sounds")
    if len(played) and (played.min() < 0 or played.max() >= len(bank)):
        raise BadInput("played sound index outside the sound bank")
    rng = np.random.default_rng(seed)
    shuffled = played[rng.permutation(len(played))]
    result: dict = {"n_windows": int(len(played)), "n_sounds": int(len(bank)), "k": int(k)}
    # Exact duplicate windows (long pauses) make neighbour ranks arbitrary ties: keep one of each.
    _, first = np.unique(gesture, axis=0, return_index=True)
    first = np.sort(first)
    keep = first[subsample(len(first), max_points, seed)]
    pairs = first[subsample(len(first), max_pairs_points, seed + 1)]
    for side, sounds in (("model", played), ("random", shuffled)):
        y = bank[sounds]
        figures = {
            "trustworthiness": trustworthiness(gesture[keep], y[keep], k),
            "continuity": continuity(gesture[keep], y[keep], k),
            "spearman": distance_spearman(gesture[pairs], y[pairs]),
            "coverage": coverage(sounds, bank),
            "coverage_exact": coverage_exact(sounds, len(bank)),
        }
        result[side] = figures
    if frame_sounds is not None and frame_still is not None:
        frame_sounds = np.asarray(frame_sounds)
        result["model"]["stability"] = stability(frame_sounds, frame_still)
        result["random"]["stability"] = stability(
            frame_sounds[rng.permutation(len(frame_sounds))], frame_still)
    return result
