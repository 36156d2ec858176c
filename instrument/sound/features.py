"""Spectral features of sound snippets: single-sided FFT magnitude -> a compact vector.

As in the paper, each snippet is described by the single-sided FFT of the whole snippet.
With ``FeatureConfig.kind = "raw"`` that is the feature vector (one value per bin); the default
``"bands"`` sums bin power into a few dozen (log-spaced) bands, which keeps where the FM
sidebands are and how strong they are while making the vector small enough to learn from
5000 examples. "db" compression then maps power onto 0..1 over ``db_range`` dB, since what we
hear (and what should be near in feature space) follows level in dB, not linear magnitude.

Scaling is independent of snippet length and window: a full-scale sine reads 0 dB.
"""

from __future__ import annotations

import math
import numbers
from functools import lru_cache

import numpy as np

from instrument.config import FeatureConfig
from instrument.errors import BadInput

# Power floor so log10 never sees 0; far below any db_range in use (-200 dB).
_POWER_FLOOR = 1e-20


def n_bins(n_samples: int) -> int:
    """Bins of the single-sided FFT of ``n_samples`` samples."""
    return n_samples // 2 + 1


@lru_cache(maxsize=16)
def band_edges(cfg: FeatureConfig, n_samples: int, rate: float) -> np.ndarray:
    """int64[n_bands + 1]: FFT-bin edges of the bands (band b = bins edges[b]:edges[b+1]).

    Edges are spaced by ``cfg.band_scale`` between min_hz and max_hz; every band gets at least
    one bin (low log bands narrower than a bin are widened).

    Raises:
        BadInput: the snippet is too short for that many bands in that range.
    """
    bins = n_bins(n_samples)
    bin_hz = rate / n_samples
    top = rate / 2 if cfg.max_hz is None else min(cfg.max_hz, rate / 2)
    low = max(cfg.min_hz, bin_hz / 2)
    if top <= low:
        raise BadInput(f"feature range {low:g}..{top:g} Hz is empty at rate {rate:g}",
                       "lower min_hz or raise max_hz")
    if cfg.band_scale == "log":
        hz = np.geomspace(low, top, cfg.n_bands + 1)
    else:
        hz = np.linspace(low, top, cfg.n_bands + 1)
    edges = np.round(hz / bin_hz).astype(np.int64)
    # strictly increasing: e[i] >= e[i-1] + 1
    edges = np.maximum.accumulate(edges - np.arange(len(edges))) + np.arange(len(edges))
    edges[-1] = min(max(edges[-1], edges[-2] + 1), bins)
    if edges[-1] > bins or np.any(np.diff(edges) < 1):
        raise BadInput(f"{cfg.n_bands} bands do not fit in the {bins} FFT bins of a "
                       f"{n_samples}-sample snippet", "use fewer bands or longer sounds")
    edges.setflags(write=False)
    return edges


def feature_dim(cfg: FeatureConfig, n_samples: int, rate: float) -> int:
    """Length of the feature vector for snippets of ``n_samples`` at ``rate``."""
    if cfg.kind == "raw":
        return n_bins(n_samples)
    band_edges(cfg, n_samples, rate)  # raises if the bands do not fit
    return cfg.n_bands


@lru_cache(maxsize=8)
def _window(kind: str, n_samples: int) -> np.ndarray:
    if kind == "hann":
        w = (0.5 - 0.5 * np.cos(2 * math.pi * np.arange(n_samples) / n_samples))
    else:
        w = np.ones(n_samples)
    # Single-sided amplitude scaling: a full-scale sine of any length reads 1.0 (0 dB).
    w = (w * (2.0 / w.sum())).astype(np.float32)
    w.setflags(write=False)
    return w


@lru_cache(maxsize=8)
def _enbw(kind: str, n_samples: int) -> float:
    w = _window(kind, n_samples).astype(np.float64)
    return float(n_samples * np.sum(w ** 2) / np.sum(w) ** 2)


def spectral_features(audio, rate: float, cfg: FeatureConfig = FeatureConfig(),
                      workers: int = 1) -> np.ndarray:
    """Feature vectors of snippets.

    Args:
        audio: float[N, S] (or float[S] for one snippet) audio.
        rate: Sample rate in Hz.
        cfg: Feature settings.
        workers: Threads for the FFT.

    Returns:
        float32[N, F] (F = :func:`feature_dim`); float32[F] for a 1-D input.
    """
    x = np.asarray(audio)
    single = x.ndim == 1
    if single:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] < 2:
        raise BadInput(f"audio must be [N, samples] with at least 2 samples, got {x.shape}")
    if not (isinstance(rate, numbers.Real) and math.isfinite(rate) and rate > 0):
        raise BadInput(f"sample rate must be > 0, got {rate!r}")
    feats = features_from_scratch(x.astype(np.float32, copy=True), float(rate), cfg, workers)
    return feats[0] if single else feats


def features_from_scratch(audio: np.ndarray, rate: float, cfg: FeatureConfig,
                          workers: int = 1, power: np.ndarray | None = None) -> np.ndarray:
    """:func:`spectral_features` of float32[N, S] ``audio``, which it overwrites (scratch).

    Args:
        power: Optional float32 work array of at least N * (S // 2 + 1) values, reused
            between calls (see sounds.build_sound_bank).
    """
    import scipy.fft

    n = audio.shape[1]
    audio *= _window(cfg.window, n)
    spectrum = scipy.fft.rfft(audio, axis=1, workers=workers, overwrite_x=True)
    shape = spectrum.shape
    power = np.empty(shape, np.float32) if power is None else \
        power.reshape(-1)[:spectrum.size].reshape(shape)
    np.abs(spectrum, out=power)
    del spectrum
    power *= power
    if cfg.kind == "bands":
        edges = band_edges(cfg, n, float(rate))
        if edges[-1] < power.shape[1]:  # reduceat's last segment runs to the end: drop it
            sums = np.add.reduceat(power, edges, axis=1)[:, :-1]
        else:
            sums = np.add.reduceat(power, edges[:-1], axis=1)
        # Band energy, divided by the window's equivalent noise bandwidth (1.5 bins for Hann)
        # so that a full-scale sine inside a band reads 1.0 (0 dB) whatever the band width.
        power = sums / np.float32(_enbw(cfg.window, n))
    if cfg.compression == "db":
        feats = np.maximum(power, _POWER_FLOOR)
        np.log10(feats, out=feats)
        feats *= 10.0 / cfg.db_range
        feats += 1.0
        np.clip(feats, 0.0, 1.0, out=feats)
    else:
        feats = np.sqrt(power)
    return feats.astype(np.float32, copy=False)
