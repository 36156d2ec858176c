"""From gesture features to sound features: which training pairs, and the network that learns them.

The paper (§3.3) pairs random sounds with random gesture windows and trains "a third neural
network" on those pairs; a random pairing gives the network nothing consistent to learn, so
whatever structure survives comes from the network's smoothness alone. We offer three pairings:

- ``random``: the paper's.
- ``structure`` (default): unsupervised and neighbourhood-keeping. Both feature spaces are
  reduced to their first ``dims`` principal axes, whitened (unit variance per axis) and each
  axis signed by its skewness, so the two independent PCAs are oriented the same way every
  time. Each gesture axis is carried onto the matching sound axis by ranks (quantile matching:
  the window at the q-th quantile of gesture axis j goes to the q-th quantile of sound axis j),
  and the window is paired with the bank sound closest to that point. Per-axis ranks are
  monotone, so close gestures land close (neighbourhoods kept); the quantiles follow the sound
  bank's own spread, so gestures are spread over the bank instead of piled onto a few sounds.
  Matching marginals alone leaves the gestures' joint shape (clusters, correlations), so
  ``spread_iterations`` rounds of iterative distribution transfer follow (Pitié, Kokaram and
  Dahyot 2005): rotate both clouds by one random rotation, quantile-match along the rotated
  axes, rotate back. Each round spreads the gestures over more of the bank but bends
  distances a little: on the demo recording (seeds 0-2) one round gives trustworthiness
  0.92, Spearman 0.57-0.59 and coverage 0.62-0.68; two rounds reach coverage 0.64-0.69 but
  Spearman drops to 0.50, so the default is one.
- ``labels``: the user's categories and matching (paper §3.2/§4.1): windows of gesture category
  g are paired, by the same quantile matching, only with sounds of the sound category matched
  to g; unlabelled windows use the structure pairing.

Mapping methods: ``mlp`` (the paper's third network, one hidden layer, trained on the pairs) or
``l2`` (the paper's simpler method: no network, gesture and sound matching features compared
directly, which needs equal sizes).
"""

from __future__ import annotations

import time

import numpy as np

from instrument.errors import BadInput
from instrument.progress import progress

PAIRINGS = ("random", "structure", "labels")
MAPPINGS = ("mlp", "l2")
ACTIVATIONS = ("tanh", "sigmoid", "relu")


# --- pairing -----------------------------------------------------------------------------

