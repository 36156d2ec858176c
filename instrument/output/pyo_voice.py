"""The pyo voice and the audio device checks.

:class:`PyoVoice` plays synth parameters through pyo: ``Sig -> Port -> (Exp) -> FM``, every
parameter smoothed with pyo's ``Port`` one-pole (time constant ``smoothing_s``; log-scaled
parameters in log space), so it sounds like the numpy voice (:mod:`instrument.sound.smoothed_fm`,
played live by :mod:`instrument.output.sounddevice_voice`). It takes ``set_params`` from any thread.
One option picks the backend: "portaudio", "jack", "offline" or "manual".

pyo segfaults when it boots portaudio with no output device, so :func:`check_output_device`
asks first, in a child process; "jack" checks that a JACK server runs (:func:`jack_running`;
pyo would otherwise try to start one). :func:`pyo_fm_graph` is the smoothed FM graph, shared
with the offline render of a control stream (:func:`instrument.live.render.render_controls`).

Known difference from the numpy voice: pyo computes in float32 with 512-point sine tables, so
its phase slowly drifts from numpy's float64 (a 440 Hz tone at amplitude 0.5 differs by at
most 0.004 after 0.5 s); pyo's *server* also fades its output in over its first 5 ms (only in
files pyo writes itself).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading

import numpy as np

from instrument.errors import AudioDeviceError, BadInput
from instrument.formats.wav import read_wav, write_wav
from instrument.sound.fm import FM_PARAMS, is_whole
from instrument.sound.params import PARAM_TABLE, ParamTable, alias_free
from instrument.sound.smoothed_fm import (
    DEFAULT_SMOOTHING_S,
    log_scaled,
    smoothing_coefficient,
    to_smoothing_space,
)

BACKENDS = ("portaudio", "jack", "offline", "manual")

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


def import_pyo():
    from instrument.extras import optional_import

    os.environ.setdefault("PYO_GUI_WX", "0")
    return optional_import("pyo", "the pyo voice")  # heavy and optional at import time


def pyo_fm_graph(pyo, sources, smoothing_s: float, start_smooth: np.ndarray,
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


def check_backend(backend: str) -> None:
    """Before booting a pyo server: an output device for portaudio, a running JACK server for
    jack (AudioDeviceError otherwise, instead of pyo's segfault); pyo never starts jackd."""
    if backend == "portaudio":
        check_output_device("pyo")
    elif backend == "jack" and not jack_running():
        raise AudioDeviceError("the JACK server is not running",
                               "start jackd (e.g. 'jackd -d alsa', or 'jackd -d dummy' "
                               "to test) before using the jack backend")
    os.environ["JACK_NO_START_SERVER"] = "1"  # pyo would otherwise try to launch jackd itself


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
        graph: ``graph(pyo, sources, smoothing_s, start_smooth, table) -> (out, keep)``
            building the sound from the parameter signals (default: the FM graph).
    """

    def __init__(self, backend: str = "portaudio", rate: int = 44100, buffer: int = 256,
                 smoothing_s: float = DEFAULT_SMOOTHING_S, table: ParamTable = PARAM_TABLE,
                 initial=None, channels: int = 2, graph=None):
        if backend not in BACKENDS:
            raise BadInput(f"unknown audio backend {backend!r}", f"use one of {BACKENDS}")
        if not is_whole(rate) or rate < 1000:
            raise BadInput(f"sample rate must be a whole number >= 1000, got {rate!r}")
        if not is_whole(buffer) or not 1 <= buffer <= 8192:
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
        # sources -> sound: the FM graph, or a user synth's (sound/user_synth.PyoSynth.graph)
        self._graph = graph or pyo_fm_graph

    def start(self) -> "PyoVoice":
        """Boot the server and build the voice; realtime backends start playing.

        Raises:
            AudioDeviceError: no output device (portaudio), no JACK server (jack), or the
                server failed to boot.
        """
        if self.server is not None:
            return self
        check_backend(self.backend)
        pyo = import_pyo()
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
        self.output, self._keep = self._graph(pyo, self._sigs, self.smoothing_s, smooth,
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
        values = alias_free(values, self.table, self.rate)  # the same rule as the numpy voice
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
        import tempfile

        # pyo writes its own file: into a temporary one next to ``path``, so ``path`` only
        # ever holds the finished, cut WAV (written atomically by write_wav).
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        fd, raw = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".pyo.wav",
                                   dir=directory)
        os.close(fd)
        try:
            self.server.recordOptions(dur=float(seconds), filename=raw, fileformat=0,
                                      sampletype=0)
            self.server.start()  # blocks until the file is written
            # pyo renders whole buffers: cut the file to exactly round(seconds * rate) samples
            audio, _ = read_wav(raw)
            write_wav(path, audio[:int(round(seconds * self.rate))], self.rate)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(raw)

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
