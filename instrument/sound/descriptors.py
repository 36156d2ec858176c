"""What a listener hears of a sound: a few perceptual descriptors computed from its audio.

Every bank sound gets these six numbers from its rendered audio (``describe_audio``); they
are stored in the bank (``SoundBank.descriptors``) and the model bundle, and are the sound
side of the independent evaluation (learn/evaluation.py) and of the descriptor pairing.

The spectrum is Welch's: frames of ``FRAME`` samples (Hann window, no overlap, zero-padded to
``2 * FRAME`` so the autocorrelation below is linear, not circular), power averaged over the
frames: ``P_k`` at frequency ``f_k``, counted from ``MIN_HZ`` up to Nyquist. Averaging frames
is what makes white noise read flat (one periodogram of noise has flatness e^-γ ≈ 0.56).

- ``loudness_db``: ``10 log10(mean(x²)) + 3.01``, dB relative to a full-scale sine (a sine of
  peak 1 reads 0 dB; a 6.02 dB gain step reads 6.02 dB), floored at ``FLOOR_DB``. Unweighted:
  on FM tones of 50..2000 Hz carriers a K-weighting changes the ranks little.
- ``pitch_hz``: the fundamental where the sound is periodic, else the spectral peak. The
  autocorrelation ``r(τ)`` is the inverse FFT of the averaged power, divided by the Hann
  window's own autocorrelation (unbiased) and by ``r(0)``; within lags for 40..2000 Hz the
  first lag whose ``r`` reaches 0.9 of the best one is taken (a lag and its multiples
  correlate alike; the first is the fundamental), refined by a parabola. The sound is
  periodic when that ``r`` is at least ``PERIODIC``; otherwise ``pitch_hz`` is the frequency of
  the strongest bin (parabolic refinement on log power).
- ``centroid_hz``: ``Σ f_k P_k / Σ P_k`` (a sine's centroid is its frequency).
- ``spread_hz``: ``sqrt(Σ (f_k - centroid)² P_k / Σ P_k)``.
- ``flatness``: ``exp(mean log P_k) / mean P_k`` (Wiener entropy): 1 for white noise, near 0
  for a few sinusoids.
- ``roughness``: Sethares' (1993) sensory dissonance of the ``PEAKS`` strongest spectral peaks
  with amplitudes ``a_i`` relative to the strongest:
  ``Σ_{i<j} min(a_i, a_j) (e^(-3.5 s Δf) - e^(-5.75 s Δf))``, ``s = 0.24 / (0.0207 f_min + 18.96)``,
  ``Δf = |f_i - f_j|``: 0 for a sine, highest for partials a quarter of a critical band apart
  (the beating FM sidebands of close ratios); level-independent by the relative amplitudes.

A silent sound (power below ``FLOOR_DB``) reads ``FLOOR_DB``, pitch/centroid/spread 0,
flatness 1, roughness 0. Pure numpy; chunks of sounds at a time.
"""

from __future__ import annotations

import numpy as np

from instrument.errors import BadInput

SOUND_DESCRIPTORS = ("loudness_db", "pitch_hz", "centroid_hz", "spread_hz", "flatness",
                     "roughness")
FRAME = 2048
MIN_HZ = 20.0
FLOOR_DB = -100.0
PERIODIC = 0.5
PEAKS = 12
PITCH_RANGE_HZ = (40.0, 2000.0)
_SINE_DB = 10.0 * np.log10(2.0)   # a full-scale sine has mean square 1/2
_TINY = 1e-30


