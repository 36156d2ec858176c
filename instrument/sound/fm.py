"""Numpy FM synthesis with exactly pyo's ``FM(carrier, ratio, index)`` definition.

pyo's ``Fm`` object (src/objects/oscilmodule.c) computes, per sample ``n`` at rate ``sr``::

    mod_freq[n] = carrier[n] * ratio[n]
    mod_val[n]  = mod_freq[n] * index[n] * sin(2 pi pm[n])   # peak deviation = index * mod_freq
    out[n]      = sin(2 pi pc[n]) * mul[n]
    pm[n+1]     = pm[n] + mod_freq[n] / sr                   # phases in cycles, start at 0
    pc[n+1]     = pc[n] + (carrier[n] + mod_val[n]) / sr

i.e. the sample at ``n`` uses the phase accumulated *before* ``n`` (``out[0] = 0``). pyo reads
the sines from a 512-point table with linear interpolation in float32; we use ``np.sin`` in
float64, so the two agree to about 1e-5 per sample plus pyo's float32 phase drift (see
tests/test_fm.py, which renders both and compares).

Three renderers share that definition (two here):

* :func:`render_fm` -- one sound, parameters constant or per-sample arrays, phase-continuous
  across calls through an optional phase array.
* :func:`render_many` -- many sounds with constant parameters (the corpus). It uses the closed
  form of the sum of sines for the carrier phase and 32-bit fixed-point phases, so it needs no
  cumulative sum and runs chunked on threads (numpy releases the GIL).
* :class:`instrument.sound.smoothed_fm.SmoothedFM` -- the live numpy voice, built on
  :func:`exclusive_phase` and :func:`fm_columns` from here.
"""

from __future__ import annotations

import math
import numbers
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from instrument.errors import BadInput
from instrument.sound.params import PARAM_TABLE, ParamTable

TWO_PI = 2.0 * math.pi

#: The parameters FM needs, by name; a table may have more (they are ignored here).
FM_PARAMS = ("carrier_hz", "ratio", "index", "amplitude")


def check_rate(n_samples, rate) -> tuple[int, float]:
    """Validated (whole n_samples >= 0, finite rate > 0); BadInput otherwise."""
    try:
        n = int(n_samples)
        sr = float(rate)
    except (TypeError, ValueError):
        raise BadInput(f"n_samples {n_samples!r} and rate {rate!r} must be numbers") from None
    if n < 0 or n != n_samples:
        raise BadInput(f"n_samples must be a whole number >= 0, got {n_samples!r}")
    if not math.isfinite(sr) or sr <= 0:
        raise BadInput(f"sample rate must be > 0, got {rate!r}")
    return n, sr


