"""Offline render: a gesture file -> its control stream (CSV) -> audio (WAV), deterministic.

The control stream is made by the same two pieces live performance uses:
:func:`instrument.gesture.steps.frames_from_recording` (one frame per pointer sample, plus frames at
the gesture rate while the pointer is still: the one frame rule) and
:meth:`instrument.runtime.Runtime.frame` (the one per-frame step: window -> sound). So
``instrument perform`` replaying a file gives exactly the rows written here.

The audio: :func:`render_controls` plays a control stream with the smoothed voice, by either
engine (numpy: :class:`instrument.sound.smoothed_fm.SmoothedFM`, as live; pyo: the voice's graph from
:mod:`instrument.output.pyo_voice` on an offline server); a frame at time t takes effect at sample
``round(t * rate)``.

The control stream CSV itself (the contract) is :mod:`instrument.formats.controls`.
"""

from __future__ import annotations

import os

import numpy as np

from instrument.errors import BadInput
from instrument.formats.controls import write_controls_csv
from instrument.formats.wav import write_wav
from instrument.sound.fm import is_whole
from instrument.sound.params import PARAM_TABLE, ParamTable, alias_free
from instrument.sound.smoothed_fm import (
    DEFAULT_SMOOTHING_S,
    SmoothedFM,
    smoothing_coefficient,
    to_smoothing_space,
)

MAX_AUDIO_S = 2 * 3600.0  # the longest audio one render writes (long pauses count 10 s)
TAIL_S = 0.25  # audio kept after the last control frame, so the last sound is heard
ENGINES = ("numpy", "pyo")


