"""Gesture recording files: versioned JSON Lines, written append-and-flush, read strictly.

Format (a contract, see README "Record gestures"): UTF-8 JSON Lines. Line 1 is a header
object ``{"format": "instrument-gestures", "version": 1, "created": ISO-8601 UTC,
"width": W, "height": H, ...}`` (optional ``"source"``: "mouse", "synthetic", ...; other
keys are kept). Every further line is one pointer sample ``{"t": s, "x": px, "y": px}``
with optional ``"pressure"`` (0..1) and ``"buttons"`` (bit mask: 1 left, 2 middle,
4 right); ``t`` is seconds since the start, x/y pixels from the top-left corner.

The writer flushes every line to the operating system as it is added, so killing the
process (even ``kill -9``) loses at most the line being written. A reader therefore
accepts a cut last line (no newline at its end, not valid JSON) and drops it; anything
else malformed is an error naming the file and line.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from instrument.errors import BadInput, DataFileError

FORMAT = "instrument-gestures"
VERSION = 1


@dataclass
class Recording:
    """A pointer recording in memory.

    Attributes:
        header: The header object as read (or to be written).
        width, height: Window size in pixels when recording.
        t, x, y: float64 arrays: seconds since start, pixels from the top-left corner.
        pressure: float64 array (NaN where a sample has none) or None if no sample has one.
        buttons: int64 array (0 where a sample has none) or None if no sample has any.
        path: The file it was read from, if any.
        truncated: True when a cut last line was dropped while reading.
    """

    header: dict
    width: float
    height: float
    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    pressure: np.ndarray | None = None
    buttons: np.ndarray | None = None
    path: str | None = None
    truncated: bool = field(default=False)

    def __len__(self) -> int:
        return len(self.t)

    @property
    def duration(self) -> float:
        """Seconds from the first to the last sample (0 with fewer than two)."""
        return float(self.t[-1] - self.t[0]) if len(self.t) > 1 else 0.0

    @property
    def source(self) -> str | None:
        return self.header.get("source")


def make_header(width: float, height: float, **extra) -> dict:
    """A valid header dict; ``extra`` keys (e.g. ``source="synthetic"``) are added."""
    _check_size(width, height, "RecordingWriter")
    header = {"format": FORMAT, "version": VERSION,
              "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
              "width": width, "height": height}
    for key, value in extra.items():
        if key in ("format", "version"):
            raise BadInput(f"header key {key!r} is set by the writer")
        if value is not None:
            header[key] = value
    json.dumps(header, allow_nan=False)  # fail now, not with a half-written file
    return header


def _check_size(width, height, where: str) -> None:
    for name, value in (("width", width), ("height", height)):
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value) or value <= 0):
            raise BadInput(f"{where}: {name} = {value!r} must be a positive number of pixels")


def _num(value: float, decimals: int) -> str:
    """Compact fixed-point text: 12.5 -> '12.5', 300.0 -> '300'."""
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class RecordingWriter:
    """Append pointer samples to a recording file, flushing every line as it comes.

    Use as a context manager. Lines go to ``PATH.part`` as they come (header first, then
    whole lines, each flushed), so a crash or kill -9 loses at most the line in flight and
    what was recorded stays readable in ``PATH.part``; :meth:`close` fsyncs and renames it
    to ``PATH`` (:class:`~instrument.formats.safe_io.AppendingFile`).

    Args:
        path: File to create (an existing one is replaced only when the recording is
            closed; the parent directory must exist).
        width, height: Window size in pixels.
        t_decimals, xy_decimals: Digits kept for t (default µs) and x, y, pressure.
        whole_file: Written at once (:func:`write_recording`): no per-line flush, a
            temporary file renamed into place at close and removed if writing fails.
        **header_extra: More header keys, e.g. ``source="mouse"``.

    Raises:
        DataFileError: One line naming the file, when it cannot be created or written (disk
            full, read-only); what was recorded so far stays in ``PATH.part``.
    """

    def __init__(self, path: str | os.PathLike, width: float, height: float,
                 t_decimals: int = 6, xy_decimals: int = 2, *, whole_file: bool = False,
                 **header_extra):
        from instrument.formats.safe_io import AppendingFile, atomic_write

        self.path = os.fspath(path)
        self.header = make_header(width, height, **header_extra)
        self.t_decimals, self.xy_decimals = t_decimals, xy_decimals
        self.count = 0
        self.last_t: float | None = None
        self._atomic = self._file = None
        if whole_file:
            self._atomic = atomic_write(self.path, what="recording")
            handle = self._atomic.__enter__()
            self._sink = lambda line: handle.write(line + "\n")
        else:
            self._file = AppendingFile(self.path, what="recording")
            self.part = self._file.part
            self._sink = self._file.write_line  # one write + flush per line
        try:
            self._write(json.dumps(self.header, allow_nan=False))
        except BaseException:
            self.close(failed=True)
            raise

    def _write(self, line: str) -> None:
        self._sink(line)

    def add(self, t: float, x: float, y: float, pressure: float | None = None,
            buttons: int | None = None) -> None:
        """Append one sample. Raises BadInput on non-finite values or decreasing t."""
        values = (float(t), float(x), float(y))
        if not all(math.isfinite(v) for v in values):
            raise BadInput(f"sample t={t!r} x={x!r} y={y!r} is not finite")
        ts = _num(values[0], self.t_decimals)
        if self.last_t is not None and float(ts) < self.last_t:
            raise BadInput(f"sample time {t} is before the previous sample ({self.last_t})",
                           "sample times must not decrease")
        parts = [f'"t":{ts}', f'"x":{_num(values[1], self.xy_decimals)}',
                 f'"y":{_num(values[2], self.xy_decimals)}']
        if pressure is not None:
            p = float(pressure)
            if not math.isfinite(p):
                raise BadInput(f"pressure {pressure!r} is not finite")
            parts.append(f'"pressure":{_num(p, 4)}')
        if buttons is not None:
            parts.append(f'"buttons":{int(buttons)}')
        self._write("{" + ",".join(parts) + "}")
        self.last_t = float(ts)
        self.count += 1

    def close(self, failed: bool = False) -> None:
        """Flush, sync to disk and move into place (safe to call twice).

        Args:
            failed: Writing went wrong: a whole-file write is discarded (the old file, if
                any, is left); a live recording is still finished (its lines are valid).
        """
        atomic, self._atomic = self._atomic, None
        if atomic is not None:
            if failed:
                atomic.__exit__(BadInput, BadInput("recording abandoned"), None)
            else:
                atomic.__exit__(None, None, None)
        elif self._file is not None:
            self._file.close()

    def __enter__(self) -> "RecordingWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(failed=exc_type is not None and self._atomic is not None)


def write_recording(path: str | os.PathLike, rec: Recording, t_decimals: int = 6,
                    xy_decimals: int = 2) -> None:
    """Write a whole recording at once (via a temporary file, renamed into place)."""
    path = os.fspath(path)
    extra = {k: v for k, v in rec.header.items()
             if k not in ("format", "version", "width", "height")}
    with RecordingWriter(path, rec.width, rec.height, t_decimals, xy_decimals, whole_file=True,
                         **extra) as w:
        for i in range(len(rec.t)):
            pressure = None
            if rec.pressure is not None and math.isfinite(rec.pressure[i]):
                pressure = rec.pressure[i]
            buttons = int(rec.buttons[i]) if rec.buttons is not None else None
            w.add(rec.t[i], rec.x[i], rec.y[i], pressure, buttons)


def _fail(path: str, lineno: int, problem: str, fix: str | None = None):
    raise DataFileError(f"{path}:{lineno}: {problem}", fix)


def _finite_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def read_recording(path: str | os.PathLike) -> Recording:
    """Read and validate a recording file.

    A cut last line (no trailing newline and not valid JSON: the writer was killed) is
    dropped and ``truncated`` set. Any other problem raises DataFileError naming the file
    and line: malformed JSON, wrong format name, a version newer than this program, a
    missing or non-finite t/x/y, or t going backwards.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise DataFileError(f"cannot read recording {path}: {err.strerror}") from None
    if not data.strip():
        raise DataFileError(f"{path}: the file is empty, not a gesture recording",
                            "record one with 'instrument record'")
    lines = data.split(b"\n")
    ends_cut = not data.endswith(b"\n")
    if not ends_cut:
        lines.pop()                      # the empty string after the final newline
    while len(lines) > 1 and not lines[-1].strip() and not ends_cut:
        lines.pop()                      # trailing blank lines are harmless
    header = _parse_header(path, lines[0], cut=ends_cut and len(lines) == 1)
    n = len(lines) - 1
    t = np.empty(n)
    x = np.empty(n)
    y = np.empty(n)
    pressure = np.full(n, np.nan)
    buttons = np.zeros(n, dtype=np.int64)
    has_p = has_b = False
    count = 0
    truncated = False
    prev_t = -math.inf
    for i, raw in enumerate(lines[1:], start=2):
        last = i == len(lines)
        try:
            sample = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            if last and ends_cut:
                truncated = True
                break
            _fail(path, i, "is not a valid JSON sample line",
                  "each line after the header must be like {\"t\": 0.01, \"x\": 10, \"y\": 20}")
        if not isinstance(sample, dict):
            _fail(path, i, "a sample must be a JSON object with t, x, y")
        for key in ("t", "x", "y"):
            if key not in sample:
                _fail(path, i, f"sample has no {key!r}")
            if not _finite_number(sample[key]):
                _fail(path, i, f"sample {key} = {sample[key]!r} is not a finite number")
        if sample["t"] < prev_t:
            _fail(path, i, f"time t = {sample['t']} goes backwards (previous {prev_t})",
                  "sample times must not decrease")
        prev_t = sample["t"]
        t[count], x[count], y[count] = sample["t"], sample["x"], sample["y"]
        if "pressure" in sample and sample["pressure"] is not None:
            if not _finite_number(sample["pressure"]):
                _fail(path, i, f"pressure = {sample['pressure']!r} is not a finite number")
            pressure[count] = sample["pressure"]
            has_p = True
        if "buttons" in sample and sample["buttons"] is not None:
            b = sample["buttons"]
            if isinstance(b, bool) or not isinstance(b, int) or b < 0:
                _fail(path, i, f"buttons = {b!r} is not a non-negative integer bit mask")
            buttons[count] = b
            has_b = True
        count += 1
    return Recording(header=header, width=header["width"], height=header["height"],
                     t=t[:count], x=x[:count], y=y[:count],
                     pressure=pressure[:count] if has_p else None,
                     buttons=buttons[:count] if has_b else None,
                     path=path, truncated=truncated)