def is_whole(value) -> bool:
    """An integer (Python or numpy), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _as_samples(name: str, value, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    elif arr.shape != (n,):
        raise BadInput(f"{name} must be a number or an array of n_samples = {n} values, "
                       f"got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise BadInput(f"{name} contains NaN or infinite values")
    return arr


def exclusive_phase(increments: np.ndarray, start: float, out: np.ndarray) -> float:
    """out[n] = start + sum(increments[:n]); returns the wrapped phase after the last sample."""
    n = len(increments)
    if n == 0:
        return start
    out[0] = 0.0
    np.cumsum(increments[:-1], out=out[1:])
    out += start
    end = out[-1] + increments[-1]
    return end - math.floor(end)


def render_fm(carrier_hz, ratio, index, amplitude, n_samples: int, rate: float,
              phase: np.ndarray | None = None) -> np.ndarray:
    """Render FM with pyo's definition; parameters may be numbers or per-sample arrays.

    Args:
        carrier_hz: Carrier frequency in Hz (number or float[n_samples]).
        ratio: Modulator frequency / carrier frequency.
        index: Modulation index (peak deviation = index * modulator frequency).
        amplitude: Output gain.
        n_samples: Samples to render.
        rate: Sample rate in Hz.
        phase: Optional float64[2] ``[modulator, carrier]`` phases in cycles; read as the start
            phases and updated in place, so consecutive calls continue without a jump.

    Returns:
        float32[n_samples] audio.
    """
    n, sr = check_rate(n_samples, rate)
    car = _as_samples("carrier_hz", carrier_hz, n)
    mod_freq = car * _as_samples("ratio", ratio, n)
    idx = _as_samples("index", index, n)
    amp = _as_samples("amplitude", amplitude, n)
    if phase is not None:
        if not isinstance(phase, np.ndarray) or phase.shape != (2,) or phase.dtype != np.float64:
            raise BadInput("phase must be a float64 numpy array of 2 values [modulator, carrier]")
    start = phase if phase is not None else np.zeros(2)
    pm = np.empty(n)
    end_m = exclusive_phase(mod_freq / sr, float(start[0]), pm)
    inc_c = car + mod_freq * idx * np.sin(TWO_PI * pm)
    pc = pm  # reuse the buffer
    end_c = exclusive_phase(inc_c / sr, float(start[1]), pc)
    if phase is not None:
        phase[0], phase[1] = end_m, end_c
    pc -= np.floor(pc)  # keep the sin argument small for accuracy
    return (amp * np.sin(TWO_PI * pc)).astype(np.float32)


def fm_columns(table: ParamTable) -> tuple[int, int, int, int]:
    """The table columns of carrier_hz, ratio, index and amplitude, in that order."""
    return tuple(table.index_of(name) for name in FM_PARAMS)  # type: ignore[return-value]


def render_static_into(params_physical: np.ndarray, n_samples: int, rate: float,
                       out: np.ndarray, table: ParamTable = PARAM_TABLE,
                       scratch: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Render sounds with constant parameters into ``out`` (float32[N, n_samples]).

    Same definition as :func:`render_fm`, vectorized over sounds: the carrier phase uses the
    closed form ``sum_{k<n} sin(k t) = (cos(t/2) - cos((n - 1/2) t)) / (2 sin(t/2))`` and
    phases are 32-bit fixed point (exact wrap-around; increments rounded to 2**-32 cycles).
    No argument checking: this is the inner loop of :func:`render_many`.

    Args:
        scratch: Optional (uint32, float32) work arrays of at least ``out``'s size, reused
            between calls so a long build does not page-fault fresh memory for every chunk.
    """
    ic, ir, ii, ia = fm_columns(table)
    p = np.asarray(params_physical, dtype=np.float64)
    car, idx, amp = p[:, ic], p[:, ii], p[:, ia]
    mod_freq = car * p[:, ir]
    theta = TWO_PI * mod_freq / rate
    half_sin = np.sin(theta / 2)
    safe = np.abs(half_sin) > 1e-12  # mod_freq a multiple of rate: every sin(k theta) is 0
    b = np.where(safe, idx * mod_freq / rate / (2 * np.where(safe, half_sin, 1.0)), 0.0)
    a = b * np.cos(theta / 2)
    scale = float(2 ** 32)
    inc_m = np.mod(np.round(mod_freq / rate * scale), scale).astype(np.uint32)
    inc_c = np.mod(np.round(car / rate * scale), scale).astype(np.uint32)
    n = np.arange(n_samples, dtype=np.uint32)
    if scratch is None:
        fixed = np.empty(out.shape, dtype=np.uint32)
        carrier = np.empty(out.shape, dtype=np.float32)
    else:
        fixed = scratch[0].reshape(-1)[:out.size].reshape(out.shape)
        carrier = scratch[1].reshape(-1)[:out.size].reshape(out.shape)
    # modulator term at phase (n - 1/2) * mod_freq / rate; uint32 arithmetic wraps = mod 1 cycle
    np.multiply(n[None, :], inc_m[:, None], out=fixed)
    fixed -= (inc_m // 2)[:, None]
    work = out  # float32 work buffer = the output itself (no extra allocation)
    work[...] = fixed.view(np.int32)      # int32 -> float32 cast, in place
    work *= np.float32(TWO_PI / scale)
    np.cos(work, out=work)
    work *= (-b).astype(np.float32)[:, None]
    work += a.astype(np.float32)[:, None]
    np.multiply(n[None, :], inc_c[:, None], out=fixed)
    # carrier phase in cycles = n * car / rate (wrapped to [-1/2, 1/2)) + modulation term
    carrier[...] = fixed.view(np.int32)
    carrier *= np.float32(1.0 / scale)
    work += carrier
    work *= np.float32(TWO_PI)
    np.sin(work, out=work)
    work *= amp.astype(np.float32)[:, None]
    return out


def default_workers() -> int:
    """Threads for vectorized rendering: the CPUs this process may use, at most 4."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


def chunk_rows(n_samples: int, target_samples: int = 1 << 18) -> int:
    """Rows per chunk so one chunk is about ``target_samples`` floats (cache sized)."""
    return max(1, target_samples // max(1, n_samples))


def render_many(params_physical, n_samples: int, rate: float, table: ParamTable = PARAM_TABLE,
                workers: int | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Render N sounds with constant parameters, vectorized, chunked and threaded.

    Args:
        params_physical: float[N, P] physical parameters in table order.
        n_samples: Samples per sound.
        rate: Sample rate in Hz.
        table: The parameter table the columns follow.
        workers: Threads (default :func:`default_workers`).
        out: Optional float32[N, n_samples] to render into.

    Returns:
        float32[N, n_samples]; equal to :func:`render_fm` per row within ~1e-4.
    """
    n, sr = check_rate(n_samples, rate)
    params = table.validate_physical(params_physical, "render_many parameters")
    if params.ndim != 2:
        raise BadInput(f"render_many needs a 2-D [N, {len(table)}] array, got {params.shape}")
    if out is None:
        out = np.empty((len(params), n), dtype=np.float32)
    elif out.shape != (len(params), n) or out.dtype != np.float32:
        raise BadInput(f"out must be float32 {(len(params), n)}, got {out.dtype} {out.shape}")
    rows = chunk_rows(n)
    starts = range(0, len(params), rows)

    def job(lo: int) -> None:
        render_static_into(params[lo:lo + rows], n, sr, out[lo:lo + rows], table)

    workers = workers or default_workers()
    if workers == 1 or len(starts) == 1:
        for lo in starts:
            job(lo)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(job, starts))
    return out