def pair_random(n_windows: int, n_sounds: int, seed: int = 0) -> np.ndarray:
    """The paper's pairing: each gesture window gets a random bank sound (spread evenly)."""
    rng = np.random.default_rng(seed)
    reps = -(-n_windows // n_sounds)
    return np.concatenate([rng.permutation(n_sounds) for _ in range(reps)])[:n_windows]


def principal_axes(features: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean (F,), axes (F, d)) such that ``(x - mean) @ axes`` are the first ``d`` principal
    coordinates, each scaled to unit variance and signed so that its skewness is positive (a
    deterministic orientation for two independent PCAs)."""
    x = np.asarray(features, dtype=np.float64)
    mean = x.mean(axis=0)
    x = x - mean
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    axes = vt[:min(dims, vt.shape[0])].T
    coords = x @ axes
    std = coords.std(axis=0)
    axes = axes / np.where(std > 1e-12, std, 1.0)
    skew = ((x @ axes) ** 3).mean(axis=0)
    axes = axes * np.where(skew < 0, -1.0, 1.0)
    return mean, axes


def whitened_axes(features: np.ndarray, dims: int) -> np.ndarray:
    """The first ``dims`` whitened, skew-signed principal coordinates (see principal_axes)."""
    mean, axes = principal_axes(features, dims)
    return (np.asarray(features, np.float64) - mean) @ axes


def quantile_match(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Carry each column of ``source`` onto the same column of ``target`` by ranks.

    The row at the q-th quantile of source column j gets the q-th quantile of target column j
    (equal values keep their order: ranks come from a stable sort), q = rank / (N - 1).

    The values are exactly ``np.quantile(target[:, j], q)`` (its default 'linear' method), but
    computed for every column at once from one sort: np.quantile partitions the column again
    for each call and took 0.25 s of a 2 s ``train --from``; this takes a few ms. Every q is
    the same set {0, 1/(N-1), ..., 1} in another order, so the quantiles are computed once in
    rank order and scattered to the rows. numpy's rule, followed step for step (numpy/lib/
    _function_base_impl.py, _quantile, _get_indexes, _lerp): virtual index v = (n - 1) * q,
    lower = floor(v), t = v - lower, and a + (b - a) * t, except b - (b - a) * (1 - t) where
    t >= 0.5; from v >= n - 1 on both neighbours are the last value and numpy's lower index
    is -1 (so its t is v + 1, kept here for the same rounding); a column holding a NaN gives
    NaN throughout.
    """
    n_source, n_target = len(source), len(target)
    q = np.arange(n_source, dtype=np.float64) / max(n_source - 1, 1)
    virtual = (n_target - 1) * q
    below = np.floor(virtual)
    lower = below.astype(np.intp)
    upper = lower + 1
    top = virtual >= n_target - 1
    lower[top] = upper[top] = n_target - 1
    below[top] = -1.0
    t = (virtual - below)[:, None]
    ordered = np.sort(target, axis=0)
    a, b = ordered[lower], ordered[upper]
    diff = b - a
    values = a + diff * t
    np.subtract(b, diff * (1 - t), out=values, where=t >= 0.5)
    values[:, np.isnan(ordered[-1])] = np.nan     # NaN sorts last, as numpy finds it
    out = np.empty(source.shape, dtype=np.float64)
    np.put_along_axis(out, np.argsort(source, axis=0, kind="stable"), values, axis=0)
    return out


def _closest(points: np.ndarray, bank: np.ndarray) -> np.ndarray:
    from scipy.spatial import cKDTree

    return np.asarray(cKDTree(bank).query(points, k=1)[1], dtype=np.int64)


def transfer(source: np.ndarray, target: np.ndarray, iterations: int = 1,
             seed: int = 0) -> np.ndarray:
    """Quantile-match ``source`` onto ``target`` per axis, then ``iterations`` rounds of
    iterative distribution transfer (random rotation, per-axis quantile matching, rotate back)."""
    rng = np.random.default_rng(seed)
    moved = quantile_match(source, target)
    for _ in range(iterations):
        rotation, _ = np.linalg.qr(rng.normal(size=(source.shape[1], source.shape[1])))
        moved = quantile_match(moved @ rotation, target @ rotation) @ rotation.T
    return moved


def pair_structure(gesture_features: np.ndarray, sound_features: np.ndarray,
                   dims: int = 4, spread_iterations: int = 1, seed: int = 0) -> np.ndarray:
    """Neighbourhood-keeping pairing: whitened principal axes matched by quantiles.

    Args:
        gesture_features: (N, G) matching features of the gesture windows.
        sound_features: (S, F) matching features of the bank sounds.
        dims: Principal axes kept on each side.
        spread_iterations: Rounds of iterative distribution transfer after the per-axis match.
        seed: Seeds the rotations.

    Returns:
        (N,) bank index paired with each window (deterministic for a seed).
    """
    g = whitened_axes(gesture_features, dims)
    s = whitened_axes(sound_features, dims)
    d = min(g.shape[1], s.shape[1])
    return _closest(transfer(g[:, :d], s[:, :d], spread_iterations, seed), s[:, :d])


def pair_labels(gesture_features: np.ndarray, sound_features: np.ndarray,
                gesture_labels: np.ndarray, sound_labels: np.ndarray,
                match: dict[int, int], dims: int = 4, spread_iterations: int = 1,
                seed: int = 0) -> np.ndarray:
    """Structure pairing inside each matched (gesture category, sound category) pair.

    Args:
        gesture_labels: (N,) category of each window, -1 = unlabelled.
        sound_labels: (S,) category of each bank sound, -1 = none.
        match: gesture category -> sound category.
    """
    gesture_labels = np.asarray(gesture_labels)
    sound_labels = np.asarray(sound_labels)
    g_all = whitened_axes(gesture_features, dims)
    s_all = whitened_axes(sound_features, dims)
    d = min(g_all.shape[1], s_all.shape[1])
    g_all, s_all = g_all[:, :d], s_all[:, :d]
    pairs = _closest(transfer(g_all, s_all, spread_iterations, seed), s_all)
    for g_label, s_label in sorted(match.items()):
        windows = np.flatnonzero(gesture_labels == g_label)
        sounds = np.flatnonzero(sound_labels == s_label)
        if len(windows) == 0 or len(sounds) == 0:
            raise BadInput(f"labels pairing: gesture category {g_label} has {len(windows)} "
                           f"windows and sound category {s_label} has {len(sounds)} sounds",
                           "give each matched category some windows and some sounds")
        local = transfer(g_all[windows], s_all[sounds], spread_iterations, seed)
        pairs[windows] = sounds[_closest(local, s_all[sounds])]
    return pairs


# --- the mapping network -----------------------------------------------------------------

class MappingMLP:
    """One-hidden-layer regression network from gesture features to sound features (torch).

    Inputs and targets are standardised inside (statistics stored with the weights), so the
    exported numpy form is ``act(((x - mean) / std) @ W0 + b0) @ W1 + b1`` with the target
    scale folded into ``W1, b1``.
    """

    def __init__(self, n_inputs: int, n_outputs: int, hidden: int = 256,
                 activation: str = "tanh", seed: int = 0):
        if activation not in ACTIVATIONS:
            raise BadInput(f"mapping activation {activation!r} unknown", f"use one of {ACTIVATIONS}")
        import torch

        self.n_inputs, self.n_outputs, self.hidden = int(n_inputs), int(n_outputs), int(hidden)
        self.activation = activation
        torch.manual_seed(seed)
        act = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU}[activation]
        self.net = torch.nn.Sequential(torch.nn.Linear(self.n_inputs, self.hidden), act(),
                                       torch.nn.Linear(self.hidden, self.n_outputs))
        self.in_mean = np.zeros(self.n_inputs, np.float32)
        self.in_std = np.ones(self.n_inputs, np.float32)
        self.out_mean = np.zeros(self.n_outputs, np.float32)
        self.out_std = np.ones(self.n_outputs, np.float32)
        self.history: dict = {"losses": [], "seconds": 0.0}

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int = 60, lr: float = 3e-3,
            batch_size: int = 256, weight_decay: float = 1e-5, seed: int = 0,
            quiet: bool = True, desc: str = "mapping") -> dict:
        """Train on pairs (x[i] -> y[i]) with Adam on the mean squared error of standardised targets."""
        import torch

        x = np.asarray(x, np.float32)
        y = np.asarray(y, np.float32)
        if x.ndim != 2 or y.ndim != 2 or len(x) != len(y) or x.shape[1] != self.n_inputs \
                or y.shape[1] != self.n_outputs:
            raise BadInput(f"mapping network expects ({self.n_inputs},) -> ({self.n_outputs},) "
                           f"pairs, got {x.shape} -> {y.shape}")
        start = time.perf_counter()
        self.in_mean, self.in_std = x.mean(0), np.maximum(x.std(0), 1e-6)
        self.out_mean, self.out_std = y.mean(0), np.maximum(y.std(0), 1e-6)
        xt = torch.from_numpy((x - self.in_mean) / self.in_std)
        yt = torch.from_numpy((y - self.out_mean) / self.out_std)
        gen = torch.Generator().manual_seed(seed)
        opt = torch.optim.Adam(self.net.parameters(), lr=lr, weight_decay=weight_decay)
        losses = []
        for _ in progress(range(epochs), desc=desc, quiet=quiet, unit="epoch"):
            order = torch.randperm(len(xt), generator=gen)
            total = 0.0
            for i in range(0, len(xt), batch_size):
                idx = order[i:i + batch_size]
                loss = torch.nn.functional.mse_loss(self.net(xt[idx]), yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            losses.append(total / len(xt))
        self.history = {"losses": losses, "seconds": time.perf_counter() - start}
        return self.history

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Sound features predicted for gesture features ``x`` (N, n_inputs) -> (N, n_outputs)."""
        import torch

        x = (np.asarray(x, np.float32) - self.in_mean) / self.in_std
        with torch.no_grad():
            out = self.net(torch.from_numpy(np.ascontiguousarray(x))).numpy()
        return out * self.out_std + self.out_mean

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON-able meta, named float32 arrays) for a model bundle."""
        first, last = self.net[0], self.net[2]
        meta = {"n_inputs": self.n_inputs, "n_outputs": self.n_outputs, "hidden": self.hidden,
                "activation": self.activation, "history": self.history}
        arrays = {"w0": first.weight.detach().numpy().T, "b0": first.bias.detach().numpy(),
                  "w1": last.weight.detach().numpy().T, "b1": last.bias.detach().numpy(),
                  "in_mean": self.in_mean, "in_std": self.in_std,
                  "out_mean": self.out_mean, "out_std": self.out_std}
        return meta, {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "MappingMLP":
        """Rebuild from :meth:`to_state` output (shapes are checked by the caller's bundle)."""
        import torch

        model = cls(meta["n_inputs"], meta["n_outputs"], meta["hidden"], meta["activation"])
        with torch.no_grad():
            model.net[0].weight.copy_(torch.from_numpy(arrays["w0"].T.copy()))
            model.net[0].bias.copy_(torch.from_numpy(arrays["b0"]))
            model.net[2].weight.copy_(torch.from_numpy(arrays["w1"].T.copy()))
            model.net[2].bias.copy_(torch.from_numpy(arrays["b1"]))
        for key in ("in_mean", "in_std", "out_mean", "out_std"):
            setattr(model, key, np.asarray(arrays[key], np.float32))
        model.history = meta.get("history", {"losses": [], "seconds": 0.0})
        return model


def check_l2_sizes(gesture_dim: int, sound_dim: int) -> None:
    """l2 matching compares features directly: both sides must have the same size."""
    if gesture_dim != sound_dim:
        raise BadInput(f"--mapping l2 compares gesture and sound matching features directly, but "
                       f"they have {gesture_dim} and {sound_dim} values",
                       "use the same SAE layer sizes for both (e.g. the defaults) or --mapping mlp")
