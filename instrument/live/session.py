"""A whole performance (``instrument perform``): input, loop, voices, OSC out, view, summary.

This is the one module that knows every part of a performance; the control loop
(:mod:`instrument.live.loop`) knows nothing of its view (:mod:`instrument.live.view`) or
summary (:mod:`instrument.live.summary`), which only read the loop.

Everything opened is registered on one :class:`contextlib.ExitStack` as soon as it is open,
so when a voice fails to stop, the window, the OSC sockets and the control stream are still
closed (in reverse order of opening), and the first error is the one reported.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from dataclasses import dataclass

from instrument.live.loop import (
    DEFAULT_HEIGHT,
    DEFAULT_WIDTH,
    SWITCH_INTERVAL_S,
    ControlLoop,
    StillClock,
    replay_recording,
)


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
    osc_in_host: str = "127.0.0.1"       # listen address; 0.0.0.0 opens it to the network
    osc_in_pixels: bool = False
    replay: str | None = None
    fast: bool = False                   # replay as fast as possible (soak tests)
    headless: bool = False
    latency_report: bool = False
    seconds: float | None = None
    controls: str | None = None          # write the control stream CSV played (render's format)
    fixed_latency_s: float | None = None  # sounddevice voice: constant input -> sound delay
    osc_bundles_s: float | None = None   # OSC out: each frame one bundle tagged input + this
    midi: dict | None = None             # open_midi_out(**midi): port/file/channel/ccs/...
    midi_in: str | None = None           # MIDI input port for a model trained on MIDI
    gamepad: int | None = None           # gamepad number (1 = first) for a gamepad model
    fps: float = 60.0
    sampler_mode: str | None = None      # audio-bank models: start | loop | grain (None: start)


def open_voices(opts: PerformOptions, table, runtime=None) -> list:
    """The audio voice asked for, started (a sampler voice for an audio-bank model: pyo's
    with --audio pyo, the numpy one in a sounddevice stream with --audio sounddevice).

    The voices check first (a child process asks PortAudio for an output device; the jack
    backend checks that jackd runs), so a machine without sound gets one AudioDeviceError
    line instead of pyo's segfault.
    """
    if opts.audio == "none":
        return []
    if getattr(runtime, "sound_kind", "fm") == "pd":
        # Pd makes the sound: OSC /instrument/params to the patch running in Pd (e.g.
        # examples/subtractive_live.pd), checked to be the patch the model learnt
        from instrument.sound.bank_kind import pd_synth_of

        pd_synth_of(runtime)
        return []
    from instrument.errors import AudioDeviceError

    if getattr(runtime, "sound_kind", "fm") == "audio" and opts.audio == "pyo":
        from instrument.output.pyo_sampler import open_pyo_sampler_voice

        voice = open_pyo_sampler_voice(runtime, opts.audio_backend, opts.rate, opts.buffer,
                                       opts.sampler_mode or "start")
    elif getattr(runtime, "sound_kind", "fm") == "audio":
        from instrument.output.sampler_voice import open_sampler_voice

        voice = open_sampler_voice(runtime, opts.rate, opts.buffer,
                                   opts.sampler_mode or "start")
    elif getattr(runtime, "sound_kind", "fm") == "pyo":  # the user's pyo synth file
        from instrument.output.pyo_voice import PyoVoice
        from instrument.sound.bank_kind import pyo_synth_of

        synth = pyo_synth_of(runtime)
        voice = PyoVoice(opts.audio_backend, opts.rate, opts.buffer, opts.smoothing_s,
                         table=synth.table, graph=synth.graph)
    elif opts.audio == "pyo":
        from instrument.output.pyo_voice import PyoVoice

        voice = PyoVoice(opts.audio_backend, opts.rate, opts.buffer, opts.smoothing_s,
                         table=table)
    else:
        from instrument.output.sounddevice_voice import SoundDeviceVoice

        voice = SoundDeviceVoice(opts.rate, opts.buffer, opts.smoothing_s, table=table)
    try:
        voice.start()
    except AudioDeviceError as err:
        from instrument.output.audio_advice import audio_advice
        from instrument.output.pyo_voice import jack_running

        # the voice said what failed; the fix names the perform flags that get round it
        audio = "pyo" if type(voice).__name__.startswith("Pyo") else "sounddevice"
        raise AudioDeviceError(err.problem, audio_advice(audio, opts.audio_backend,
                                                         jack_running())) from None
    return [voice]


def _check_options(opts: PerformOptions) -> None:
    from instrument.errors import BadInput

    if opts.fixed_latency_s is not None and opts.audio != "sounddevice":
        raise BadInput("--fixed-latency needs --audio sounddevice",
                       "the sounddevice voice plays each change at an exact sample; pyo's "
                       "voice takes changes once per block")
    if opts.gamepad is not None and not opts.headless:
        raise BadInput("--gamepad plays without a window (pygame's event queue is the "
                       "gamepad's)", "add --headless")
    if opts.replay and opts.osc_in is not None:
        raise BadInput("--replay and --osc-in cannot be used together",
                       "replay a file, or play live from OSC input, one at a time")
    if opts.controls and opts.replay and _same_file(opts.controls, opts.replay):
        raise BadInput(f"--controls {opts.controls} is the recording being replayed",
                       "write the control stream to another file")


def _same_file(a: str, b: str) -> bool:
    import os

    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def run_session(opts: PerformOptions, print_fn=print) -> int:
    """Run a performance until Esc, the end of the replay, --seconds, or Ctrl-C.

    Returns:
        0; errors the user can fix raise :class:`instrument.errors.InstrumentError`.
    """
    from instrument.errors import BadInput
    from instrument.formats.osc import DEFAULT_IN_PORT, DEFAULT_OUT
    from instrument.gesture.tracker import GestureTracker
    from instrument.live.summary import fixed_latency_note, latency_table, summary
    from instrument.output.osc import OscOut
    from instrument.runtime import Runtime

    _check_options(opts)
    osc_in_port = opts.osc_in
    controllers = opts.midi_in is not None or opts.gamepad is not None
    if opts.headless and not opts.replay and osc_in_port is None and not controllers:
        osc_in_port = DEFAULT_IN_PORT    # headless and live: the only input is OSC
    rec = None
    if opts.replay:
        from instrument.formats.recording import pause_note, read_recording

        rec = read_recording(opts.replay)
        if len(rec.t) == 0:
            raise BadInput(f"recording {opts.replay} has no pointer samples",
                           "record a gesture first (instrument record)")
        if pause_note(rec):
            print_fn(pause_note(rec))
    runtime = Runtime.from_bundle(opts.model)
    if opts.sampler_mode is not None and getattr(runtime, "sound_kind", "fm") != "audio":
        raise BadInput(f"--sampler-mode plays an audio-bank model; model {opts.model} plays "
                       f"{getattr(runtime, 'sound_kind', 'fm')} sounds",
                       "leave out --sampler-mode")
    gesture_cfg = runtime.gesture_config
    spec = runtime.stream_spec           # None: a pointer model; else N channels
    if rec is not None:
        from instrument.gesture.stream import check_fits

        check_fits(spec, rec.channel_list(), f"model {opts.model}", opts.replay)
    if spec is not None and not opts.replay and osc_in_port is None and not controllers:
        osc_in_port = DEFAULT_IN_PORT    # the mouse cannot play N channels: OSC can

    # A pointer sample waits for the GIL at most this long while another thread (still clock,
    # screen) runs Python: 0.5 ms instead of CPython's 5 ms default.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    voices: list = []
    osc_out = osc_in = loop = midi = None
    stop = threading.Event()
    t_start = time.perf_counter()
    try:
        with contextlib.ExitStack() as stack:
            stack.callback(stop.set)         # runs last: every thread is told to stop first
            controls = None
            if opts.controls:
                from instrument.formats.controls import ControlsWriter

                controls = stack.enter_context(ControlsWriter(opts.controls,
                                                              runtime.param_names))
            for voice in open_voices(opts, runtime.table, runtime):
                voices.append(voice)
                stack.callback(voice.stop)
            if not opts.no_osc:
                osc_out = stack.enter_context(OscOut(opts.osc or [DEFAULT_OUT], runtime.table,
                                                     bundle_latency=opts.osc_bundles_s))
                if getattr(runtime, "sound_kind", "fm") == "audio":
                    from instrument.output.sampler_voice import slice_messages

                    osc_out.slice_message = slice_messages(runtime)
            midi = None
            if opts.midi:
                from instrument.output.midi_out import open_midi_out

                midi = open_midi_out(runtime.table, rest_s=gesture_cfg.rest_after_s,
                                     **opts.midi)
                stack.callback(midi.close)
            view = None
            pointer_rec = rec if rec is not None and rec.is_pointer else None
            if opts.headless:
                width, height = (rec.width, rec.height) if pointer_rec is not None else \
                    (DEFAULT_WIDTH, DEFAULT_HEIGHT)
            else:
                from instrument.live.view import LiveView

                view = LiveView(runtime, pointer_rec, fps=opts.fps)
                stack.callback(view.close)
                width, height = (rec.width, rec.height) if pointer_rec is not None else view.size
            if spec is None:
                tracker = GestureTracker(gesture_cfg, width, height)
            else:
                from instrument.gesture.stream_tracker import StreamTracker

                tracker = StreamTracker(gesture_cfg, spec)
            loop = ControlLoop(runtime, tracker, osc_out,
                               voices,
                               on_frame=_frame_sinks(controls, midi, lambda: loop),
                               fixed_latency=opts.fixed_latency_s)
            if opts.fixed_latency_s is not None:
                print_fn(fixed_latency_note(voices[0], opts.fixed_latency_s))
            # one clock for every source: the window's, when there is one
            t0 = time.perf_counter() - (view.window.now() if view is not None else 0.0)
            if osc_in_port is not None:
                osc_in = _open_osc_in(opts, osc_in_port, loop, t0, width, height, print_fn,
                                      spec)
                stack.callback(osc_in.stop)
            poll = None
            if controllers:
                from instrument.live.stream_sources import open_controllers

                sources, poll = open_controllers(opts, spec, loop, t0, print_fn)
                for source in sources:
                    stack.callback(source.close)
            if rec is None:
                clock = StillClock(loop, t0, 1.0 / gesture_cfg.rate_hz).start()
                stack.callback(clock.stop)
            else:
                replay_thread = threading.Thread(
                    target=lambda: (replay_recording(loop, rec, realtime=not opts.fast,
                                                     stop=stop), stop.set()),
                    name="replay", daemon=True)
                replay_thread.start()
                stack.callback(replay_thread.join, 5.0)
                stack.callback(stop.set)
            deadline = None if opts.seconds is None else t_start + opts.seconds
            if view is not None:
                view.run(loop, stop, deadline, live_mouse=rec is None and spec is None,
                         external_trail=rec is not None or osc_in is not None)
            else:
                while not stop.wait(0.05 if poll is None else 0.002):
                    if poll is not None:
                        poll()              # the gamepad: pygame's queue, on this thread
                    if deadline is not None and time.perf_counter() >= deadline:
                        break
            stop.set()
    except KeyboardInterrupt:
        pass
    elapsed = time.perf_counter() - t_start
    if loop is not None:
        print_fn(summary(loop, osc_out, osc_in, elapsed, voices))
        if midi is not None:
            print_fn(midi.describe() + ".")
        if opts.latency_report:
            block = opts.buffer / opts.rate if voices else None
            print_fn(latency_table(loop, block))
    return 0


def _frame_sinks(controls, midi, get_loop):
    """The loop's ``on_frame``: the control stream CSV and/or MIDI out (None: neither)."""
    if midi is None:
        return controls.write_frame if controls is not None else None

    def on_frame(t, sound, physical):
        if controls is not None:
            controls.write_frame(t, sound, physical)
        # A frame is a moving one when a sample made it (called with the loop's lock held).
        midi.frame(t, None, physical, getattr(get_loop().tracker, "last_time", None) == t)

    return on_frame


