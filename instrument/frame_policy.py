"""How a control frame glides: the parts of :meth:`instrument.runtime.Runtime.frame`'s policy
that are plain functions of the bank (numpy only, no torch).

- :func:`blend_params`: the parameters of the k closest sounds, interpolated with weights that
  fall to zero at the (k+1)-th closest sound, so a sound enters and leaves the blend without a
  jump (inverse-distance weights, used before, jump whenever the k-th neighbour changes);
- :func:`bank_spacing`: each bank sound's distance to its nearest neighbour, the local
  density that scales the hysteresis margin (a crowded region needs a smaller margin than a
  sparse one to stop flicker between neighbours);
- :func:`bank_map`: the bank on two principal axes, for drawing.
"""

from __future__ import annotations

import numpy as np

from instrument.sound.params import ParamTable, alias_free


def blend_params(near: np.ndarray, sq: np.ndarray, bank_params_unit: np.ndarray,
                 table: ParamTable) -> np.ndarray:
    """Interpolated physical parameters of the closest sounds, alias-free.

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
    d = np.sqrt(np.maximum(sq, 0.0))
    if len(near) > 1:
        near, d, edge = near[:-1], d[:-1], d[-1]  # the (k+1)-th closest has weight 0
    else:
        edge = d[0]
    # + a hair so equal distances (a sound exactly at the edge, a single sound) still count
    weights = edge - d + 1e-9 * (edge + 1.0)
    unit = (weights[:, None] * bank_params_unit[near]).sum(0) / weights.sum()
    return alias_free(table.to_physical(unit), table)


def bank_spacing(points: np.ndarray) -> np.ndarray:
    """float64 (n,) each point's distance to its nearest other point (0 for a single point)."""
    from scipy.spatial import cKDTree

    if len(points) < 2:
        return np.zeros(len(points))
    points = np.asarray(points, np.float64)
    dist, _ = cKDTree(points).query(points, k=2)
    return dist[:, 1]


def bank_map(points: np.ndarray) -> np.ndarray:
    """(n, 2) float32: points on their first two principal axes (for drawing the sound map)."""
    points = np.asarray(points, np.float64)
    points = points - points.mean(0)
    _, _, vt = np.linalg.svd(points, full_matrices=False)
    flat = points @ vt[:2].T
    if flat.shape[1] < 2:
        flat = np.pad(flat, ((0, 0), (0, 2 - flat.shape[1])))
    return flat.astype(np.float32)
