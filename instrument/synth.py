"""The voices that play synth parameters: pyo (any backend) and sounddevice + numpy FM.

Both voices smooth every parameter with pyo's ``Port`` one-pole (time constant
``smoothing_s``; log-scaled parameters in log space) and play pyo's FM definition, so they
sound the same (see :mod:`instrument.fm` and :mod:`instrument.smoothed_fm`). Both take
``set_params`` from any thread.

* :class:`PyoVoice`: ``Sig -> Port -> (Exp) -> FM``. One option picks the backend:
  "portaudio", "jack", "offline" or "manual". pyo segfaults when it boots portaudio with no
  output device, so :func:`check_output_device` asks first, in a child process; "jack" checks
  that a JACK server runs (pyo would otherwise try to start one).
* :class:`SoundDeviceVoice`: a :class:`instrument.smoothed_fm.SmoothedFM` inside a sounddevice
  stream callback (no allocation in the callback). ``set_params(physical, at=t)`` plays a change at
  the output sample heard at ``time.perf_counter()`` time ``t`` (:class:`StreamClock` maps
  the two clocks), so a fixed delay gives a constant latency instead of 0..1 block of jitter.
* :func:`render_controls`: the offline render of a control stream with the same smoothed
  voice, by either engine; a frame at time t takes effect at sample round(t * rate).

Known difference between the engines: pyo computes in float32 with 512-point sine tables, so
its phase slowly drifts from numpy's float64 (a 440 Hz tone at amplitude 0.5 differs by at
most 0.004 after 0.5 s); pyo's *server* also fades its output in over its first 5 ms (only in
files pyo writes itself).
"""

from __future__ import annotations

import contextlib
import json
import numbers
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave

import numpy as np

from instrument.errors import AudioDeviceError, BadInput, DataFileError
from instrument.fm import FM_PARAMS
from instrument.smoothed_fm import ChangeRing, SmoothedFM, log_scaled, \
    smoothing_coefficient, to_smoothing_space
from instrument.params import PARAM_TABLE, ParamTable

BACKENDS = ("portaudio", "jack", "offline", "manual")
ENGINES = ("numpy", "pyo")
DEFAULT_SMOOTHING_S = 0.01

_PYO_QUERY = """
import json, os
os.environ.setdefault("PYO_GUI_WX", "0")
import pyo
names, indexes = pyo.pa_get_output_devices()
print(json.dumps({"names": list(names), "default": int(pyo.pa_get_default_output())}))
"""
_SD_QUERY = """
import json, sounddevice as sd
names = [d["name"] for d in sd.query_devices() if d["max_output_channels"] > 0]
try:
    default = int(sd.default.device[1])
except Exception:
    default = -1
print(json.dumps({"names": names, "default": default}))
"""