def _parse_header(path: str, raw: bytes, cut: bool) -> dict:
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        if cut:
            _fail(path, 1, "the header line is incomplete (the recorder stopped at once)",
                  "record again")
        _fail(path, 1, "the header is not valid JSON; this is not a gesture recording",
              "record one with 'instrument record'")
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        got = header.get("format") if isinstance(header, dict) else None
        _fail(path, 1, f"format is {got!r}, not {FORMAT!r}; this is not a gesture recording",
              "record one with 'instrument record'")
    version = header.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        _fail(path, 1, f"version {version!r} is not a positive integer")
    if version > VERSION:
        _fail(path, 1, f"version {version} is newer than this program reads (up to {VERSION})",
              "update instrument")
    for key in ("width", "height"):
        value = header.get(key)
        if not _finite_number(value) or value <= 0:
            _fail(path, 1, f"header {key} = {value!r} must be a positive number of pixels")
    if not isinstance(header.get("created"), str):
        _fail(path, 1, "header has no 'created' time string")
    return header


def replay(rec: Recording, realtime: bool = False, speed: float = 1.0, *,
           clock: Callable[[], float] = time.perf_counter,
           sleep: Callable[[float], None] = time.sleep) -> Iterator[tuple[float, float, float]]:
    """Yield the samples of a recording as ``(t, x, y)``.

    Args:
        rec: The recording.
        realtime: True: each sample comes at its own time after the first (for
            performing); False: as fast as the consumer takes them (training, render).
        speed: Playback speed factor when ``realtime`` (2.0 = twice as fast).
        clock, sleep: The time source and the wait used for pacing (tests pass a fake
            clock to check the pacing exactly, without depending on the machine's load).
    """
    if not (speed > 0 and math.isfinite(speed)):
        raise BadInput(f"replay speed {speed!r} must be a positive number")
    if len(rec.t) == 0:
        return
    start = clock()
    t0 = float(rec.t[0])
    for t, x, y in zip(rec.t.tolist(), rec.x.tolist(), rec.y.tolist()):
        if realtime:
            delay = start + (t - t0) / speed - clock()
            if delay > 0:
                sleep(delay)
        yield t, x, y
