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

Three renderers share that definition:

* :func:`render_fm` -- one sound, parameters constant or per-sample arrays, phase-continuous
  across calls through an optional phase array.
* :func:`render_many` -- many sounds with constant parameters (the corpus). It uses the closed
  form of the sum of sines for the carrier phase and 32-bit fixed-point phases, so it needs no
  cumulative sum and runs chunked on threads (numpy releases the GIL).
* :class:`SmoothedFM` -- the live numpy voice: targets smoothed per sample by the same one-pole
  as pyo's ``Port`` (log-scaled parameters are smoothed in log space), rendered block by block
  into a preallocated buffer without allocating. A target change may be scheduled for an exact
  sample of its output stream (:meth:`SmoothedFM.schedule`, kept in a :class:`ChangeRing`), so
  a fixed control delay gives a constant action-to-sound latency (Wessel & Wright).
"""

from __future__ import annotations

import math
import numbers
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from instrument.errors import BadInput
from instrument.params import PARAM_TABLE, ParamTable

TWO_PI = 2.0 * math.pi

#: pyo's Port adds this to its rise/fall time (``factor = 1 / ((time + 0.00025) * sr)``), measured
#: on pyo 1.1.0; we add it too so the numpy and pyo voices smooth identically.
PORT_OFFSET_S = 0.00025

#: The parameters FM needs, by name; a table may have more (they are ignored here).
FM_PARAMS = ("carrier_hz", "ratio", "index", "amplitude")


def _check_rate(n_samples, rate) -> tuple[int, float]:
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


def _exclusive_phase(increments: np.ndarray, start: float, out: np.ndarray) -> float:
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
    n, sr = _check_rate(n_samples, rate)
    car = _as_samples("carrier_hz", carrier_hz, n)
    mod_freq = car * _as_samples("ratio", ratio, n)
    idx = _as_samples("index", index, n)
    amp = _as_samples("amplitude", amplitude, n)
    if phase is not None:
        if not isinstance(phase, np.ndarray) or phase.shape != (2,) or phase.dtype != np.float64:
            raise BadInput("phase must be a float64 numpy array of 2 values [modulator, carrier]")
    start = phase if phase is not None else np.zeros(2)
    pm = np.empty(n)
    end_m = _exclusive_phase(mod_freq / sr, float(start[0]), pm)
    inc_c = car + mod_freq * idx * np.sin(TWO_PI * pm)
    pc = pm  # reuse the buffer
    end_c = _exclusive_phase(inc_c / sr, float(start[1]), pc)
    if phase is not None:
        phase[0], phase[1] = end_m, end_c
    pc -= np.floor(pc)  # keep the sin argument small for accuracy
    return (amp * np.sin(TWO_PI * pc)).astype(np.float32)


def _fm_columns(table: ParamTable) -> tuple[int, int, int, int]:
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
    ic, ir, ii, ia = _fm_columns(table)
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
    n, sr = _check_rate(n_samples, rate)
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


# --- smoothing -------------------------------------------------------------------------------

def smoothing_coefficient(smoothing_s: float, rate: float) -> float:
    """Per-sample one-pole coefficient k of ``y += (x - y) * k``, exactly pyo's ``Port``.

    ``smoothing_s`` is the time constant (63 % of a jump) in seconds; 0 still smooths over
    PORT_OFFSET_S (a quarter millisecond), as pyo does.
    """
    if not (isinstance(smoothing_s, (int, float)) and math.isfinite(smoothing_s)
            and smoothing_s >= 0):
        raise BadInput(f"smoothing time must be a finite number of seconds >= 0, "
                       f"got {smoothing_s!r}")
    return min(1.0, 1.0 / ((smoothing_s + PORT_OFFSET_S) * rate))


def log_scaled(table: ParamTable) -> np.ndarray:
    """bool[P]: parameters smoothed in log space (those with a log scale in the table)."""
    return np.array([p.scale == "log" for p in table])


def to_smoothing_space(physical, table: ParamTable = PARAM_TABLE) -> np.ndarray:
    """Physical values -> the space the voices smooth in (log for log-scaled parameters)."""
    physical = np.asarray(physical, dtype=np.float64)
    logs = log_scaled(table)
    return np.where(logs, np.log(np.where(logs, physical, 1.0)), physical)


# --- scheduled changes -----------------------------------------------------------------------

class ChangeRing:
    """A small preallocated queue of pending ``(due, values)`` changes, kept in ``due`` order.

    Thread-safe: :meth:`push` (control threads) and :meth:`pop_until` (the audio thread) take
    a lock only for copying a few numbers; an empty ring is checked without the lock. Nothing
    is allocated after construction (numpy copies into the preallocated rows).

    Overflow policy (a full ring means the consumer has stalled, so most pending changes are
    overdue and would be overridden at once anyway): the ring keeps the ``capacity``
    latest-due changes, i.e. the *earliest-due* change (the new one, if it is the earliest) is
    dropped and counted in :attr:`dropped`. The newest state therefore always survives.

    Args:
        capacity: Most pending changes.
        width: Values per change.
    """

    def __init__(self, capacity: int, width: int):
        if isinstance(capacity, bool) or not isinstance(capacity, numbers.Integral) \
                or capacity < 1:
            raise BadInput(f"schedule capacity must be an integer >= 1, got {capacity!r}")
        self.capacity = int(capacity)
        self._due = np.zeros(self.capacity)
        self._values = np.zeros((self.capacity, width))
        self._head = 0
        self.count = 0          # pending changes (read without the lock: an int is atomic)
        self.dropped = 0        # changes lost to overflow
        self._lock = threading.Lock()

    def push(self, due: float, values: np.ndarray) -> bool:
        """Queue a change; equal ``due`` keep their push order. False if it was dropped."""
        cap = self.capacity
        with self._lock:
            if self.count == cap:
                self.dropped += 1
                if due < self._due[self._head]:
                    return False                    # the new change is the earliest-due
                self._head = (self._head + 1) % cap
                self.count -= 1
            i = self.count                          # insertion sort from the back: in-order
            while i > 0:                            # pushes (the usual case) move nothing
                prev = (self._head + i - 1) % cap
                if self._due[prev] <= due:
                    break
                slot = (self._head + i) % cap
                self._due[slot] = self._due[prev]
                self._values[slot] = self._values[prev]
                i -= 1
            slot = (self._head + i) % cap
            self._due[slot] = due
            self._values[slot] = values
            self.count += 1
        return True

    def pop_until(self, limit: float, due_out: np.ndarray, values_out: np.ndarray) -> int:
        """Move every change with ``due < limit`` (in order) into the given arrays.

        Returns:
            How many were moved (``due_out[:n]``, ``values_out[:n]``).
        """
        if self.count == 0:
            return 0
        n, cap = 0, self.capacity
        with self._lock:
            while self.count and self._due[self._head] < limit:
                due_out[n] = self._due[self._head]
                values_out[n] = self._values[self._head]
                self._head = (self._head + 1) % cap
                self.count -= 1
                n += 1
        return n

    def clear(self) -> None:
        """Forget every pending change."""
        with self._lock:
            self._head = self.count = 0


class SmoothedFM:
    """The numpy FM voice: per-sample smoothed parameters, phase-continuous block rendering.

    Used by the sounddevice voice (inside its stream callback) and by the offline render, so
    what is heard live and what is rendered offline are the same samples.

    Smoothing: each parameter follows its target with pyo's ``Port`` one-pole,
    ``y[n] = y[n-1] + (x - y[n-1]) * k``, ``k = 1 / ((smoothing_s + 0.00025) * rate)``;
    log-scaled parameters (carrier_hz, ratio) are smoothed in log space so a glide is even in
    pitch. A new target takes effect at the start of the next :meth:`render` call.

    Args:
        rate: Sample rate in Hz.
        smoothing_s: Smoothing time constant in seconds.
        table: Parameter table (must contain carrier_hz, ratio, index, amplitude).
        max_block: Largest block rendered in one go; longer buffers are split. All work
            buffers are allocated here, once.
        initial: Physical start values (default: the table's start values; amplitude 0).
        schedule_capacity: Most pending scheduled changes (see :class:`ChangeRing` for what
            happens when it is full).
    """

    def __init__(self, rate: float, smoothing_s: float = 0.01, table: ParamTable = PARAM_TABLE,
                 max_block: int = 4096, initial=None, schedule_capacity: int = 64):
        _, self.rate = _check_rate(1, rate)
        self.table = table
        self.smoothing_s = float(smoothing_s)
        self.k = smoothing_coefficient(smoothing_s, self.rate)
        self._cols = _fm_columns(table)
        self._logs = log_scaled(table)
        if isinstance(max_block, bool) or not isinstance(max_block, numbers.Integral) \
                or max_block < 1:
            raise BadInput(f"max_block must be an integer >= 1, got {max_block!r}")
        self.max_block = int(max_block)
        # decay[n] = (1 - k) ** (n + 1): the closed form of the one-pole over a block
        self._decay = (1.0 - self.k) ** np.arange(1, max_block + 1, dtype=np.float64)
        self._smooth = np.empty((len(table), max_block))
        self._pm = np.empty(max_block)
        self._pc = np.empty(max_block)
        self._work = np.empty(max_block)
        self._state = np.zeros(len(table))       # smoothed values, smoothing space
        self._phase = np.zeros(2)                  # modulator, carrier (cycles)
        self._muted = False
        self._ring = ChangeRing(schedule_capacity, len(table))
        self._due = np.zeros(self._ring.capacity)                 # changes due in one render
        self._due_values = np.zeros((self._ring.capacity, len(table)))
        self._scheduled_target = np.zeros(len(table))  # the target set by a scheduled change
        self._samples = 0
        self.late = 0   # scheduled changes applied after their sample (due before a render)
        self.reset(initial)

    def reset(self, physical=None) -> None:
        """Jump (no smoothing) to ``physical`` values and zero the phases; not for the callback.

        Default: the table's start values (amplitude 0, i.e. silent until a target arrives).
        """
        values = self.table.start_values if physical is None else \
            self.table.validate_physical(physical, "SmoothedFM start values")
        self._state[:] = to_smoothing_space(values, self.table)
        self._target = self._state.copy()
        self._phase[:] = 0.0
        self._ring.clear()
        self._samples = 0

    def prepare_target(self, physical, what: str = "set_target") -> np.ndarray:
        """Validate physical values (float[P]) -> a new float64[P] in the smoothing space.

        Raises:
            BadInput: wrong length, NaN, or a value out of its range.
        """
        values = self.table.validate_physical(physical, "synth parameters")
        if values.shape != (len(self.table),):
            raise BadInput(f"{what} needs {len(self.table)} values, got {values.shape}")
        return to_smoothing_space(values, self.table)

    def set_target(self, physical) -> None:
        """Set new target physical values (float[P], table order). Safe from any thread.

        Validates (BadInput on NaN or out-of-range values), then swaps in a new array in one
        reference assignment, which the audio thread reads once per block: no lock needed.
        A change scheduled for a later sample still applies at its sample.
        """
        self._target = self.prepare_target(physical)

    def schedule(self, sample: int, physical) -> bool:
        """Set the target at an exact sample of the output stream. Safe from any thread.

        Args:
            sample: Stream position (0 = the first sample rendered since construction or
                :meth:`reset`; compare :attr:`samples_rendered`). Already rendered -> the
                change applies at the start of the next render and counts in :attr:`late`.
            physical: float[P] physical values, table order (validated like set_target).

        Returns:
            False if the queue was full and this change was the earliest-due (dropped);
            :attr:`dropped` counts every dropped change.
        """
        if isinstance(sample, bool) or not isinstance(sample, numbers.Integral) or sample < 0:
            raise BadInput(f"a scheduled sample must be a whole number >= 0, got {sample!r}")
        return self._ring.push(float(sample), self.prepare_target(physical, "schedule"))

    def schedule_prepared(self, sample: int, smooth: np.ndarray) -> bool:
        """:meth:`schedule` for values already from :meth:`prepare_target`; no checks, no
        allocation (for an audio callback). ``sample`` may be below :attr:`samples_rendered`."""
        return self._ring.push(sample, smooth)

    @property
    def samples_rendered(self) -> int:
        """Samples rendered so far: the stream position where the next render starts."""
        return self._samples

    @property
    def pending(self) -> int:
        """Scheduled changes not applied yet."""
        return self._ring.count

    @property
    def dropped(self) -> int:
        """Scheduled changes dropped because the queue was full."""
        return self._ring.dropped

    def clear_scheduled(self) -> None:
        """Forget every scheduled change not applied yet."""
        self._ring.clear()

    def mute(self, muted: bool = True) -> None:
        """Glide the amplitude to 0 (muted) or back to its target; no click either way."""
        self._muted = bool(muted)

    @property
    def muted(self) -> bool:
        """True while muted."""
        return self._muted

    @property
    def current(self) -> np.ndarray:
        """The smoothed physical values reached at the end of the last block (a copy)."""
        return np.where(self._logs, np.exp(self._state), self._state)

    def render(self, out: np.ndarray) -> np.ndarray:
        """Fill the float32 1-D buffer ``out`` in place with the next samples; returns it.

        Applies the scheduled changes due before the end of ``out`` at their samples.
        Allocates nothing (every temporary is preallocated), so it is safe in an audio callback.
        """
        start, total = self._samples, len(out)
        n_due = self._ring.pop_until(start + total, self._due, self._due_values)
        pos = 0
        for j in range(n_due):
            at = int(self._due[j]) - start
            if at < 0:
                self.late += 1
                at = 0
            if at > pos:
                self._render_span(out[pos:at])
                pos = at
            np.copyto(self._scheduled_target, self._due_values[j])
            self._target = self._scheduled_target
        self._render_span(out[pos:] if pos else out)
        self._samples = start + total
        return out

    def _render_span(self, out: np.ndarray) -> None:
        pos, total = 0, len(out)
        while pos < total:
            size = min(self.max_block, total - pos)
            self._render_block(out[pos:pos + size])
            pos += size

    def _render_block(self, out: np.ndarray) -> None:
        size = len(out)
        target = self._target  # read the reference once: a concurrent set_target is atomic
        ic, ir, ii, ia = self._cols
        decay = self._decay[:size]
        smooth = self._smooth[:, :size]
        muted = self._muted
        for p in (ic, ir, ii, ia):
            goal = 0.0 if (p == ia and muted) else target[p]
            row = smooth[p]
            np.multiply(decay, self._state[p] - goal, out=row)
            row += goal
            self._state[p] = row[-1]
        car, ratio, idx, amp = smooth[ic], smooth[ir], smooth[ii], smooth[ia]
        if self._logs[ic]:
            np.exp(car, out=car)
        if self._logs[ir]:
            np.exp(ratio, out=ratio)
        mod_freq = ratio
        mod_freq *= car                              # modulator frequency, Hz
        inc = self._work[:size]
        np.multiply(mod_freq, 1.0 / self.rate, out=inc)
        pm, pc = self._pm[:size], self._pc[:size]
        self._phase[0] = _exclusive_phase(inc, self._phase[0], pm)
        pm *= TWO_PI
        np.sin(pm, out=pm)
        pm *= mod_freq
        pm *= idx                                    # modulator value (deviation), Hz
        pm += car
        pm *= 1.0 / self.rate                        # carrier phase increment, cycles
        self._phase[1] = _exclusive_phase(pm, self._phase[1], pc)
        np.floor(pc, out=inc)
        pc -= inc
        pc *= TWO_PI
        np.sin(pc, out=pc)
        pc *= amp
        np.copyto(out, pc, casting="same_kind")
