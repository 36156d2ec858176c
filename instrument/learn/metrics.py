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

Pure numpy (and scipy.spatial); no torch, no sklearn, no scipy.stats: ``train --from`` must
start in well under a second (learn/refit_numpy.py).
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


def _sq_distances(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Squared euclidean distances (float64) from rows ``rows`` of ``a`` to every row of ``a``
    (squared: neighbour ranks are the same, and no square roots are taken).

    A few dimensions: summed per dimension from the differences, so equal points are exactly
    0 apart (sounds played by several windows are equal, and their ties must stay ties); more
    dimensions: ``|a|^2 + |b|^2 - 2 a.b`` clipped at 0, as sklearn computes it.
    """
    part = a[rows]
    if a.shape[1] <= 16:
        out = np.zeros((len(part), len(a)))
        for j in range(a.shape[1]):
            diff = np.subtract.outer(part[:, j], a[:, j])
            out += np.multiply(diff, diff, out=diff)
        return out
    sq = np.einsum("ij,ij->i", a, a)
    d2 = part @ a.T
    d2 *= -2.0
    d2 += sq[rows, None]
    d2 += sq[None, :]
    return np.maximum(d2, 0.0, out=d2)


def _chunk_penalty(near: np.ndarray, ranked: np.ndarray, k: int,
                   ranked_sorted: np.ndarray) -> float:
    """One block of rows of :func:`_penalties`: ``near`` gives each row's neighbours, ``ranked``
    their ranks (squared distances from the block's rows to every point, self = inf;
    ``ranked_sorted`` the same, each row sorted)."""
    kth = np.partition(near, k - 1, axis=1)[:, k - 1:k]
    closer, tied = near < kth, near == kth
    weight = closer + tied * ((k - closer.sum(1, keepdims=True)) / tied.sum(1, keepdims=True))
    r, c = np.nonzero(weight)                       # each row's neighbours in ``near``
    d = ranked[r, c]
    below = np.empty(len(r), np.int64)
    equal = np.empty(len(r), np.int64)
    bounds = np.searchsorted(r, np.arange(len(near) + 1))   # r is sorted: each row's slice
    for row in range(len(near)):
        lo, hi = bounds[row], bounds[row + 1]
        if lo < hi:   # how many of the row's points are nearer than, and as near as, each
            left = np.searchsorted(ranked_sorted[row], d[lo:hi], side="left")
            below[lo:hi] = left
            equal[lo:hi] = np.searchsorted(ranked_sorted[row], d[lo:hi], side="right") - left
    rank = below + (equal + 1) / 2.0                # mean of the ranks below+1 .. below+equal
    return float((weight[r, c] * np.maximum(rank - k, 0.0)).sum())


def _penalties(x: np.ndarray, ys: list[np.ndarray], k: int,
               chunk: int = 64) -> list[tuple[float, float]]:
    """(trustworthiness penalty, continuity penalty) of each ``y`` in ``ys`` against ``x``.

    The trustworthiness penalty of ``y`` is the sum over i, over i's k nearest in ``y``, of
    max(0, rank_x(i, j) - k), rank_x(i, j) being j's rank among i's neighbours in ``x`` (1 =
    nearest); continuity's swaps the roles. Ties are shared fairly instead of being broken by
    sort order: a tied rank is the average of the ranks the tied points occupy, and when the
    k-th neighbour is tied with others, every tied point counts with weight (places left) /
    (points tied). On points without ties this is exactly sklearn's sum; with ties (several
    windows playing one sound) it is the mean of sklearn's value over the orders of the tied
    points, where sklearn takes one order arbitrarily.

    Works on ``chunk`` rows at a time (memory O(chunk * k * N), not O(N^2)), and computes each
    block of distances once for both figures and every ``y`` (the model's and the baseline's).
    """
    n = len(x)
    totals = [[0.0, 0.0] for _ in ys]
    for start in range(0, n, chunk):
        rows = np.arange(start, min(start + chunk, n))
        local = np.arange(len(rows))
        dx = _sq_distances(x, rows)
        dx[local, rows] = np.inf                     # a point is not its own neighbour
        dx_sorted = np.sort(dx, axis=1)              # ranks by binary search, not a scan
        for total, y in zip(totals, ys):
            dy = _sq_distances(y, rows)
            dy[local, rows] = np.inf
            total[0] += _chunk_penalty(dy, dx, k, dx_sorted)
            total[1] += _chunk_penalty(dx, dy, k, np.sort(dy, axis=1))
    return [(t, c) for t, c in totals]


def _from_penalty(penalty: float, n: int, k: int) -> float:
    return float(1.0 - penalty * (2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0))))


def _check_k(n: int, k: int) -> None:
    if not 0 < k < n / 2:
        raise BadInput(f"trustworthiness needs more than {2 * k} points, got {n}",
                       "evaluate on a longer gesture recording")


def trustworthiness(x: np.ndarray, y: np.ndarray, k: int = N_NEIGHBORS) -> float:
    """Trustworthiness of embedding ``y`` of ``x`` (1 = no false neighbours in ``y``).

    sklearn's definition (Venna and Kaski 2001), computed here in numpy so that training and
    evaluation do not import sklearn (1.3 s of a 2 s ``train --from``); on data without ties
    it equals ``sklearn.manifold.trustworthiness`` (the tests compare them), ties are shared
    as :func:`_penalties` says.

    Args:
        x: Points in the original space, shape (N, Dx).
        y: The same points in the other space, shape (N, Dy).
        k: Neighbourhood size; must be < N / 2.
    """
    x, y = _check_pair(x, y)
    _check_k(len(x), k)
    return _from_penalty(_penalties(x, [y], k)[0][0], len(x), k)


def continuity(x: np.ndarray, y: np.ndarray, k: int = N_NEIGHBORS) -> float:
    """Continuity: trustworthiness with the roles swapped (1 = neighbours in ``x`` stay neighbours)."""
    return trustworthiness(y, x, k)


def neighbourhood_figures(x: np.ndarray, ys: list[np.ndarray],
                          k: int = N_NEIGHBORS) -> list[tuple[float, float]]:
    """(trustworthiness, continuity) of each ``y`` in ``ys`` against the same ``x``: the same
    figures as the two functions, with every block of distances computed once."""
    checked = [_check_pair(x, y) for y in ys]
    _check_k(len(x), k)
    pens = _penalties(checked[0][0], [y for _, y in checked], k)
    return [(_from_penalty(t, len(x), k), _from_penalty(c, len(x), k)) for t, c in pens]


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values`` (1-D), ties given their average rank (scipy's rankdata)."""
    values = np.asarray(values)
    order = np.argsort(values)   # any order: tied values share their mean rank anyway
    ordered = values[order]
    first = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    starts = np.flatnonzero(first)
    counts = np.diff(np.concatenate([starts, [len(values)]]))
    ranks = np.empty(len(values), np.float64)
    ranks[order] = np.repeat(starts + (counts + 1) / 2.0, counts)
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two 1-D samples (scipy.stats.spearmanr's statistic, in
    numpy: scipy.stats costs a second to import). 0 when a side is constant."""
    ra, rb = average_ranks(a), average_ranks(b)
    ra -= ra.mean()
    rb -= rb.mean()
    scale = np.sqrt((ra @ ra) * (rb @ rb))
    return float(np.clip((ra @ rb) / scale, -1.0, 1.0)) if scale > 0 else 0.0


def distance_spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation between the pairwise distances in ``x`` and in ``y``."""
    from scipy.spatial.distance import pdist

    x, y = _check_pair(x, y)
    dx, dy = pdist(x), pdist(y)
    if np.ptp(dx) == 0 or np.ptp(dy) == 0:
        return 0.0  # a constant side has no ranks to correlate
    return spearman(dx, dy)


