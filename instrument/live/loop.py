"""The live loop: pointer samples -> gesture window -> runtime -> sinks, driven by input.

Every pointer sample (mouse event, OSC ``/wek/inputs``, replayed sample) makes one control
frame *at once*, on the thread that received it: no queue, no clock in between, so the control
path adds only the window + runtime + send time. While the pointer is still, a clock thread
adds frames at the model's gesture rate (the rule of :mod:`instrument.gesture.steps`), so stillness
is heard as stillness. The screen (:mod:`instrument.live.view`) has its own frame rate and
only reads snapshots.

The per-frame work is the same code as the offline render: :class:`tracker.GestureTracker`
for windows and the frame rule, :meth:`runtime.Runtime.frame` for the sound. A replayed file
therefore sends exactly the rows of ``instrument render --controls``.

:mod:`instrument.live.session` wires a whole performance (``instrument perform``) around
this loop; the loop knows nothing of its view or summary.

Nothing here imports torch, and nothing is allocated per frame beyond what numpy needs for
a few small views: every buffer (parameters, latency rings) is allocated once.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Callable

import numpy as np

from instrument.frame_policy import UnitOf
from instrument.gesture.pauses import cap_pauses
from instrument.live.loop_state import LatencyRing, Snapshot

DEFAULT_WIDTH, DEFAULT_HEIGHT = 800, 600   # gesture plane for OSC input without a window
SWITCH_INTERVAL_S = 0.0005                  # longest GIL wait of an input thread (see below)


class ControlLoop:
    """Pointer samples in, control frames out to every sink; thread-safe.

    Args:
        runtime: A :class:`runtime.Runtime` (``frame``, ``table``, ``blend_k``,
            ``bank_params_unit``, ``reset``).
        tracker: A :class:`tracker.GestureTracker` for the pointer plane in use.
        osc_out: An :class:`osc.OscOut` or None.
        voices: Audio voices with ``set_params(physical)`` and ``mute(bool)``.
        on_frame: Optional ``callback(t, sound, params_physical)`` after every frame (tests,
            control-stream capture); it gets a reused buffer, copy what you keep.
        fixed_latency: None: voices apply each frame as soon as they can (at their next
            block: 0..1 block of jitter). Seconds: each frame is heard exactly this long after
            its input arrived (voices with ``set_params(p, at=t)``: the sounddevice voice).
    """

    def __init__(self, runtime, tracker, osc_out=None, voices=(), on_frame=None,
                 fixed_latency: float | None = None):
        self.runtime = runtime
        self.tracker = tracker
        self.osc_out = osc_out
        self.voices = list(voices)
        self.fixed_latency = fixed_latency
        self.on_frame = on_frame
        self.table = runtime.table
        n = len(self.table)
        self._unit = np.zeros(n, dtype=np.float32)
        self._physical = np.zeros(n, dtype=np.float32)
        self._amp = self.table.names.index("amplitude") if "amplitude" in self.table.names else -1
        self._to_unit = UnitOf(self.table)   # the blended frame's 0..1 values, for OSC out
        self._lock = threading.Lock()
        self._blend = (int(getattr(runtime, "blend_k", 1)) > 1
                       or getattr(runtime, "fade", None) is not None)  # not a bank row
        self.latency = LatencyRing()        # input arrival -> every sink done (sample frames)
        self.still_lateness = LatencyRing()  # due time -> sinks done (still frames)
        self.snapshot = Snapshot()
        self.params = np.zeros(n, dtype=np.float32)  # physical, for the view
        self.last_sample: tuple[float, float, float] | None = None   # for the view's trail
        self.frames = 0
        self.sample_frames = 0
        self.still_frames = 0
        self.dropped_still = 0
        self.muted = False
        self.held = False
        self.sound = -1

    # --- controls (keys) --------------------------------------------------------------

    def set_muted(self, muted: bool) -> None:
        """Mute/unmute: voices go silent, OSC sends amplitude 0 (frames keep flowing)."""
        with self._lock:
            self.muted = bool(muted)
            self.snapshot.muted = self.muted
            for voice in self.voices:
                voice.mute(self.muted)

    def set_held(self, held: bool) -> None:
        """Hold the current sound (frames keep flowing with its parameters) or release it."""
        with self._lock:
            self.held = bool(held) and self.sound >= 0
            self.snapshot.held = self.held

    def resize(self, width: float, height: float) -> None:
        """A new pointer plane (the window was resized): the trace starts afresh."""
        from instrument.gesture.tracker import GestureTracker

        with self._lock:
            rejected = self.tracker.rejected
            self.tracker = GestureTracker(self.tracker.cfg, width, height)
            self.tracker.rejected = rejected

    def swap_runtime(self, runtime, tracker=None) -> None:
        """Play every later frame with another model (``instrument serve`` after training).

        The swap takes the frame lock, so it happens between two frames: none is lost, none
        is doubled, and the frame after it is the new model's.

        Args:
            runtime: The new :class:`runtime.Runtime` (the same synth parameter table).
            tracker: A new tracker when the new model reads its input differently (another
                gesture config or stream normalisation); None keeps the trace.
        """
        if tuple(runtime.table.names) != tuple(self.table.names):
            from instrument.errors import BadInput

            raise BadInput("the new model plays other synth parameters "
                           f"({', '.join(runtime.table.names)})", "restart to change synth")
        with self._lock:
            self.runtime = runtime
            self.table = runtime.table
            self._to_unit = UnitOf(self.table)
            self._blend = (int(getattr(runtime, "blend_k", 1)) > 1
                           or getattr(runtime, "fade", None) is not None)
            self.held = self.snapshot.held = False   # a held bank index means nothing now
            if tracker is not None:
                tracker.rejected = self.tracker.rejected
                self.tracker = tracker

    # --- frames -------------------------------------------------------------------------

    def sample(self, t: float, x: float, y: float, arrival: float | None = None) -> bool:
        """One pointer sample at gesture time ``t``: a control frame now, unless rejected.

        Args:
            t: Gesture time in seconds (strictly increasing; earlier or equal is rejected).
            x, y: Pointer position in pixels of the tracker's plane.
            arrival: ``time.perf_counter()`` when the input arrived (for the latency meter).

        Returns:
            False when the tracker rejected the sample (NaN/inf, absurd, out of order).
        """
        with self._lock:
            if not self.tracker.push(t, x, y):
                return False
            self.last_sample = (t, x, y)
            self._frame(t, arrival)
            self.sample_frames += 1
            if arrival is not None:
                self.latency.add(time.perf_counter() - arrival)
        return True

    def sample_stream(self, t: float, values, arrival: float | None = None) -> bool:
        """One sample of an N-channel stream (a StreamTracker's loop): a frame now, unless
        the tracker rejects it (wrong width, NaN/inf, absurd, out of order)."""
        with self._lock:
            if not self.tracker.push(t, values):
                return False
            self._frame(t, arrival)
            self.sample_frames += 1
            if arrival is not None:
                self.latency.add(time.perf_counter() - arrival)
        return True

    def still(self, t: float, due: float | None = None) -> bool:
        """A still frame at gesture time ``t`` (the pointer has not moved since).

        Returns:
            False (no frame) when ``t`` is not after the last sample: a sample came first.
        """
        with self._lock:
            last = self.tracker.last_time
            if last is None or t <= last:
                return False
            self._frame(t, due)
            self.still_frames += 1
            if due is not None:
                self.still_lateness.add(max(time.perf_counter() - due, 0.0))
        return True

    def next_still_time(self) -> float | None:
        """Gesture time of the next still frame, None before the first sample."""
        with self._lock:
            return self.tracker.next_still_time()

    def _frame(self, t: float, arrival: float | None) -> None:
        # Called with the lock held: window -> runtime -> every sink. The window is taken
        # even while held: it advances the tracker's still-frame schedule.
        window = self.tracker.window_at(t)
        if self.held:
            sound = self.sound
        else:
            sound, params = self.runtime.frame(window)
            self.sound = sound
            np.copyto(self._physical, params)
            if self._blend:
                self._to_unit(self._physical, self._unit)
            else:
                np.copyto(self._unit, self.runtime.bank_params_unit[sound])
        physical, unit = self._physical, self._unit
        if self.muted and self._amp >= 0:
            # external synths go quiet too; the buffers are restored on the next frame
            amp_p, amp_u = physical[self._amp], unit[self._amp]
            physical[self._amp] = unit[self._amp] = 0.0
        if self.osc_out is not None:
            self.osc_out.send_frame(sound, unit, physical, arrival)
        if self.fixed_latency is None:
            for voice in self.voices:
                voice.set_params(physical)
        else:
            at = (time.perf_counter() if arrival is None else arrival) + self.fixed_latency
            for voice in self.voices:
                voice.set_params(physical, at=at)
        if self.on_frame is not None:
            self.on_frame(t, sound, physical)
        if self.muted and self._amp >= 0:
            physical[self._amp], unit[self._amp] = amp_p, amp_u
        np.copyto(self.params, physical)
        self.frames += 1
        self.snapshot.sound = sound
        self.snapshot.frames = self.frames


class StillClock:
    """Adds still frames at the gesture rate while live input is quiet (a daemon thread).

    Gesture time is ``clock() - t0``. A frame due while the loop was busy for more than one
    period is skipped and counted in ``loop.dropped_still`` rather than sent late in a burst.

    Args:
        loop: The control loop.
        t0: The ``clock()`` time of gesture time 0.
        period: Seconds between still frames (1 / rate_hz).
        clock: The time source (``time.perf_counter``; tests drive :meth:`tick` with a
            fake one instead of starting the thread, so no count depends on the machine).
    """

    # Before the first sample there is nothing to hold still: look again this often.
    IDLE_S = 0.02

    def __init__(self, loop: ControlLoop, t0: float, period: float,
                 clock: Callable[[], float] = time.perf_counter):
        self.loop, self.t0, self.period, self.clock = loop, t0, period, clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="still-clock", daemon=True)

    def start(self) -> "StillClock":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)

    def tick(self) -> float:
        """Take the still frame due by ``clock()``, if any; seconds to wait before the next.

        Returns 0.0 after taking a frame (call again), the time until the planned frame
        otherwise (a sample arriving meanwhile moves the plan later: re-plan on waking).
        """
        loop = self.loop
        due = loop.next_still_time()
        if due is None:
            return self.IDLE_S
        now = self.clock() - self.t0
        if due > now:
            return due - now
        late = now - due
        if late > self.period:
            # Too late to matter: take one frame now instead of a burst of stale ones.
            missed = int(late / self.period)
            loop.dropped_still += missed
            due += missed * self.period
        loop.still(due, self.t0 + due)
        return 0.0

    def _run(self) -> None:
        # Samples never wake this thread, so it costs the input threads nothing while the
        # pointer moves.
        while not self._stop.is_set():
            wait = self.tick()
            if wait > 0:
                self._stop.wait(wait)


def replay_recording(loop: ControlLoop, rec, realtime: bool = True, speed: float = 1.0,
                     stop: threading.Event | None = None) -> None:
    """Play a recording through ``loop``: its samples and the still frames between them.

    The order is the frame rule of :mod:`instrument.gesture.steps` (still frames strictly before
    the next sample, none after the last), so the frames equal ``frames_from_recording``.

    Args:
        loop: The control loop (its tracker must be sized like the recording).
        rec: A recording (``t``, ``x``, ``y`` arrays).
        realtime: True: each frame at its own time (scaled by ``speed``); False: as fast as
            the loop takes them (soak tests, benchmarks).
        speed: Playback speed factor when ``realtime``.
        stop: Set it to end the replay early.
    """
    if len(rec.t) == 0:
        return
    # Long pauses are shortened exactly as offline (gesture.pauses), so the frames match; a
    # replay that continues a trace counts its first pause from the trace's last sample.
    last = getattr(loop.tracker, "last_time", None)
    played, _ = cap_pauses(rec.t, start=0.0 if last is None else last)
    start, first = time.perf_counter(), float(played[0])

    def wait_until(t: float) -> float:
        due = start + (t - first) / speed
        if realtime:
            delay = due - time.perf_counter()
            if delay > 0:
                if stop is not None:
                    stop.wait(delay)            # Esc / Ctrl-C end a long pause at once
                else:
                    time.sleep(delay)
        return due

    pointer = getattr(rec, "is_pointer", True)
    for t, *sample in (_samples(rec, played) if pointer else _stream_samples(rec, played)):
        if stop is not None and stop.is_set():
            return
        if math.isfinite(t):
            while stop is None or not stop.is_set():
                due = loop.next_still_time()
                if due is None or not due < t:
                    break
                wall = wait_until(due)
                loop.still(due, wall if realtime else None)
            wait_until(t)
            if stop is not None and stop.is_set():
                return
        if pointer:
            loop.sample(t, sample[0], sample[1], time.perf_counter())
        else:
            loop.sample_stream(t, sample[0], time.perf_counter())


def _stream_samples(rec, t, chunk: int = 4096):
    """(t, values row) of an N-channel recording (``t``: its times as played)."""
    values = rec.channel_values()
    for start in range(0, len(t), chunk):
        yield from zip(t[start:start + chunk].tolist(), values[start:start + chunk])


def _samples(rec, t, chunk: int = 4096):
    """(t, x, y) as Python floats, a chunk at a time: memory stays flat for long files."""
    for start in range(0, len(t), chunk):
        stop = start + chunk
        yield from zip(t[start:stop].tolist(), rec.x[start:stop].tolist(),
                       rec.y[start:stop].tolist())
