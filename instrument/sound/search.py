"""The closest-sound search: exact nearest and k-nearest bank sounds to a point, fast at 1M sounds.

The runtime asks, once per control frame, which bank sound is closest to where the mapping
landed in the search space (a few whitened principal axes, see learn.training.search_space).
A brute-force product over the bank costs O(N) per frame (1.2 ms p50 at 10^6 sounds), so for
large banks in few dimensions the search uses a k-d tree (scipy's ``cKDTree``), which answers
the same question exactly in O(log N) (tens of microseconds at 10^6). In many dimensions (the
200-D ``--mapping l2`` space) a tree prunes nothing, and for small banks the product is
already a few microseconds, so both stay brute force. A blending frame asks once for the k + 1
closest sounds and takes the closest from them (Runtime._frame): one query, not two.

"Exact" is the point: hysteresis, blending and label categories are decided on true
distances, so the tree must give the same answer as the product. It does, up to ties: the tree
measures in float64, the product ``|s|^2 - 2 s.y`` in float32, so two sounds equally far to
within float32 rounding may swap (tests check the distances agree, not the tie order).

Categories (``--pairing labels``): one tree per sound category, built once, so a frame whose
gesture category restricts the search to one sound category searches only those sounds; an
empty or absent category searches the whole bank.
"""

from __future__ import annotations

import numpy as np

from instrument.errors import BadInput

# Above this many sounds (and up to TREE_MAX_DIMS dimensions) a part gets a k-d tree: the k
# closest sounds of a blend come faster from it. The single closest sound comes faster from the
# product up to PRODUCT_MAX_SOUNDS (a tree query costs ~30 us before it reads a point), so parts
# in between keep both. Measured by benchmarks/scaling.py's frame table.
TREE_MIN_SOUNDS = 4096
PRODUCT_MAX_SOUNDS = 32768
TREE_MAX_DIMS = 16


class _Part:
    """The sounds of one category (or the whole bank): their indices and a search structure."""

    def __init__(self, points: np.ndarray, index: np.ndarray | None, use_tree: bool):
        self.index = index  # bank index of each row, None = rows are the bank itself
        self.points = np.ascontiguousarray(points, np.float32)
        self.size = len(points)
        self.tree = self.aug_t = None
        if use_tree and self.size > TREE_MIN_SOUNDS:
            from scipy.spatial import cKDTree

            options = {"leafsize": 16, "balanced_tree": False, "compact_nodes": False}
            # The tree is built twice: the second time on the points in the first tree's leaf
            # order, so each leaf a query reads is one contiguous run of memory instead of
            # rows scattered over the bank (a 49-closest query at 10^6 sounds costs about a
            # third less). Its rows map back through ``tree_bank``; the answers are the same.
            order = cKDTree(self.points.astype(np.float64), **options).indices
            self.tree = cKDTree(self.points[order].astype(np.float64), **options)
            self.tree_bank = np.asarray(order if index is None else index[order], np.int64)
        if self.tree is None or self.size <= PRODUCT_MAX_SOUNDS:
            sq = np.einsum("ij,ij->i", self.points, self.points).astype(np.float32)
            # [-2 s, |s|^2] per sound, transposed: one vector-matrix product with [y, 1]
            # gives |s|^2 - 2 s.y for every sound (the fastest numpy form for one query).
            self.aug_t = np.ascontiguousarray(np.hstack([-2.0 * self.points, sq[:, None]]).T,
                                              np.float32)
            self.sq = sq
            self.dist = np.empty(self.size, np.float32)

    def to_bank(self, rows):
        return rows if self.index is None else self.index[rows]