def _is_whole(value) -> bool:
    """An integer (Python or numpy), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_output_device(library: str = "pyo", timeout: float = 20.0) -> dict:
    """Check that an audio output device exists, without risking this process.

    The query runs in a child process: opening PortAudio on a machine without sound can crash
    (pyo's portaudio server segfaults when it boots with no device).

    Args:
        library: Whose PortAudio to ask, "pyo" or "sounddevice" (they may differ).
        timeout: Seconds before giving up.

    Returns:
        ``{"names": [output device names], "default": default output index or -1}``.

    Raises:
        AudioDeviceError: no output device, or the query crashed or hung.
    """
    if library not in ("pyo", "sounddevice"):
        raise BadInput(f"library must be 'pyo' or 'sounddevice', got {library!r}")
    code = _PYO_QUERY if library == "pyo" else _SD_QUERY
    env = dict(os.environ, PYO_GUI_WX="0", JACK_NO_START_SERVER="1")
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise AudioDeviceError(f"asking {library} for audio devices hung for {timeout:g} s",
                               "check the sound system, or render offline") from None
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        why = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
        raise AudioDeviceError(f"asking {library} for audio devices failed ({why})",
                               "check the sound system, or use an offline render")
    info = json.loads(lines[-1])
    if not info["names"]:
        raise AudioDeviceError(f"no audio output device found ({library} sees none)",
                               "connect a sound card, or start jackd and use the jack "
                               "backend, or render offline")
    return info


def jack_running(timeout: float = 5.0) -> bool:
    """True when a JACK server is running (never starts one)."""
    env = dict(os.environ, JACK_NO_START_SERVER="1")
    if shutil.which("jack_wait"):
        try:
            proc = subprocess.run(["jack_wait", "-c"], capture_output=True, text=True,
                                  timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return False
        return proc.stdout.strip() == "running"
    code = ("import sounddevice as sd\n"
            "print(any('JACK' in a['name'] for a in sd.query_hostapis()))")
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return False
    return proc.stdout.strip().endswith("True")


def _import_pyo():
    os.environ.setdefault("PYO_GUI_WX", "0")
    import pyo  # noqa: PLC0415 - heavy and optional at import time

    return pyo


def _pyo_fm_graph(pyo, sources, smoothing_s: float, start_smooth: np.ndarray,
                  table: ParamTable):
    """Sources (smoothing space, table order) -> Port -> Exp for log params -> FM.

    Returns (fm, objects to keep alive).
    """
    logs = log_scaled(table)
    keep, smoothed = [], {}
    for name in FM_PARAMS:
        i = table.index_of(name)
        port = pyo.Port(sources[i], risetime=smoothing_s, falltime=smoothing_s,
                        init=float(start_smooth[i]))
        keep.append(port)
        value = pyo.Exp(port) if logs[i] else port
        keep.append(value)
        smoothed[name] = value
    fm = pyo.FM(carrier=smoothed["carrier_hz"], ratio=smoothed["ratio"],
                index=smoothed["index"], mul=smoothed["amplitude"])
    return fm, keep


class PyoVoice:
    """The pyo FM voice with smoothed parameters.

    Args:
        backend: "portaudio", "jack", "offline" or "manual" (see module docstring).
        rate: Sample rate.
        buffer: Server buffer size in samples.
        smoothing_s: Smoothing time constant of every parameter, in seconds.
        table: Parameter table.
        initial: Physical start values (default: table start values, amplitude 0).
        channels: Output channels (the mono voice is copied to each).
    """

    def __init__(self, backend: str = "portaudio", rate: int = 44100, buffer: int = 256,
                 smoothing_s: float = DEFAULT_SMOOTHING_S, table: ParamTable = PARAM_TABLE,
                 initial=None, channels: int = 2):
        if backend not in BACKENDS:
            raise BadInput(f"unknown audio backend {backend!r}", f"use one of {BACKENDS}")
        if not _is_whole(rate) or rate < 1000:
            raise BadInput(f"sample rate must be a whole number >= 1000, got {rate!r}")
        if not _is_whole(buffer) or not 1 <= buffer <= 8192:
            raise BadInput(f"buffer size must be 1..8192 samples, got {buffer!r}")
        smoothing_coefficient(smoothing_s, rate)  # validates
        self.backend, self.rate, self.buffer = backend, int(rate), int(buffer)
        self.smoothing_s, self.table, self.channels = float(smoothing_s), table, int(channels)
        start = table.start_values if initial is None else \
            table.validate_physical(initial, "PyoVoice start values")
        self._target = start.copy()
        self._muted = False
        self._lock = threading.Lock()
        self.server = None
        self._sigs = []
        self._keep = []
        self.output = None

    def start(self) -> "PyoVoice":
        """Boot the server and build the voice; realtime backends start playing.

        Raises:
            AudioDeviceError: no output device (portaudio), no JACK server (jack), or the
                server failed to boot.
        """
        if self.server is not None:
            return self
        if self.backend == "portaudio":
            check_output_device("pyo")
        elif self.backend == "jack" and not jack_running():
            raise AudioDeviceError("the JACK server is not running",
                                   "start jackd (e.g. 'jackd -d alsa', or 'jackd -d dummy' "
                                   "to test) before using the jack backend")
        # pyo would otherwise try to launch jackd itself
        os.environ["JACK_NO_START_SERVER"] = "1"
        pyo = _import_pyo()
        realtime = self.backend in ("portaudio", "jack")
        server = pyo.Server(sr=self.rate, nchnls=self.channels if realtime else 1,
                            buffersize=self.buffer, duplex=0, audio=self.backend,
                            jackname="instrument")
        server.deactivateMidi()
        server.setVerbosity(1)
        server.boot()
        if not server.getIsBooted():
            with contextlib.suppress(Exception):  # free pyo's one server slot for a retry
                server.shutdown()
            raise AudioDeviceError(f"pyo's {self.backend} server did not boot",
                                   "check the audio device, or use another backend")
        self.server = server
        smooth = to_smoothing_space(self._effective_target(), self.table)
        self._sigs = [pyo.Sig(float(v)) for v in smooth]
        self.output, self._keep = _pyo_fm_graph(pyo, self._sigs, self.smoothing_s, smooth,
                                                self.table)
        if realtime:
            self._keep.append(pyo.Mix(self.output, voices=self.channels).out())
            server.start()
        elif self.backend == "manual":
            self.output.out()
            server.start()
        else:
            self.output.out()
        return self

    def _effective_target(self) -> np.ndarray:
        target = self._target.copy()
        if self._muted:
            target[self.table.index_of("amplitude")] = 0.0
        return target

    def _push(self) -> None:
        if not self._sigs:
            return
        smooth = to_smoothing_space(self._effective_target(), self.table)
        for sig, value in zip(self._sigs, smooth):
            sig.value = float(value)

    def set_params(self, physical) -> None:
        """New target physical values (table order); safe from any thread."""
        values = self.table.validate_physical(physical, "synth parameters")
        if values.shape != (len(self.table),):
            raise BadInput(f"set_params needs {len(self.table)} values, got {values.shape}")
        with self._lock:
            self._target = values
            self._push()

    def mute(self, muted: bool = True) -> None:
        """Glide to silence (or back to the target amplitude) without a click."""
        with self._lock:
            self._muted = bool(muted)
            self._push()

    def process(self, blocks: int = 1) -> None:
        """Compute ``blocks`` buffers (backend "manual" only)."""
        if self.backend != "manual" or self.server is None:
            raise BadInput("process() needs a started voice with the manual backend")
        for _ in range(blocks):
            with self._lock:
                self.server.process()

    def render_to_file(self, path: str, seconds: float) -> None:
        """Render ``seconds`` into a 16-bit WAV with pyo's own recorder (backend "offline").

        pyo's server fades its output in over its first 5 ms. pyo renders whole buffers; the
        file is then cut to exactly ``round(seconds * rate)`` samples.
        """
        if self.backend != "offline" or self.server is None:
            raise BadInput("render_to_file() needs a started voice with the offline backend")
        self.server.recordOptions(dur=float(seconds), filename=os.path.abspath(path),
                                  fileformat=0, sampletype=0)
        self.server.start()  # blocks until the file is written
        # pyo renders whole buffers: cut the file to exactly round(seconds * rate) samples
        audio, _ = read_wav(path)
        write_wav(path, audio[:int(round(seconds * self.rate))], self.rate)

    def stop(self) -> None:
        """Stop and shut the server down (a new voice may then be started)."""
        server, self.server = self.server, None
        if server is None:
            return
        try:
            if self.backend != "offline":
                server.stop()
        finally:
            self._sigs, self._keep, self.output = [], [], None
            server.shutdown()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class StreamClock:
    """Maps ``time.perf_counter()`` times to sample positions of an output stream.

    Once per callback it measures ``origin``: the perf_counter time at which stream sample 0
    would reach the output (DAC), from the callback's ``time_info``::

        offset   = perf_counter() - stream time   (read back to back: stream.time between two
                   perf_counter() calls; time_info.currentTime when no stream is given)
        dac      = time_info.outputBufferDacTime + offset   # when this block's sample 0 plays
        measured = dac - block_start_sample / rate

    so a time ``t`` is stream sample ``block_start + round((t - dac) * rate)``. Callback
    wake-ups are late by a varying amount (tens of microseconds, a few milliseconds now and
    then on a busy machine), which makes ``measured`` too late, never too early. The estimate
    therefore follows the smallest recent measurement: a lower one is taken at once, a higher
    one pulls it up by ``leak`` per callback (clock drift, ~1 s time constant), and
    ``reanchor_after`` callbacks in a row more than half a block higher (the stream skipped
    ahead: an xrun) re-anchor it to the lowest of those.
    """

    def __init__(self, rate: int, blocksize: int, clock=time.perf_counter, leak: float = 0.01,
                 reanchor_after: int = 8):
        self.rate, self.clock, self.leak = float(rate), clock, float(leak)
        self.jump = 0.5 * blocksize / rate
        self.reanchor_after = int(reanchor_after)
        self.origin = None            # perf_counter time of stream sample 0 at the output
        self.dac_delay = None         # last outputBufferDacTime - currentTime, seconds
        self._high, self._high_min = 0, 0.0

    def reset(self) -> None:
        """Forget the estimate (a new stream)."""
        self.origin, self.dac_delay, self._high = None, None, 0

    def block_start(self, time_info, start_sample: int, stream=None,
                    reanchor: bool = False) -> float:
        """Update the estimate; return the perf_counter time when ``start_sample`` plays.

        Without ``time_info`` (a callback driven by hand) the block is taken to play now.
        """
        if time_info is None:
            return self.clock()
        now_stream = time_info.currentTime
        dac_stream = time_info.outputBufferDacTime or now_stream
        offset = None
        if stream is not None:
            try:
                before = self.clock()
                stream_now = stream.time
                offset = 0.5 * (before + self.clock()) - stream_now
            except Exception:  # noqa: BLE001 - a host API without stream time: use time_info
                offset = None
        if offset is None:
            offset = self.clock() - now_stream
        self.dac_delay = dac_stream - now_stream
        measured = dac_stream + offset - start_sample / self.rate
        est = self.origin
        if est is None or reanchor or measured <= est:
            est, self._high = measured, 0
        elif measured - est > self.jump:
            self._high_min = measured if self._high == 0 else min(self._high_min, measured)
            self._high += 1
            if self._high >= self.reanchor_after:
                est, self._high = self._high_min, 0
        else:
            est += (measured - est) * self.leak
            self._high = 0
        self.origin = est
        return est + start_sample / self.rate


class SoundDeviceVoice:
    """The numpy voice: :class:`SmoothedFM` rendered in a sounddevice output stream.

    Args:
        rate: Sample rate.
        blocksize: Frames per callback.
        smoothing_s: Smoothing time constant, seconds.
        table: Parameter table.
        initial: Physical start values (default: table start values, amplitude 0).
        device: sounddevice output device (None = default).
        channels: Output channels (the mono voice is copied to each).
        latency: sounddevice latency ("low", "high" or seconds).
        schedule_capacity: Most timed changes (``set_params(..., at=t)``) waiting at once;
            when full, the earliest-due one is dropped (counted in :attr:`dropped_changes`).
        clock: The clock ``at`` times are read on (``time.perf_counter``; tests pass a fake).

    Timed changes (constant latency): ``set_params(p, at=t)`` makes ``p`` the target at the
    output sample heard at perf_counter time ``t`` (see :class:`StreamClock` for the mapping).
    Call it with ``t = arrival + delay`` for a fixed ``delay``; every change is then heard
    exactly ``delay`` after it arrived (to a sample plus the clock estimate's error), provided
    ``delay >= on_time_delay`` (the callback that renders ``t`` runs up to one block plus the
    output latency before ``t``). A change that arrives too late for its sample plays at the
    start of the next block and counts in :attr:`late_changes`.
    """

    def __init__(self, rate: int = 44100, blocksize: int = 256,
                 smoothing_s: float = DEFAULT_SMOOTHING_S, table: ParamTable = PARAM_TABLE,
                 initial=None, device=None, channels: int = 1, latency="low",
                 schedule_capacity: int = 64, clock=time.perf_counter):
        if not _is_whole(blocksize) or not 16 <= blocksize <= 8192:
            raise BadInput(f"block size must be 16..8192 frames, got {blocksize!r}")
        if not _is_whole(rate) or rate < 1000:
            raise BadInput(f"sample rate must be a whole number >= 1000, got {rate!r}")
        self.rate, self.blocksize = int(rate), int(blocksize)
        self.channels = int(channels)
        self.device, self.latency = device, latency
        self.voice = SmoothedFM(rate, smoothing_s, table, max_block=max(blocksize, 4096),
                                initial=initial, schedule_capacity=schedule_capacity)
        self.clock = StreamClock(self.rate, self.blocksize, clock)
        self._timed = ChangeRing(schedule_capacity, len(table))   # (perf_counter time, values)
        self._due = np.zeros(self._timed.capacity)
        self._due_values = np.zeros((self._timed.capacity, len(table)))
        self.stream = None
        self._clock_stream = None     # the stream whose .time the callback reads (set early)
        self.callbacks = 0
        self.underflows = 0

    @property
    def block_seconds(self) -> float:
        """One callback block, in seconds (blocksize / rate)."""
        return self.blocksize / self.rate

    @property
    def output_latency(self) -> float | None:
        """The output latency PortAudio reports for the open stream, seconds (None: closed)."""
        stream = self.stream
        return None if stream is None else float(stream.latency)

    @property
    def dac_delay(self) -> float | None:
        """Measured time from a callback to its first sample at the output (last callback's
        ``outputBufferDacTime - currentTime``), seconds; None before the first callback."""
        return self.clock.dac_delay

    @property
    def on_time_delay(self) -> float | None:
        """The smallest ``at - arrival`` that is always on time: one block plus the measured
        (else reported) output latency; add a margin for scheduling jitter. None: unknown."""
        latency = self.dac_delay if self.dac_delay is not None else self.output_latency
        return None if latency is None else self.block_seconds + latency

    @property
    def late_changes(self) -> int:
        """Timed changes that played after their time (they arrived too late for it)."""
        return self.voice.late

    @property
    def dropped_changes(self) -> int:
        """Timed changes dropped because too many were waiting."""
        return self._timed.dropped + self.voice.dropped

    def callback(self, outdata: np.ndarray, frames: int, time_info, status) -> None:
        """The stream callback: fills ``outdata`` (float32[frames, channels]); no allocation.

        Maps the timed changes due in this block to their samples (:class:`StreamClock`) and
        hands them to the voice, which applies each at its sample.
        """
        underflow = bool(status and status.output_underflow)
        if underflow:
            self.underflows += 1
        start = self.voice.samples_rendered
        dac = self.clock.block_start(time_info, start, self._clock_stream, underflow)
        if self._timed.count:
            n = self._timed.pop_until(dac + frames / self.rate, self._due, self._due_values)
            for j in range(n):
                # below `start` = late: the voice applies it at sample 0 and counts it
                sample = start + round((self._due[j] - dac) * self.rate)
                self.voice.schedule_prepared(sample, self._due_values[j])
        self.voice.render(outdata[:, 0])
        if self.channels > 1:
            outdata[:, 1:] = outdata[:, :1]
        self.callbacks += 1

    def start(self) -> "SoundDeviceVoice":
        """Open and start the output stream.

        Raises:
            AudioDeviceError: no output device, or PortAudio refused the stream.
        """
        if self.stream is not None:
            return self
        import sounddevice as sd  # noqa: PLC0415

        try:
            # PortAudio lists host APIs (e.g. a JACK server started after import) only when it
            # initialises: refresh so a server started after this process is seen.
            with quiet_stderr():  # ALSA prints a page of probe errors on hosts without it
                sd._terminate()
                sd._initialize()
            stream = sd.OutputStream(samplerate=self.rate, blocksize=self.blocksize,
                                     channels=self.channels, dtype="float32",
                                     callback=self.callback, device=self.device,
                                     latency=self.latency)
            self.clock.reset()
            self._clock_stream = stream   # the first callbacks run before start() returns
            stream.start()
        except (sd.PortAudioError, ValueError) as err:
            raise AudioDeviceError(f"cannot open an audio output stream: "
                                   f"{str(err).splitlines()[0]}",
                                   "check the audio device (start jackd?) or render offline") \
                from None
        self.stream = stream
        return self

    def set_params(self, physical, at: float | None = None) -> None:
        """New target physical values (table order); safe from any thread.

        Args:
            physical: float[P] physical values.
            at: None: the target applies at the start of the next block (as soon as
                possible). A ``time.perf_counter()`` value: the target applies at the stream
                sample heard at that time (late -> next block, counted in late_changes).
                Before the stream's first callback, a timed change waits for it.
        """
        if at is None:
            self.voice.set_target(physical)
            return
        if isinstance(at, bool) or not isinstance(at, numbers.Real) or not np.isfinite(at):
            raise BadInput(f"set_params at= must be a time.perf_counter() value, got {at!r}")
        self._timed.push(float(at), self.voice.prepare_target(physical, "set_params"))

    def mute(self, muted: bool = True) -> None:
        """Glide to silence (or back) without a click."""
        self.voice.mute(muted)

    def stop(self) -> None:
        """Stop and close the stream."""
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.stop()
            stream.close()
        self._clock_stream = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@contextlib.contextmanager
def quiet_stderr():
    """Silence C libraries writing to file descriptor 2 (PortAudio's ALSA probing)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# --- offline render of a control stream ------------------------------------------------------

def _control_positions(frame_times, params, seconds, rate, table):
    times = np.asarray(frame_times, dtype=np.float64)
    if times.ndim != 1 or len(times) == 0:
        raise BadInput(f"frame_times must be a non-empty 1-D array, got shape {times.shape}")
    if not np.isfinite(times).all() or np.any(np.diff(times) < 0) or times[0] < 0:
        raise BadInput("frame_times must be finite, >= 0 and non-decreasing")
    values = table.validate_physical(params, "control stream parameters")
    if values.shape != (len(times), len(table)):
        raise BadInput(f"params_physical must be [{len(times)}, {len(table)}], "
                       f"got {values.shape}")
    if not (isinstance(seconds, (int, float)) and np.isfinite(seconds) and seconds > 0):
        raise BadInput(f"seconds must be > 0, got {seconds!r}")
    if not _is_whole(rate) or rate < 1000:
        raise BadInput(f"sample rate must be a whole number >= 1000, got {rate!r}")
    n = int(round(seconds * rate))
    pos = np.clip(np.round(times * rate).astype(np.int64), 0, n)
    # Several frames on one sample: the last one wins.
    keep = np.append(pos[1:] != pos[:-1], True)
    return n, pos[keep], values[keep]


def render_controls(frame_times, params_physical, seconds: float, rate: int = 44100,
                    smoothing_s: float = DEFAULT_SMOOTHING_S, engine: str = "numpy",
                    table: ParamTable = PARAM_TABLE) -> np.ndarray:
    """Render a control stream offline with the smoothed voice.

    Before the first frame the voice is silent, resting on the first frame's values (so the
    first sound fades in over ``smoothing_s`` instead of gliding from a default pitch).

    Args:
        frame_times: float[N] frame times in seconds (non-decreasing).
        params_physical: float[N, P] physical parameters per frame, table order.
        seconds: Length of the render.
        rate: Sample rate.
        smoothing_s: Smoothing time constant, seconds.
        engine: "numpy" (:class:`SmoothedFM`) or "pyo" (:class:`PyoVoice`'s graph, offline).
        table: Parameter table.

    Returns:
        float32[round(seconds * rate)] audio.
    """
    if engine not in ENGINES:
        raise BadInput(f"unknown engine {engine!r}", f"use one of {ENGINES}")
    n, pos, values = _control_positions(frame_times, params_physical, seconds, rate, table)
    smoothing_coefficient(smoothing_s, rate)
    start = values[0].copy()
    start[table.index_of("amplitude")] = 0.0
    if engine == "numpy":
        return _render_controls_numpy(n, pos, values, start, rate, smoothing_s, table)
    return _render_controls_pyo(n, pos, values, start, rate, smoothing_s, table)


def _render_controls_numpy(n, pos, values, start, rate, smoothing_s, table):
    voice = SmoothedFM(rate, smoothing_s, table, initial=start)
    out = np.zeros(n, dtype=np.float32)
    voice.render(out[:pos[0]])
    bounds = np.append(pos, n)
    for i in range(len(pos)):
        voice.set_target(values[i])
        voice.render(out[bounds[i]:bounds[i + 1]])
    return out


def _render_controls_pyo(n, pos, values, start, rate, smoothing_s, table):
    pyo = _import_pyo()
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    # One control value per sample, read by a sample counter: a frame takes effect at exactly
    # its sample, as in the numpy engine.
    steps = np.repeat(np.arange(len(pos)), np.diff(np.append(pos, n)))
    per_sample = np.empty((n, len(table)))
    per_sample[:pos[0]] = start
    per_sample[pos[0]:] = values[steps]
    smooth = to_smoothing_space(per_sample, table)
    server = pyo.Server(sr=rate, nchnls=1, buffersize=64, duplex=0, audio="offline")
    server.deactivateMidi()
    server.setVerbosity(1)
    server.boot()
    scratch = tempfile.TemporaryDirectory(prefix="instrument-pyo-")
    try:
        # The offline server must write a file; we read the voice itself through TableRec
        # (exact samples, without the server's 5 ms start fade).
        server.recordOptions(dur=n / rate, filename=os.path.join(scratch.name, "out.wav"),
                             fileformat=0, sampletype=0)
        counter = pyo.Count(pyo.Trig(), min=0, max=0)
        tables, sources = [], []
        for i in range(len(table)):
            data = pyo.DataTable(size=n)
            np.asarray(data.getBuffer())[:] = smooth[:, i]
            tables.append(data)
            sources.append(pyo.TableIndex(data, counter))
        fm, keep = _pyo_fm_graph(pyo, sources, smoothing_s,
                                 to_smoothing_space(start, table), table)
        recorded = pyo.NewTable(length=n / rate, chnls=1)
        rec = pyo.TableRec(fm, table=recorded).play()
        server.start()
        audio = np.asarray(recorded.getBuffer(), dtype=np.float32).copy()
        del rec, keep, tables, sources, fm, counter
    finally:
        server.shutdown()
        scratch.cleanup()
    out = np.zeros(n, dtype=np.float32)
    out[:min(n, len(audio))] = audio[:n]
    return out


# --- WAV files --------------------------------------------------------------------------------

def write_wav(path: str, audio, rate: int) -> None:
    """Write mono audio (float, -1..1; clipped) as a 16-bit PCM WAV."""
    samples = np.asarray(audio, dtype=np.float64)
    if samples.ndim != 1:
        raise BadInput(f"write_wav needs mono 1-D audio, got shape {samples.shape}")
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    try:
        with wave.open(path, "wb") as fh:
            fh.setnchannels(1)
            fh.setsampwidth(2)
            fh.setframerate(int(rate))
            fh.writeframes(pcm.tobytes())
    except OSError as err:
        raise DataFileError(f"cannot write {path}: {err.strerror or err}") from None


def read_wav(path: str) -> tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV -> (float32 audio of the first channel, rate)."""
    try:
        with wave.open(path, "rb") as fh:
            if fh.getsampwidth() != 2:
                raise DataFileError(f"{path}: only 16-bit PCM WAV is supported")
            rate, channels = fh.getframerate(), fh.getnchannels()
            data = np.frombuffer(fh.readframes(fh.getnframes()), dtype="<i2")
    except (OSError, EOFError, wave.Error) as err:
        raise DataFileError(f"cannot read WAV {path}: {err}") from None
    return (data.reshape(-1, channels)[:, 0] / 32767.0).astype(np.float32), rate
