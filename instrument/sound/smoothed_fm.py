"""The smoothed numpy FM voice: pyo's ``Port`` smoothing, sample-accurate scheduled changes.

:class:`SmoothedFM` plays :mod:`instrument.sound.fm`'s definition with targets smoothed per sample by
the same one-pole as pyo's ``Port`` (log-scaled parameters are smoothed in log space), rendered
block by block into a preallocated buffer without allocating. A target change may be scheduled
for an exact sample of its output stream (:meth:`SmoothedFM.schedule`, kept in a
:class:`ChangeRing`), so a fixed control delay gives a constant action-to-sound latency
(Wessel & Wright).

The smoothing math here (:func:`smoothing_coefficient`, :func:`to_smoothing_space`) is shared
by the pyo voice (:mod:`instrument.output.pyo_voice`), so both voices smooth identically.
"""

from __future__ import annotations

import math
import numbers
import threading

import numpy as np

from instrument.errors import BadInput
from instrument.sound.fm import TWO_PI, check_rate, exclusive_phase, fm_columns
from instrument.sound.params import PARAM_TABLE, ParamTable, alias_free

#: pyo's Port adds this to its rise/fall time (``factor = 1 / ((time + 0.00025) * sr)``), measured
#: on pyo 1.1.0; we add it too so the numpy and pyo voices smooth identically.
PORT_OFFSET_S = 0.00025

#: The voices' smoothing time constant unless asked otherwise, in seconds.
DEFAULT_SMOOTHING_S = 0.01


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
        _, self.rate = check_rate(1, rate)
        self.table = table
        self.smoothing_s = float(smoothing_s)
        self.k = smoothing_coefficient(smoothing_s, self.rate)
        self._cols = fm_columns(table)
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
        # The FM band stays under this voice's Nyquist (the rule the bank and pyo follow too).
        return to_smoothing_space(alias_free(values, self.table, self.rate), self.table)

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
        self._phase[0] = exclusive_phase(inc, self._phase[0], pm)
        pm *= TWO_PI
        np.sin(pm, out=pm)
        pm *= mod_freq
        pm *= idx                                    # modulator value (deviation), Hz
        pm += car
        pm *= 1.0 / self.rate                        # carrier phase increment, cycles
        self._phase[1] = exclusive_phase(pm, self._phase[1], pc)
        np.floor(pc, out=inc)
        pc -= inc
        pc *= TWO_PI
        np.sin(pc, out=pc)
        pc *= amp
        np.copyto(out, pc, casting="same_kind")
