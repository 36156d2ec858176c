"""The live loop: pointer samples -> gesture window -> runtime -> sinks, driven by input.

Every pointer sample (mouse event, OSC ``/wek/inputs``, replayed sample) makes one control
frame *at once*, on the thread that received it: no queue, no clock in between, so the control
path adds only the window + runtime + send time. While the pointer is still, a clock thread
adds frames at the model's gesture rate (the rule of :mod:`instrument.gestures`), so stillness
is heard as stillness. The screen (:mod:`instrument.perform_view`) has its own frame rate and
only reads snapshots.

The per-frame work is the same code as the offline render: :class:`gestures.GestureTracker`
for windows and the frame rule, :meth:`runtime.Runtime.frame` for the sound. A replayed file
therefore sends exactly the rows of ``instrument render --controls``.

:func:`run_session` wires a whole performance (``instrument perform``): the input (window,
OSC in or a replayed file), the loop, the voices and OSC out, then prints
:mod:`instrument.perform_summary`'s report.

Nothing here imports torch, and nothing is allocated per frame beyond what numpy needs for
a few small views: every buffer (parameters, latency rings) is allocated once.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np

DEFAULT_WIDTH, DEFAULT_HEIGHT = 800, 600   # gesture plane for OSC input without a window
SWITCH_INTERVAL_S = 0.0005                  # longest GIL wait of an input thread (see below)
LATENCY_RING = 1 << 16                      # frames kept for percentiles (about 10 min @100 Hz)


class LatencyRing:
    """The last ``size`` latencies in seconds, preallocated; percentiles on demand."""

    def __init__(self, size: int = LATENCY_RING):
        self._values = np.zeros(size, dtype=np.float64)
        self.count = 0
        self.max = 0.0
        self.recent = 0.0                   # moving average for the on-screen meter

    def add(self, seconds: float) -> None:
        """Record one latency (no allocation)."""
        self._values[self.count % len(self._values)] = seconds
        self.count += 1
        if seconds > self.max:
            self.max = seconds
        self.recent = seconds if self.count == 1 else 0.9 * self.recent + 0.1 * seconds

    def values(self) -> np.ndarray:
        """A copy of the recorded latencies (oldest may be overwritten)."""
        return self._values[:min(self.count, len(self._values))].copy()

    def percentiles(self, qs=(50, 95, 99)) -> dict[str, float]:
        """{"p50": s, ..., "max": s, "n": count}; NaN when nothing was recorded."""
        values = self.values()
        out = {f"p{q:g}": (float(np.percentile(values, q)) if len(values) else math.nan)
               for q in qs}
        out["max"] = self.max if self.count else math.nan
        out["n"] = self.count
        return out


@dataclass
class Snapshot:
    """What the screen shows; written by the control loop, read by the view (no lock needed:
    a torn read shows one frame's mix of two frames, never anything wrong for long)."""

    sound: int = -1
    frames: int = 0
    muted: bool = False
    held: bool = False


class ControlLoop:
    """Pointer samples in, control frames out to every sink; thread-safe.

    Args:
        runtime: A :class:`runtime.Runtime` (``frame``, ``table``, ``blend_k``,
            ``bank_params_unit``, ``reset``).
        tracker: A :class:`gestures.GestureTracker` for the pointer plane in use.
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
        self._lock = threading.Lock()
        self._blend = int(getattr(runtime, "blend_k", 1)) > 1
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
        from instrument.gestures import GestureTracker

        with self._lock:
            rejected = self.tracker.rejected
            self.tracker = GestureTracker(self.tracker.cfg, width, height)
            self.tracker.rejected = rejected

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
                self._unit[:] = self.table.to_unit(self._physical)
            else:
                np.copyto(self._unit, self.runtime.bank_params_unit[sound])
        physical, unit = self._physical, self._unit
        if self.muted and self._amp >= 0:
            # external synths go quiet too; the buffers are restored on the next frame
            amp_p, amp_u = physical[self._amp], unit[self._amp]
            physical[self._amp] = unit[self._amp] = 0.0
        if self.osc_out is not None:
            self.osc_out.send_frame(sound, unit, physical)
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

    Gesture time is ``time.perf_counter() - t0``. A frame due while the loop was busy for more
    than one period is skipped and counted in ``loop.dropped_still`` rather than sent late
    in a burst.
    """

    def __init__(self, loop: ControlLoop, t0: float, period: float):
        self.loop, self.t0, self.period = loop, t0, period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="still-clock", daemon=True)

    def start(self) -> "StillClock":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)

    def _run(self) -> None:
        # Sleeps until the planned still frame and re-plans on waking: a sample that came in
        # the meantime moved the plan later. Samples never wake this thread, so it costs the
        # input threads nothing while the pointer moves.
        loop = self.loop
        while not self._stop.is_set():
            due = loop.next_still_time()
            if due is None:
                self._stop.wait(0.02)
                continue
            now = time.perf_counter() - self.t0
            if due > now:
                self._stop.wait(due - now)
                continue
            late = now - due
            if late > self.period:
                # Too late to matter: take one frame now instead of a burst of stale ones.
                missed = int(late / self.period)
                loop.dropped_still += missed
                due += missed * self.period
            loop.still(due, self.t0 + due)