def _open_osc_in(opts: PerformOptions, port: int, loop: ControlLoop, t0: float, width: float,
                 height: float, print_fn, spec=None):
    from instrument.gesture.osc_in import OscIn

    # A message's time may be ahead of its packet's arrival (a time-tagged bundle); the
    # latency meter measures from the arrival (osc_in.arrival, set before each delivery).
    if spec is not None:    # an N-channel model: /wek/inputs with exactly N numbers
        osc_in = OscIn(port, inputs=spec.width, host=opts.osc_in_host)
        osc_in.on_values = lambda t, values: loop.sample_stream(t - t0, values, osc_in.arrival)
        osc_in.start()
        print_fn(f"Listening for /wek/inputs on UDP {_where(osc_in)} "
                 f"({spec.width} values per message, as the model was trained).")
        return osc_in
    scale_x, scale_y = (1.0, 1.0) if opts.osc_in_pixels else (width, height)
    osc_in = OscIn(port, None, normalized=not opts.osc_in_pixels, host=opts.osc_in_host)
    osc_in.on_pointer = lambda t, x, y: loop.sample(t - t0, x * scale_x, y * scale_y,
                                                    osc_in.arrival)
    osc_in.start()
    print_fn(f"Listening for /wek/inputs on UDP {_where(osc_in)} "
             f"({'pixels' if opts.osc_in_pixels else 'x, y in 0..1'}).")
    return osc_in


def _where(osc_in) -> str:
    """HOST:PORT and who can reach it, said on start (the network only when asked)."""
    local = osc_in.host.startswith("127.") or osc_in.host in ("::1", "localhost")
    host = f"[{osc_in.host}]" if ":" in osc_in.host else osc_in.host
    return (f"{host}:{osc_in.port}, "
            + ("from this machine only" if local else "open to the network"))