def control_stream(runtime, recording) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every control frame of a recording, played through ``runtime`` from a fresh state.

    Args:
        runtime: An :class:`instrument.runtime.Runtime`.
        recording: A :class:`instrument.formats.recording.Recording`.

    Returns:
        (times float64[M], sounds int64[M], params float32[M, P] physical units).
    """
    from instrument.gesture.stream import check_fits, gesture_frames

    # A model takes the stream it was trained on: one line naming both widths otherwise.
    spec = getattr(runtime, "stream_spec", None)
    check_fits(spec, recording.channel_list(),
               f"model {getattr(runtime, 'model_path', '')}".strip(),
               recording.path or "the recording")
    times, windows = gesture_frames(recording, runtime.gesture_config, spec)
    sounds, params = runtime.play(windows)
    return times, sounds, params


def render(model, recording, out_wav: str | os.PathLike | None,
           controls_csv: str | os.PathLike | None = None, engine: str = "numpy",
           rate: int = 44100, smoothing_s: float | None = None,
           sampler_mode: str | None = None) -> dict:
    """Render a gesture recording with a trained model: control stream CSV and/or WAV.

    A model trained on an audio bank plays its slices with the sampler
    (:mod:`instrument.sound.sampler`; ``engine`` "pyo": :func:`render_slices_pyo`); one
    trained on a pyo synth file plays it on pyo's offline server (sound/user_synth.py).

    Args:
        model: A model bundle directory, or a loaded :class:`~instrument.runtime.Runtime`.
        recording: A gesture file path or a :class:`~instrument.formats.recording.Recording`.
        out_wav: WAV to write (16-bit mono), or None for the control stream only.
        controls_csv: Control stream CSV to write, or None.
        engine: "numpy" (the SmoothedFM voice) or "pyo" (pyo's offline server).
        rate: Audio sample rate.
        smoothing_s: Parameter smoothing time (default: the voices' default).
        sampler_mode: Audio-bank models: "start" (None: the default), "loop" or "grain"
            (sound/sampler.py); refused for other models.

    Returns:
        {"frames", "seconds", "sounds_used", "wav", "controls"} for a summary line.
    """
    from instrument.formats.recording import Recording, read_recording
    from instrument.runtime import Runtime

    if engine not in ENGINES:
        raise BadInput(f"unknown engine {engine!r}", f"use one of {', '.join(ENGINES)}")
    runtime = model if isinstance(model, Runtime) else Runtime.from_bundle(model)
    rec = recording if isinstance(recording, Recording) else read_recording(recording)
    kind = getattr(runtime, "sound_kind", "fm")
    if sampler_mode is not None and kind != "audio":
        raise BadInput(f"--sampler-mode plays an audio-bank model; this model plays {kind} "
                       "sounds", "leave out --sampler-mode")
    times, sounds, params = control_stream(runtime, rec)
    if len(times) == 0:
        raise BadInput(f"gesture file {rec.path or '(recording)'} has no pointer samples to render",
                       "record some gestures first")
    if controls_csv is not None:
        write_controls_csv(controls_csv, times, sounds, params, runtime.param_names)
    seconds = float(times[-1]) + TAIL_S
    if out_wav is not None and seconds > MAX_AUDIO_S:
        # checked before the audio is allocated (2 h at 44.1 kHz is 1.3 GB of float32)
        raise BadInput(f"gesture file {rec.path or '(recording)'} would render "
                       f"{seconds / 3600:.1f} hours of audio, more than the "
                       f"{MAX_AUDIO_S / 3600:g} hours one render writes",
                       "split the recording into shorter files")
    if out_wav is not None and kind == "audio":
        write_wav(os.fspath(out_wav), _render_sampler(runtime, times, sounds, seconds, rate,
                                                      engine, sampler_mode or "start"), rate)
    elif out_wav is not None and kind == "pd":  # the user's Pd patch, in pd -batch
        from instrument.sound.bank_kind import pd_synth_of
        from instrument.sound.pd_synth import render_pd_controls

        patch, table = pd_synth_of(runtime)
        write_wav(os.fspath(out_wav), render_pd_controls(patch, table, times, params, seconds,
                                                         rate), rate)
    elif out_wav is not None and kind == "pyo":  # the user's pyo synth: pyo only
        from instrument.sound.bank_kind import pyo_synth_of
        from instrument.sound.user_synth import render_synth_controls

        write_wav(os.fspath(out_wav), render_synth_controls(
            pyo_synth_of(runtime), times, params, seconds, rate,
            DEFAULT_SMOOTHING_S if smoothing_s is None else smoothing_s), rate)
    elif out_wav is not None:
        audio = render_controls(times, params, seconds, rate=rate, engine=engine,
                                table=runtime.table,
                                **({} if smoothing_s is None else {"smoothing_s": smoothing_s}))
        write_wav(os.fspath(out_wav), audio, rate)
    return {"frames": int(len(times)), "seconds": seconds,
            "sounds_used": int(len(np.unique(sounds))),
            "wav": None if out_wav is None else os.fspath(out_wav),
            "controls": None if controls_csv is None else os.fspath(controls_csv)}


# --- control stream -> audio ---------------------------------------------------------------

def _render_sampler(runtime, times, sounds, seconds, rate, engine, mode) -> np.ndarray:
    """An audio-bank model's control stream played by the sampler (numpy or pyo)."""
    from instrument.sound.bank_kind import slices_for_playback
    from instrument.sound.sampler import render_slices

    slices, _ = slices_for_playback(runtime, rate)
    if engine == "pyo":
        from instrument.output.pyo_sampler import render_slices_pyo

        return render_slices_pyo(times, sounds, slices, seconds, rate, mode)
    return render_slices(times, sounds, slices, seconds, rate, mode)


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
    if not is_whole(rate) or rate < 1000:
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
    first sound fades in over ``smoothing_s`` instead of gliding from a default pitch). Both
    engines cap every frame under the Nyquist of ``rate`` with the live voices' one rule
    (:func:`~instrument.sound.params.alias_free`).

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
    from instrument.output.pyo_offline import offline_server

    if n == 0:
        return np.zeros(0, dtype=np.float32)
    # pyo's graph plays whatever it is given: cap each frame with the rule SmoothedFM.set_target
    # and PyoVoice.set_params apply (else every frame whose FM band is wider than this rate's
    # Nyquist sounds different from the numpy engine). The silent start stays as given, as in
    # the numpy engine (SmoothedFM's initial values).
    values = alias_free(values, table, rate)
    # One control value per sample, read by a sample counter: a frame takes effect at exactly
    # its sample, as in the numpy engine.
    steps = np.repeat(np.arange(len(pos)), np.diff(np.append(pos, n)))
    per_sample = np.empty((n, len(table)))
    per_sample[:pos[0]] = start
    per_sample[pos[0]:] = values[steps]
    smooth = to_smoothing_space(per_sample, table)
    with offline_server(rate, n / rate) as (pyo, server):
        return _play_controls(pyo, server, smooth, to_smoothing_space(start, table), n, rate,
                              smoothing_s, table)


def _play_controls(pyo, server, smooth, start_smooth, n, rate, smoothing_s, table):
    # its own frame: every pyo object is gone when it returns, before the server shuts down
    from instrument.output.pyo_offline import table_audio
    from instrument.output.pyo_voice import pyo_fm_graph

    counter = pyo.Count(pyo.Trig(), min=0, max=0)
    tables, sources = [], []
    for i in range(len(table)):
        data = pyo.DataTable(size=n)
        np.asarray(data.getBuffer())[:] = smooth[:, i]
        tables.append(data)
        sources.append(pyo.TableIndex(data, counter))
    fm, keep = pyo_fm_graph(pyo, sources, smoothing_s, start_smooth, table)
    recorded = pyo.NewTable(length=n / rate, chnls=1)
    rec = pyo.TableRec(fm, table=recorded).play()
    server.start()
    audio = table_audio(recorded, n)
    del rec, keep, tables, sources, fm, counter
    return audio
