"""How a control frame glides: the parts of :meth:`instrument.runtime.Runtime.frame`'s policy
that are plain functions of the bank (numpy only, no torch).

- :class:`Blender` / :func:`blend_params`: the parameters of the k closest sounds, interpolated
  with weights that fall to zero at the (k+1)-th closest sound, so a sound enters and leaves
  the blend without a jump (inverse-distance weights, used before, jump whenever the k-th
  neighbour changes);
- :func:`nearest_spacing` / :func:`bank_spacing`: each bank sound's distance to its nearest
  neighbour, the local density that scales the hysteresis margin (a crowded region needs a
  smaller margin than a sparse one to stop flicker between neighbours);
  :func:`spacing_from_neighbours` reads it off a blend's neighbours when they prove it;
- :func:`most_alike`: with one sound played at a time (``blend_k`` 1), a change of sound goes
  to the sound made most like the current one among those nearly as close as the closest,
  so the parameters leap less while what is heard stays what the mapping chose;
- :func:`plain_rule`: a runtime set to the plain closest sound for a while (for the figures
  that compare the policy with it);
- :class:`PointGlide`: the one-pole smoothing of the mapped point along the stroke;
- :func:`bank_map`: the bank on two principal axes, for drawing.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np

from instrument.sound.params import PERFORMANCE_RATE, ParamTable, alias_free


def policy_from_runtime(rt: dict, path: str) -> tuple[float, float, float]:
    """(glide, hysteresis_spacing, like_tolerance) from a bundle's runtime section; bundles
    from before these keys get 1, 0 and 0, the plain rule they were trained with
    (ModelFileError when malformed)."""
    from instrument.formats.bundle import require

    glide, spacing = rt.get("glide", 1.0), rt.get("hysteresis_spacing", 0.0)
    like = rt.get("like_tolerance", 0.0)
    require(all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in
                (glide, spacing, like)) and 0 < glide <= 1 and 0 <= spacing <= 100
            and 0 <= like <= 100, path,
            f"runtime.glide must be a number in (0, 1], runtime.hysteresis_spacing and "
            f"runtime.like_tolerance ones in 0..100, not {glide!r}, {spacing!r}, {like!r}")
    return float(glide), float(spacing), float(like)


class PointGlide:
    """The mapped point smoothed along the stroke: each call moves it ``glide`` of the way to
    the new point (a one-pole filter per moving frame), in place, with no allocation."""

    def __init__(self, dims: int):
        self.point = np.zeros(dims, np.float32)
        self._step = np.zeros(dims, np.float32)
        self.started = False

    def reset(self) -> None:
        """The next point is taken as it is (a new performance, a fresh state)."""
        self.started = False

    def __call__(self, y: np.ndarray, glide: float) -> None:
        """Replace ``y`` (float32, in place) by the smoothed point."""
        if self.started:
            np.subtract(y, self.point, out=self._step)
            self._step *= glide
            self.point += self._step
            y[:] = self.point
        else:
            self.point[:] = y
            self.started = True


class Blender:
    """Interpolated physical parameters of the closest sounds, alias-free, for one bank.

    The conversions are precomputed here and run on the P values as Python floats, the Nyquist
    cap too (a frame costs a few microseconds, not the tens a general ``ParamTable.to_physical``
    + ``alias_free`` call costs on one vector); the result equals :func:`blend_params` to float
    rounding (tests/test_frame_policy.py).

    Args:
        bank_params_unit: (n_sounds, P) the bank's parameters in 0..1.
        table: The parameter table.
        rate: The playback rate whose Nyquist the FM band stays under.
    """

    def __init__(self, bank_params_unit: np.ndarray, table: ParamTable,
                 rate: float = PERFORMANCE_RATE):
        self.unit = np.asarray(bank_params_unit, np.float64)
        self.table = table
        # per parameter: unit -> offset + span * unit, exp() of it on a log scale, low..high
        self._columns = tuple(
            (math.log(p.low), math.log(p.high / p.low), True, p.low, p.high) if p.scale == "log"
            else (p.low, p.high - p.low, False, p.low, p.high) for p in table)
        names = table.names
        self._fm = ({"carrier_hz", "ratio", "index"} <= set(names)
                    and all(table[n].low >= 0 for n in ("carrier_hz", "ratio", "index")))
        self._cols = tuple(names.index(n) for n in ("carrier_hz", "ratio", "index")) \
            if self._fm else None
        if self._fm:
            self._ratio_low, self._index_low = table["ratio"].low, table["index"].low
        self._nyquist = 0.5 * float(rate)

    def __call__(self, near: np.ndarray, sq: np.ndarray) -> np.ndarray:
        """float64 (P,) physical parameters of the sounds ``near`` (k + 1 closest first, with
        squared distances ``sq``): 0..1 values weighted by ``d_(k+1) - d_i``, converted, and
        capped under Nyquist with the rule of params.alias_free."""
        d = np.sqrt(np.maximum(sq, 0.0))
        if len(near) > 1:
            near, d, edge = near[:-1], d[:-1], float(d[-1])  # the (k+1)-th closest weighs 0
        else:
            edge = float(d[0])
        # + a hair so equal distances (a sound exactly at the edge, a single sound) still count
        weights = (edge + 1e-9 * (edge + 1.0)) - d
        mixed = (weights @ self.unit[near]) / weights.sum()
        physical = []
        for u, (offset, span, is_log, low, high) in zip(mixed.tolist(), self._columns):
            value = offset + span * u
            if is_log:
                value = math.exp(value)
            physical.append(low if value < low else high if value > high else value)
        if self._fm:
            c, r, i = self._cols
            carrier, ratio, index = physical[c], physical[r], physical[i]
            if 2.0 * (index + 1.0) * carrier * ratio > self._nyquist:
                # params.alias_free's caps, on floats (the same operations, so the same bits)
                inside = self._nyquist * (1.0 - 1e-5)
                cap = inside / (2.0 * carrier * ratio) - 1.0
                physical[i] = min(max(cap, self._index_low), index)
                if cap < self._index_low:
                    physical[r] = min(max(inside / (2.0 * carrier), self._ratio_low), ratio)
        return np.array(physical)


class UnitOf:
    """``table.to_unit(physical)`` of one vector into a float32 buffer, bit for bit, without
    the general checks (the live loop converts every blended frame for OSC out).

    The same float64 operations as ParamTable.to_unit: a log on the log-scale parameters,
    then ``(value - offset) / span`` with the table's own offset and span.
    """

    def __init__(self, table: ParamTable):
        self._log = np.flatnonzero(table._log)
        self._offset, self._span = table._offset, table._span
        self._work = np.empty(len(table), np.float64)

    def __call__(self, physical: np.ndarray, out: np.ndarray) -> None:
        work = self._work
        np.copyto(work, physical)
        if len(self._log):
            work[self._log] = np.log(work[self._log])
        np.subtract(work, self._offset, out=work)
        np.divide(work, self._span, out=out, casting="same_kind")


def blend_params(near: np.ndarray, sq: np.ndarray, bank_params_unit: np.ndarray,
                 table: ParamTable) -> np.ndarray:
    """Interpolated physical parameters of the closest sounds, alias-free: the rule of
    :class:`Blender` written with the general conversions (its reference).

    Args:
        near: int (k + 1,) bank indices of the k + 1 closest sounds, closest first (fewer
            when the search has fewer sounds).
        sq: float (k + 1,) their squared distances.
        bank_params_unit: (n_sounds, P) the bank's parameters in 0..1.
        table: The parameter table.

    Returns:
        float64 (P,) physical parameters: the 0..1 values weighted by ``d_(k+1) - d_i``,
        converted, then capped under the performance Nyquist (params.alias_free).
    """
    d = np.sqrt(np.maximum(np.asarray(sq, np.float64), 0.0))
    near = np.asarray(near)
    if len(near) > 1:
        near, d, edge = near[:-1], d[:-1], d[-1]
    else:
        edge = d[0]
    weights = edge - d + 1e-9 * (edge + 1.0)
    unit = weights @ np.asarray(bank_params_unit, np.float64)[near] / weights.sum()
    physical = np.clip(table.to_physical(unit), table.low, table.high)
    return alias_free(physical, table)


LIKE_CANDIDATES = 48   # closest sounds a change of sound chooses among (most_alike)


@contextmanager
def plain_rule(runtime):
    """The runtime plays the rule of bundles from before the frame policy while inside: no
    glide of the mapped point, no blend, no choice of the most alike sound, hysteresis as a
    share of the distance only; its policy and a fresh state are put back after (so figures
    of "as played" and "the plain closest sound" are measured side by side)."""
    saved = runtime.glide, runtime.blend_k, runtime._spacing, runtime.like_tolerance
    runtime.glide, runtime.blend_k, runtime._spacing, runtime.like_tolerance = 1.0, 1, None, 0.0
    try:
        yield runtime
    finally:
        runtime.glide, runtime.blend_k, runtime._spacing, runtime.like_tolerance = saved
        runtime.reset()


def most_alike(near: np.ndarray, sq: np.ndarray, current: int, bank_params_unit: np.ndarray,
               tolerance: float) -> int:
    """The sound a frame changes to: of the closest sounds ``near`` (closest first, squared
    distances ``sq``) within ``(1 + tolerance)`` times the closest one's distance, the one
    whose 0..1 parameters are nearest the current sound's (largest difference over the
    parameters: an octave of carrier counts the same wherever it is); ties go to the closer.

    Why: a random FM bank has sounds that sound alike but are made differently (carrier
    f with ratio 1 and carrier 2f with ratio 0.5 share a spectrum), so the closest sound
    in a heard space can sit an octave of carrier away from the sound playing. Interpolating
    parameters hides the leap but is heard as neither sound (learn/heard.py); choosing,
    among sounds nearly as close, the one made like the current sound keeps both: one bank
    sound is played as it is, and the parameters leap less. ``current`` < 0: the closest.
    """
    if current < 0 or tolerance <= 0 or len(near) < 2:
        return int(near[0])
    limit = float(sq[0]) * (1.0 + tolerance) ** 2
    count = int(np.searchsorted(np.asarray(sq), limit, side="right"))
    candidates = np.asarray(near[:max(count, 1)])
    unit = np.asarray(bank_params_unit)
    gap = np.abs(unit[candidates] - unit[current]).max(axis=1)
    return int(candidates[int(np.argmin(gap))])


def spacing_from_neighbours(points: np.ndarray, near: np.ndarray, sq: np.ndarray
                            ) -> float | None:
    """The nearest-neighbour distance of sound ``near[0]`` (:func:`bank_spacing`), read off the
    k closest sounds to a point y when they prove it, else None (ask the search).

    ``near``/``sq``: the k closest bank sounds to y and their squared distances, closest first
    (SoundSearch.k_nearest over the whole bank). Every other sound is at least d_k from y, so
    at least d_k - d_1 from ``near[0]``: a neighbour closer than that is the nearest of all.
    A blending frame has these at hand, so a sound that becomes current costs no extra query.
    """
    if len(near) < 3:
        return None
    diff = points[near[1:]].astype(np.float64) - points[near[0]].astype(np.float64)
    spacing = math.sqrt(float(np.einsum("ij,ij->i", diff, diff).min()))
    bound = math.sqrt(max(float(sq[-1]), 0.0)) - math.sqrt(max(float(sq[0]), 0.0))
    # a guard of float rounding: at the bound itself, ask the search
    return spacing if spacing < bound * (1.0 - 1e-9) else None


def bank_spacing(points: np.ndarray) -> np.ndarray:
    """float64 (n,) each point's distance to its nearest other point (0 for a single point)."""
    from scipy.spatial import cKDTree

    if len(points) < 2:
        return np.zeros(len(points))
    points = np.asarray(points, np.float64)
    dist, _ = cKDTree(points).query(points, k=2)
    return dist[:, 1]


def nearest_spacing(search, points: np.ndarray, cache: np.ndarray, index: int) -> float:
    """Distance from bank sound ``index`` to its nearest other sound, cached in ``cache``
    (NaN = not yet known); equals :func:`bank_spacing` row ``index``."""
    value = cache[index]
    if value != value:  # NaN: first time this sound is current
        _, sq = search.k_nearest(points[index], 2)
        value = cache[index] = float(np.sqrt(max(float(sq[-1]), 0.0))) if len(sq) > 1 else 0.0
    return float(value)


def bank_map(points: np.ndarray) -> np.ndarray:
    """(n, 2) float32: points on their first two principal axes (for drawing the sound map)."""
    points = np.asarray(points, np.float64)
    points = points - points.mean(0)
    _, _, vt = np.linalg.svd(points, full_matrices=False)
    flat = points @ vt[:2].T
    if flat.shape[1] < 2:
        flat = np.pad(flat, ((0, 0), (0, 2 - flat.shape[1])))
    return flat.astype(np.float32)