def _frames(audio: np.ndarray, max_frames: int | None = None) -> np.ndarray:
    """(N, F, FRAME) non-overlapping frames; a sound shorter than FRAME is one padded frame."""
    n = audio.shape[1]
    count = max(n // FRAME, 1)
    if max_frames is not None:
        count = min(count, max(int(max_frames), 1))
    if n < FRAME:
        audio = np.pad(audio, ((0, 0), (0, FRAME - n)))
    return audio[:, :count * FRAME].reshape(len(audio), count, FRAME)


def welch_power(audio: np.ndarray, rate: float, max_frames: int | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies (K,), averaged Hann-window power (N, K)) at FFT size 2 * FRAME."""
    window = np.hanning(FRAME).astype(np.float32)
    frames = _frames(np.asarray(audio, np.float32), max_frames) * window   # float32: faster
    spec = np.fft.rfft(frames, n=2 * FRAME, axis=-1)
    power = np.square(spec.real).mean(axis=1, dtype=np.float64)
    power += np.square(spec.imag).mean(axis=1, dtype=np.float64)
    return np.fft.rfftfreq(2 * FRAME, 1.0 / rate), power


def _window_autocorrelation() -> np.ndarray:
    window = np.hanning(FRAME)
    spec = np.fft.rfft(window, n=2 * FRAME)
    return np.fft.irfft(np.abs(spec) ** 2, n=2 * FRAME)[:FRAME]


def _parabola(left: np.ndarray, mid: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Offset (-0.5..0.5) of a parabola's vertex through three equally spaced values."""
    den = left - 2 * mid + right
    safe = np.where(np.abs(den) > 1e-12, den, 1.0)
    return np.where(np.abs(den) > 1e-12, np.clip(0.5 * (left - right) / safe, -0.5, 0.5), 0.0)


def _pitch(power: np.ndarray, freqs: np.ndarray, rate: float, band: np.ndarray) -> np.ndarray:
    rows = np.arange(len(power))
    r = np.fft.irfft(power, n=2 * FRAME, axis=1)[:, :FRAME]
    r = r / np.maximum(_window_autocorrelation(), 1e-9)[None, :]
    r = r / np.maximum(r[:, :1], _TINY)
    lo = max(int(np.floor(rate / PITCH_RANGE_HZ[1])), 2)
    hi = min(int(np.ceil(rate / PITCH_RANGE_HZ[0])), FRAME // 2)
    seg = r[:, lo:hi + 1]
    # local maxima only, so the slope down from lag 0 never counts as a period
    peak = np.zeros_like(seg, dtype=bool)
    peak[:, 1:-1] = (seg[:, 1:-1] >= seg[:, :-2]) & (seg[:, 1:-1] > seg[:, 2:])
    score = np.where(peak, seg, -np.inf)
    best = score.max(axis=1)
    first = np.argmax(score >= 0.9 * best[:, None], axis=1)
    lag = lo + first
    clarity = np.where(np.isfinite(best), r[rows, lag], 0.0)
    lag_f = lag + _parabola(r[rows, lag - 1], r[rows, lag], r[rows, np.minimum(lag + 1, FRAME - 1)])
    f0 = rate / lag_f
    # the strongest bin, refined on log power
    logp = np.log(power + _TINY)
    k = np.argmax(np.where(band[None, :], power, -1.0), axis=1)
    k = np.clip(k, 1, power.shape[1] - 2)
    bin_hz = freqs[1] - freqs[0]
    peak_hz = (k + _parabola(logp[rows, k - 1], logp[rows, k], logp[rows, k + 1])) * bin_hz
    return np.where(clarity >= PERIODIC, f0, peak_hz)


def _roughness(power: np.ndarray, freqs: np.ndarray, band: np.ndarray) -> np.ndarray:
    amp = np.sqrt(np.where(band[None, :], power, 0.0))
    local = np.zeros_like(amp, dtype=bool)
    local[:, 1:-1] = (amp[:, 1:-1] > amp[:, :-2]) & (amp[:, 1:-1] >= amp[:, 2:])
    peaks = np.where(local, amp, 0.0)
    top = np.argpartition(-peaks, PEAKS, axis=1)[:, :PEAKS]
    top = np.take_along_axis(top, np.argsort(-np.take_along_axis(peaks, top, axis=1), axis=1), 1)
    a = np.take_along_axis(peaks, top, axis=1)
    a = a / np.maximum(a[:, :1], _TINY)
    # peaks 26 dB down count as nothing: that also drops a Hann window's own side lobes (-31 dB)
    a = np.where(a >= 0.05, a, 0.0)
    f = freqs[top]
    f_min = np.minimum(f[:, :, None], f[:, None, :])
    df = np.abs(f[:, :, None] - f[:, None, :])
    s = 0.24 / (0.0207 * f_min + 18.96)
    d = np.minimum(a[:, :, None], a[:, None, :]) * (np.exp(-3.5 * s * df) - np.exp(-5.75 * s * df))
    return np.triu(d, k=1).sum(axis=(1, 2))


def describe_audio(audio: np.ndarray, rate: float, max_frames: int | None = None) -> np.ndarray:
    """The six descriptors (SOUND_DESCRIPTORS order) of each row of ``audio``.

    Args:
        audio: (N, n) or (n,) samples in -1..1 (any float dtype), n >= 64.
        rate: Sample rate in Hz.
        max_frames: Average the spectrum over at most this many frames from the start
            (None: all). The FM bank's sounds do not change over time, so its build uses
            a few (the same figures, a fraction of the time); loudness always uses all.

    Returns:
        float32 (N, 6) (or (6,) for one sound); see the module docstring for the formulas.

    Raises:
        BadInput: wrong shape, too short, a bad rate or non-finite samples.
    """
    x = np.asarray(audio)
    one = x.ndim == 1
    x = x[None, :] if one else x
    if x.ndim != 2 or x.shape[1] < 64:
        raise BadInput(f"descriptors need (sounds, samples) audio of 64 samples or more, got "
                       f"shape {np.shape(audio)}")
    if not (np.isfinite(rate) and 1000 <= rate <= 384000):
        raise BadInput(f"sample rate {rate} is out of range", "use 1000..384000 Hz")
    if not np.isfinite(x).all():
        raise BadInput("audio contains NaN or infinite samples")
    mean_square = np.einsum("ij,ij->i", x, x, dtype=np.float64) / x.shape[1]
    loud = np.maximum(10 * np.log10(mean_square + _TINY) + _SINE_DB, FLOOR_DB)
    freqs, power = welch_power(x, rate, max_frames)
    band = freqs >= MIN_HZ
    p = power[:, band]
    f = freqs[band]
    total = p.sum(axis=1)
    safe = np.maximum(total, _TINY)
    centroid = (p @ f) / safe
    spread = np.sqrt(np.maximum((p * (f[None, :] - centroid[:, None]) ** 2).sum(axis=1) / safe, 0))
    flat = np.exp(np.log(p + _TINY * 1e10).mean(axis=1)) / np.maximum(p.mean(axis=1), _TINY)
    pitch = _pitch(power, freqs, rate, band)
    rough = _roughness(power, freqs, band)
    silent = loud <= FLOOR_DB
    out = np.stack([loud, np.where(silent, 0, pitch), np.where(silent, 0, centroid),
                    np.where(silent, 0, spread), np.where(silent, 1, np.clip(flat, 0, 1)),
                    np.where(silent, 0, rough)], axis=1).astype(np.float32)
    return out[0] if one else out


def descriptor_space(descriptors: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Sound descriptors as a space to measure distances in: every axis alike.

    Frequencies are heard in octaves, so pitch, centroid and spread enter as ``log2(max(hz,
    20))``, and flatness in dB (``10 log10(max(flatness, 1e-6))``: FM tones sit far below
    noise, and dB keeps them apart instead of piling them at 0); each column is then
    standardised by ``reference``'s mean and standard deviation (default: ``descriptors``
    itself; pass the bank so played sounds sit where the bank puts them).

    Args:
        descriptors: (N, 6) in SOUND_DESCRIPTORS order.
        reference: (S, 6) descriptors whose statistics set the scale.

    Returns:
        float64 (N, 6).
    """
    def transform(d):
        d = np.array(d, dtype=np.float64)
        d[:, 1:4] = np.log2(np.maximum(d[:, 1:4], MIN_HZ))
        d[:, 4] = 10 * np.log10(np.maximum(d[:, 4], 1e-6))
        return d

    x = transform(descriptors)
    ref = x if reference is None else transform(reference)
    std = ref.std(axis=0)
    return (x - ref.mean(axis=0)) / np.where(std > 1e-12, std, 1.0)


def describe_params(params_physical: np.ndarray, seconds: float, rate: float,
                    table=None, chunk: int = 256) -> np.ndarray:
    """Descriptors of FM sounds rendered from physical parameters (for banks stored without them).

    Args:
        params_physical: (N, P) physical parameters in table order.
        seconds, rate: How long and at which rate to render each sound.
        table: Parameter table (default: the FM table).
        chunk: Sounds rendered at a time (bounds memory).
    """
    from instrument.sound.fm import render_static_into
    from instrument.sound.params import PARAM_TABLE

    table = table or PARAM_TABLE
    n = int(round(seconds * rate))
    params = np.asarray(params_physical, np.float64)
    out = np.empty((len(params), len(SOUND_DESCRIPTORS)), np.float32)
    audio = np.empty((min(chunk, max(len(params), 1)), n), np.float32)
    scratch = (np.empty(audio.shape, np.uint32), np.empty(audio.shape, np.float32))
    for lo in range(0, len(params), chunk):
        hi = min(lo + chunk, len(params))
        view = audio[:hi - lo]
        render_static_into(params[lo:hi], n, float(rate), view, table, scratch)
        out[lo:hi] = describe_audio(view, rate)
    return out