class SoundSearch:
    """Exact closest-sound queries over a bank's search-space points.

    Args:
        points: float32[N, d] every bank sound in the search space.
        groups: int64[N] sound category of each sound (-1 = none), or None.
    """

    def __init__(self, points: np.ndarray, groups: np.ndarray | None = None):
        points = np.asarray(points, np.float32)
        if points.ndim != 2 or len(points) < 1 or points.shape[1] < 1:
            raise BadInput(f"search points must be [N >= 1, d >= 1], got {points.shape}")
        self.n_sounds, self.dims = points.shape
        self.use_tree = self.dims <= TREE_MAX_DIMS
        self._all = _Part(points, None, self.use_tree)
        self._aug = np.empty(self.dims + 1, np.float32)
        self._aug[-1] = 1.0
        self._points = self._all.points
        self._parts: dict[int, _Part] = {}
        if groups is not None:
            groups = np.asarray(groups, np.int64)
            if groups.shape != (self.n_sounds,):
                raise BadInput(f"search groups must be [{self.n_sounds}], got {groups.shape}")
            for g in np.unique(groups[groups >= 0]):
                idx = np.flatnonzero(groups == g)
                self._parts[int(g)] = _Part(points[idx], idx, self.use_tree)

    @property
    def uses_tree(self) -> bool:
        """True when the whole-bank search runs on a k-d tree."""
        return self._all.tree is not None

    def _part(self, group) -> _Part:
        if group is None or group < 0:
            return self._all
        return self._parts.get(int(group), self._all)

    def whole_tree(self, group=None) -> bool:
        """True when ``group``'s search is the whole bank on the k-d tree, whose k closest
        sounds are exact in float64 (frame_policy.spacing_from_neighbours relies on it)."""
        part = self._part(group)
        return part.index is None and part.tree is not None

    def allowed(self, index: int, group=None) -> bool:
        """True when bank sound ``index`` is inside ``group``'s search (always without one)."""
        part = self._part(group)
        if part.index is None:
            return True
        pos = np.searchsorted(part.index, index)
        return bool(pos < part.size and part.index[pos] == index)

    def sq_distance(self, y: np.ndarray, index: int) -> float:
        """Squared distance from ``y`` to bank sound ``index`` (float64)."""
        diff = self._points[index].astype(np.float64) - y
        return float(diff @ diff)

    def nearest(self, y: np.ndarray, group=None) -> tuple[int, float]:
        """The closest sound to ``y`` (inside ``group`` if given and not empty).

        Returns:
            (bank index, squared distance).
        """
        part = self._part(group)
        if part.aug_t is None:
            dist, row = part.tree.query(y, k=1)
            return int(part.tree_bank[row]), dist * dist
        aug = self._aug
        aug[:-1] = y
        np.dot(aug, part.aug_t, out=part.dist)
        row = int(part.dist.argmin())
        index = int(part.to_bank(row))
        return index, self.sq_distance(y, index)

    def k_nearest(self, y: np.ndarray, k: int, group=None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` closest sounds to ``y``, closest first (fewer if the search has fewer).

        Returns:
            (int64[k] bank indices, float64[k] squared distances).
        """
        part = self._part(group)
        k = max(1, min(int(k), part.size))
        if part.tree is not None:
            dist, rows = part.tree.query(y, k=k)
            if k == 1:  # the tree answers k=1 with scalars
                dist, rows = np.array([dist]), np.array([rows])
            return part.tree_bank[rows], np.multiply(dist, dist, out=dist)
        aug = self._aug
        aug[:-1] = y
        np.dot(aug, part.aug_t, out=part.dist)
        rows = np.argpartition(part.dist, k - 1)[:k] if k < part.size else np.arange(part.size)
        index = np.asarray(part.to_bank(rows), np.int64)
        diff = self._points[index].astype(np.float64) - np.asarray(y, np.float64)
        sq = np.einsum("ij,ij->i", diff, diff)
        order = np.argsort(sq, kind="stable")
        return index[order], sq[order]

    def nearest_batch(self, ys: np.ndarray, groups: np.ndarray | None = None,
                      chunk: int = 2048) -> np.ndarray:
        """Closest sound for each row of ``ys`` (M, d); ``groups`` int[M] restricts each row."""
        ys = np.asarray(ys, np.float32)
        out = np.empty(len(ys), np.int64)
        keys = np.full(len(ys), -1, np.int64) if groups is None else np.asarray(groups, np.int64)
        for g in np.unique(keys):
            rows = np.flatnonzero(keys == g)
            part = self._part(int(g))
            for lo in range(0, len(rows), chunk):
                sel = rows[lo:lo + chunk]
                if part.tree is not None:
                    _, found = part.tree.query(ys[sel].astype(np.float64), k=1)
                    out[sel] = part.tree_bank[found]
                else:
                    d = part.sq[None, :] - 2.0 * (ys[sel] @ part.points.T)
                    out[sel] = part.to_bank(np.argmin(d, axis=1))
        return out