def replay_recording(loop: ControlLoop, rec, realtime: bool = True, speed: float = 1.0,
                     stop: threading.Event | None = None) -> None:
    """Play a recording through ``loop``: its samples and the still frames between them.

    The order is the frame rule of :mod:`instrument.gestures` (still frames strictly before
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
    start, first = time.perf_counter(), float(rec.t[0])

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

    for t, x, y in _samples(rec):
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
        loop.sample(t, x, y, time.perf_counter())


def _samples(rec, chunk: int = 4096):
    """(t, x, y) as Python floats, a chunk at a time: memory stays flat for long files."""
    for start in range(0, len(rec.t), chunk):
        stop = start + chunk
        yield from zip(rec.t[start:stop].tolist(), rec.x[start:stop].tolist(),
                       rec.y[start:stop].tolist())


# --- a whole performance session -----------------------------------------------------------

@dataclass
class PerformOptions:
    """What ``instrument perform`` was asked to do (see its --help)."""

    model: str
    audio: str = "pyo"                   # pyo | sounddevice | none
    audio_backend: str = "portaudio"     # portaudio | jack (pyo only)
    buffer: int = 256
    rate: int = 44100
    smoothing_s: float = 0.01
    osc: list | None = None              # [(host, port)]; None = the default 127.0.0.1:12000
    no_osc: bool = False
    osc_in: int | None = None            # UDP port; None = off (6448 when headless, no replay)
    osc_in_pixels: bool = False
    replay: str | None = None
    fast: bool = False                   # replay as fast as possible (soak tests)
    headless: bool = False
    latency_report: bool = False
    seconds: float | None = None
    controls: str | None = None          # write the control stream CSV played (render's format)
    fixed_latency_s: float | None = None  # sounddevice voice: constant input -> sound delay
    fps: float = 60.0


def open_voices(opts: PerformOptions, table) -> list:
    """The audio voice asked for, started.

    The voices check first (a child process asks PortAudio for an output device; the jack
    backend checks that jackd runs), so a machine without sound gets one AudioDeviceError
    line instead of pyo's segfault.
    """
    if opts.audio == "none":
        return []
    from instrument.errors import AudioDeviceError

    if opts.audio == "pyo":
        from instrument.synth import PyoVoice

        voice = PyoVoice(opts.audio_backend, opts.rate, opts.buffer, opts.smoothing_s,
                         table=table)
    else:
        from instrument.sounddevice_voice import SoundDeviceVoice

        voice = SoundDeviceVoice(opts.rate, opts.buffer, opts.smoothing_s, table=table)
    try:
        voice.start()
    except AudioDeviceError as err:
        fix = f"{err.fix}; " if err.fix else ""
        raise AudioDeviceError(err.problem, f"{fix}or play through OSC only with --audio none"
                               ) from None
    return [voice]


class ControlsWriter:
    """Writes every frame played to a control stream CSV, in render's exact format."""

    def __init__(self, path: str, names):
        from instrument.errors import DataFileError
        from instrument.render import format_row

        self._format = format_row
        try:
            self._file = open(path, "w", encoding="utf-8", newline="\n")
        except OSError as err:
            raise DataFileError(f"cannot write control stream {path}: {err.strerror or err}",
                                "check that the directory exists and is writable") from None
        self._file.write(",".join(["t", "sound", *names]) + "\n")

    def write_frame(self, t: float, sound: int, params) -> None:
        self._file.write(self._format(t, sound, params) + "\n")

    def close(self) -> None:
        self._file.close()