def coverage(played: np.ndarray, bank_features: np.ndarray, k: int = COVERAGE_K,
             neighbours: np.ndarray | None = None) -> float:
    """Share of bank sounds that have a played sound among their ``k`` nearest bank neighbours.

    Args:
        played: Bank indices of the sounds that were played (any length, repeats allowed).
        bank_features: The whole bank in the sound feature space, shape (S, F).
        k: Neighbourhood size (a sound is its own first neighbour).
        neighbours: :func:`bank_neighbours` of the bank, when already at hand.
    """
    bank = np.asarray(bank_features, dtype=np.float64)
    hit = np.zeros(len(bank), dtype=bool)
    hit[np.asarray(played, dtype=np.int64)] = True
    if neighbours is None:
        neighbours = bank_neighbours(bank, k)
    return float(hit[neighbours].any(axis=1).mean())


def bank_neighbours(bank_features: np.ndarray, k: int = COVERAGE_K) -> np.ndarray:
    """(S, min(k, S)) each bank sound's ``k`` nearest bank sounds (itself first)."""
    from scipy.spatial import cKDTree

    bank = np.asarray(bank_features, dtype=np.float64)
    k = min(k, len(bank))
    _, neighbours = cKDTree(bank).query(bank, k=k)
    return np.asarray(neighbours).reshape(len(bank), k)


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
                    k: int = N_NEIGHBORS, with_coverage: bool = True) -> dict:
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
        with_coverage: Also the coverage figures (one k-NN query of the whole bank: slow
            in a space of hundreds of dimensions; leave them out where they are not read).

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
    neighbours = neighbourhood_figures(gesture[keep], [bank[played[keep]], bank[shuffled[keep]]],
                                       k)
    near = bank_neighbours(bank) if with_coverage else None   # once for both sides
    for (side, sounds), (trust, cont) in zip((("model", played), ("random", shuffled)),
                                             neighbours):
        y = bank[sounds]
        figures = {
            "trustworthiness": trust,
            "continuity": cont,
            "spearman": distance_spearman(gesture[pairs], y[pairs]),
        }
        if with_coverage:
            figures["coverage"] = coverage(sounds, bank, neighbours=near)
            figures["coverage_exact"] = coverage_exact(sounds, len(bank))
        result[side] = figures
    if frame_sounds is not None and frame_still is not None:
        frame_sounds = np.asarray(frame_sounds)
        result["model"]["stability"] = stability(frame_sounds, frame_still)
        result["random"]["stability"] = stability(
            frame_sounds[rng.permutation(len(frame_sounds))], frame_still)
    return result
