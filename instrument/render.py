"""Offline render: a gesture file -> its control stream (CSV) -> audio (WAV), deterministic.

The control stream is made by the same two pieces live performance uses:
:func:`instrument.gestures.frames_from_recording` (one frame per pointer sample, plus frames at
the gesture rate while the pointer is still: the one frame rule) and
:meth:`instrument.runtime.Runtime.frame` (the one per-frame step: window -> sound). So
``instrument perform`` replaying a file gives exactly the rows written here.

Control stream CSV (contract, see DESIGN.md): header ``t,sound,<param names...>``; ``t`` in
seconds of the gesture file, ``sound`` the bank index, then each parameter in physical units in
table order. Numbers are written with a fixed format (t: 6 decimals, the file's resolution;
parameters: 9 significant digits, exact for float32), so equal streams give equal bytes.
"""

from __future__ import annotations

import os

import numpy as np

from instrument.errors import BadInput, DataFileError

TAIL_S = 0.25  # audio kept after the last control frame, so the last sound is heard


def control_stream(runtime, recording) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every control frame of a recording, played through ``runtime`` from a fresh state.

    Args:
        runtime: An :class:`instrument.runtime.Runtime`.
        recording: A :class:`instrument.recording.Recording`.

    Returns:
        (times float64[M], sounds int64[M], params float32[M, P] physical units).
    """
    from instrument.gestures import frames_from_recording

    times, windows = frames_from_recording(recording, runtime.gesture_config)
    sounds, params = runtime.play(windows)
    return times, sounds, params


def format_row(t: float, sound: int, params) -> str:
    """One CSV line (no newline) in the contract's fixed number format."""
    return ",".join([f"{float(t):.6f}", str(int(sound))]
                    + [f"{float(v):.9g}" for v in np.asarray(params, np.float32)])


def write_controls_csv(path: str | os.PathLike, times, sounds, params, names) -> None:
    """Write a control stream CSV (header ``t,sound,<names>``, one row per frame)."""
    path = os.fspath(path)
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(",".join(["t", "sound", *names]) + "\n")
            for t, sound, row in zip(times, sounds, params):
                handle.write(format_row(t, sound, row) + "\n")
    except OSError as err:
        raise DataFileError(f"cannot write control stream {path}: {err.strerror or err}",
                            "check that the directory exists and is writable") from None


def read_controls_csv(path: str | os.PathLike) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Read a control stream CSV -> (param names, times, sounds, params)."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as handle:
            header = handle.readline().strip().split(",")
            rows = [line.strip().split(",") for line in handle if line.strip()]
    except OSError as err:
        raise DataFileError(f"cannot read control stream {path}: {err.strerror or err}") from None
    if header[:2] != ["t", "sound"]:
        raise DataFileError(f"{path} is not a control stream (header must start with t,sound)")
    try:
        data = np.array(rows, dtype=np.float64).reshape(len(rows), len(header))
    except ValueError:
        raise DataFileError(f"{path}: rows are not {len(header)} numbers each") from None
    return header[2:], data[:, 0], data[:, 1].astype(np.int64), data[:, 2:]


def render(model, recording, out_wav: str | os.PathLike | None,
           controls_csv: str | os.PathLike | None = None, engine: str = "numpy",
           rate: int = 44100, smoothing_s: float | None = None) -> dict:
    """Render a gesture recording with a trained model: control stream CSV and/or WAV.

    Args:
        model: A model bundle directory, or a loaded :class:`~instrument.runtime.Runtime`.
        recording: A gesture file path or a :class:`~instrument.recording.Recording`.
        out_wav: WAV to write (16-bit mono), or None for the control stream only.
        controls_csv: Control stream CSV to write, or None.
        engine: "numpy" (the SmoothedFM voice) or "pyo" (pyo's offline server).
        rate: Audio sample rate.
        smoothing_s: Parameter smoothing time (default: the voices' default).

    Returns:
        {"frames", "seconds", "sounds_used", "wav", "controls"} for a summary line.
    """
    from instrument import synth
    from instrument.recording import Recording, read_recording
    from instrument.runtime import Runtime

    if engine not in synth.ENGINES:
        raise BadInput(f"unknown engine {engine!r}", f"use one of {', '.join(synth.ENGINES)}")
    runtime = model if isinstance(model, Runtime) else Runtime.from_bundle(model)
    rec = recording if isinstance(recording, Recording) else read_recording(recording)
    times, sounds, params = control_stream(runtime, rec)
    if len(times) == 0:
        raise BadInput(f"gesture file {rec.path or '(recording)'} has no pointer samples to render",
                       "record some gestures first")
    if controls_csv is not None:
        write_controls_csv(controls_csv, times, sounds, params, runtime.param_names)
    seconds = float(times[-1]) + TAIL_S
    if out_wav is not None:
        audio = synth.render_controls(times, params, seconds, rate=rate, engine=engine,
                                      table=runtime.table,
                                      **({} if smoothing_s is None else {"smoothing_s": smoothing_s}))
        synth.write_wav(os.fspath(out_wav), audio, rate)
    return {"frames": int(len(times)), "seconds": seconds,
            "sounds_used": int(len(np.unique(sounds))),
            "wav": None if out_wav is None else os.fspath(out_wav),
            "controls": None if controls_csv is None else os.fspath(controls_csv)}