def run_session(opts: PerformOptions, print_fn=print) -> int:
    """Run a performance until Esc, the end of the replay, --seconds, or Ctrl-C.

    Returns:
        0; errors the user can fix raise :class:`instrument.errors.InstrumentError`.
    """
    from instrument.errors import BadInput
    from instrument.gestures import GestureTracker
    from instrument.osc import DEFAULT_IN_PORT, DEFAULT_OUT, OscIn, OscOut
    from instrument.perform_summary import fixed_latency_note, latency_table, summary
    from instrument.runtime import Runtime

    if opts.fixed_latency_s is not None and opts.audio != "sounddevice":
        raise BadInput("--fixed-latency needs --audio sounddevice",
                       "the sounddevice voice plays each change at an exact sample; pyo's "
                       "voice takes changes once per block")
    if opts.replay and opts.osc_in is not None:
        raise BadInput("--replay and --osc-in cannot be used together",
                       "replay a file, or play live from OSC input, one at a time")
    osc_in_port = opts.osc_in
    if opts.headless and not opts.replay and osc_in_port is None:
        osc_in_port = DEFAULT_IN_PORT    # headless and live: the only input is OSC
    rec = None
    if opts.replay:
        from instrument.recording import read_recording

        rec = read_recording(opts.replay)
        if len(rec.t) == 0:
            raise BadInput(f"recording {opts.replay} has no pointer samples",
                           "record a gesture first (instrument record)")
    runtime = Runtime.from_bundle(opts.model)
    gesture_cfg = runtime.gesture_config

    # A pointer sample waits for the GIL at most this long while another thread (still clock,
    # screen) runs Python: 0.5 ms instead of CPython's 5 ms default.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    voices, osc_out, osc_in, clock, view = [], None, None, None, None
    stop = threading.Event()
    t_start = time.perf_counter()
    loop = replay_thread = controls = None
    try:
        controls = ControlsWriter(opts.controls, runtime.param_names) if opts.controls else None
        voices = open_voices(opts, runtime.table)
        if not opts.no_osc:
            osc_out = OscOut(opts.osc or [DEFAULT_OUT], runtime.table)
        if opts.headless:
            width, height = (rec.width, rec.height) if rec is not None else \
                (DEFAULT_WIDTH, DEFAULT_HEIGHT)
        else:
            from instrument.perform_view import LiveView

            view = LiveView(runtime, rec, fps=opts.fps)
            width, height = (rec.width, rec.height) if rec is not None else view.size
        loop = ControlLoop(runtime, GestureTracker(gesture_cfg, width, height), osc_out, voices,
                           on_frame=controls.write_frame if controls is not None else None,
                           fixed_latency=opts.fixed_latency_s)
        if opts.fixed_latency_s is not None:
            print_fn(fixed_latency_note(voices[0], opts.fixed_latency_s))
        # one clock for every source: the window's, when there is one
        t0 = time.perf_counter() - (view.window.now() if view is not None else 0.0)
        if osc_in_port is not None:
            scale_x, scale_y = (1.0, 1.0) if opts.osc_in_pixels else (width, height)
            osc_in = OscIn(osc_in_port, lambda t, x, y: loop.sample(
                t - t0, x * scale_x, y * scale_y, t), normalized=not opts.osc_in_pixels)
            osc_in.start()
            print_fn(f"Listening for /wek/inputs on UDP {osc_in.port} "
                     f"({'pixels' if opts.osc_in_pixels else 'x, y in 0..1'}).")
        if rec is None:
            clock = StillClock(loop, t0, 1.0 / gesture_cfg.rate_hz).start()
        if rec is not None:
            replay_thread = threading.Thread(
                target=lambda: (replay_recording(loop, rec, realtime=not opts.fast, stop=stop),
                                stop.set()), name="replay", daemon=True)
            replay_thread.start()
        deadline = None if opts.seconds is None else t_start + opts.seconds
        if view is not None:
            view.run(loop, stop, deadline, live_mouse=rec is None,
                     external_trail=rec is not None or osc_in is not None)
        else:
            while not stop.wait(0.05):
                if deadline is not None and time.perf_counter() >= deadline:
                    break
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        if replay_thread is not None:
            replay_thread.join(timeout=5.0)
        if clock is not None:
            clock.stop()
        if osc_in is not None:
            osc_in.stop()
        for voice in voices:
            voice.stop()
        if view is not None:
            view.close()
        if osc_out is not None:
            osc_out.close()
        if controls is not None:
            controls.close()
    elapsed = time.perf_counter() - t_start
    if loop is not None:
        print_fn(summary(loop, osc_out, osc_in, elapsed, voices))
        if opts.latency_report:
            block = opts.buffer / opts.rate if voices else None
            print_fn(latency_table(loop, block))
    return 0
