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
from instrument.formats import recording_lines, recording_v2
from instrument.formats.channels import Channel, pointer_channels, pointer_columns
from instrument.formats.filecheck import check_format

FORMAT = "instrument-gestures"
VERSION = 1                        # what RecordingWriter writes (a pointer)
NEWEST_VERSION = recording_v2.STREAM_VERSION   # what read_recording reads (v2: any stream)
# The largest window side a header may give (a 16K screen is 15360 px wide); beyond it the
# window's diagonal and every step length would lose all precision or overflow.
MAX_WINDOW_PX = 100_000


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
        channels: The declared channels of a version-2 stream, or None for a pointer
            recording of version 1 (see :meth:`channel_list`).
        values: float64 [N, channels] of a version-2 stream (NaN: pressure not reported),
            or None (see :meth:`channel_values`).
        long_pauses: Pauses longer than ``gesture.pauses.MAX_PAUSE_S`` (counted when read),
            which the gesture path plays shortened.

    A non-pointer stream (no x, y position channels) has ``width``/``height`` None and
    ``x``/``y`` all zero: read its ``values``.
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
    channels: tuple[Channel, ...] | None = None
    values: np.ndarray | None = None
    long_pauses: int = 0

    def __len__(self) -> int:
        return len(self.t)

    @property
    def is_pointer(self) -> bool:
        """True for a mouse/tablet pointer (played through the relative polar steps)."""
        return self.channels is None or pointer_columns(self.channels) is not None

    def channel_list(self) -> tuple[Channel, ...]:
        """The stream's channels: declared (version 2) or the pointer's x, y [+pressure, buttons]."""
        if self.channels is not None:
            return self.channels
        return pointer_channels(self.width, self.height, self.pressure is not None,
                                self.buttons is not None)

    def channel_values(self) -> np.ndarray:
        """float64 [N, len(channel_list())]: every sample's values in channel order."""
        if self.values is not None:
            return self.values
        cols = [self.x, self.y] + [c for c in (self.pressure, self.buttons) if c is not None]
        return np.stack([np.asarray(c, np.float64) for c in cols], axis=1)

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
                or not math.isfinite(value) or not 0 < value <= MAX_WINDOW_PX):
            raise BadInput(f"{where}: {name} = {value!r} must be a number of pixels in "
                           f"1..{MAX_WINDOW_PX}")


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
        except BaseException as err:
            self.__exit__(type(err), err, err.__traceback__)  # one line, no temporary left
            raise

    def _write(self, line: str) -> None:
        self._sink(line)

    def add(self, t: float, x: float, y: float, pressure: float | None = None,
            buttons: int | None = None) -> None:
        """Append one sample. Raises BadInput on non-finite values or decreasing t."""
        values = (float(t), float(x), float(y))
        if not all(math.isfinite(v) for v in values):
            raise BadInput(f"sample t={t!r} x={x!r} y={y!r} is not finite")
        if values[0] < 0:
            raise BadInput(f"sample time {t} is negative", "times are seconds since the start")
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

    def close(self) -> None:
        """Flush, sync to disk and move into place (safe to call twice)."""
        atomic, self._atomic = self._atomic, None
        if atomic is not None:
            atomic.__exit__(None, None, None)
        elif self._file is not None:
            self._file.close()

    def __enter__(self) -> "RecordingWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        """A failed whole-file write is discarded (an OSError becomes one DataFileError
        line, the old file is left); a live recording is finished whatever happened (its
        lines are valid, and on a full disk they stay in ``PATH.part``)."""
        if exc_type is not None and self._atomic is not None:
            atomic, self._atomic = self._atomic, None
            atomic.__exit__(exc_type, exc, tb)
            return
        self.close()


def write_recording(path: str | os.PathLike, rec: Recording, t_decimals: int = 6,
                    xy_decimals: int = 2) -> None:
    """Write a whole recording at once (via a temporary file, renamed into place).

    A version-2 stream (``rec.channels`` set) is written as version 2, a pointer as version 1.
    """
    path = os.fspath(path)
    if rec.channels is not None:
        recording_v2.write_stream(path, rec.header, rec.channels, rec.t, rec.channel_values(),
                                  decimals=max(xy_decimals, 6))
        return
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


_fail = recording_lines.fail
_finite_number = recording_lines.finite_number


def read_recording(path: str | os.PathLike) -> Recording:
    """Read and validate a recording file.

    A UTF-8 byte-order mark is accepted. A cut last line (no trailing newline and not valid
    JSON: the writer was killed) is dropped and ``truncated`` set. Any other problem raises
    DataFileError naming the file and line: malformed or too deeply nested JSON, wrong
    format name, a version newer than this program, a missing, non-finite or negative t,
    a missing or non-finite x/y, t going backwards, or a window size beyond
    :data:`MAX_WINDOW_PX`. ``long_pauses`` counts the pauses the gesture path shortens
    (:mod:`instrument.gesture.pauses`); :func:`pause_note` says so in one line.
    """
    chunks = list(iter_recording(path))
    if len(chunks) == 1:
        return chunks[0]
    last = chunks[-1]

    def joined(name):
        return np.concatenate([getattr(c, name) for c in chunks])

    return Recording(header=last.header, width=last.width, height=last.height,
                     t=joined("t"), x=joined("x"), y=joined("y"),
                     pressure=joined("pressure") if last.pressure is not None else None,
                     buttons=joined("buttons") if last.buttons is not None else None,
                     path=last.path, truncated=last.truncated, long_pauses=last.long_pauses)


def iter_recording(path: str | os.PathLike,
                   chunk: int = recording_lines.CHUNK_SAMPLES) -> Iterator[Recording]:
    """Read a recording a chunk of samples at a time, in bounded memory (gestures info).

    Yields :class:`Recording` objects of up to ``chunk`` consecutive samples each (at least
    one, maybe empty), validated as :func:`read_recording` does; the last one carries
    ``truncated`` and the final ``long_pauses``. Every chunk has ``pressure``/``buttons``
    arrays once any earlier sample had one (NaN / 0 where a sample has none). A version-2
    stream is read whole and comes as one chunk.
    """
    from instrument.gesture.pauses import PauseCapper

    path = os.fspath(path)
    with recording_lines.LineSource(path) as source:
        raw, cut = source.header_line()
        header = _parse_header(path, raw, cut=cut)
        if header["version"] >= 2:
            lines, ends_cut = source.remaining_lines()
            rec = Recording(header=header, path=path,
                            **recording_v2.read_stream(path, header, [raw] + lines, ends_cut))
            rec.long_pauses = cap_count(rec.t)
            yield rec
            return
        pauses = PauseCapper()
        for c in recording_lines.v1_chunks(path, source, chunk):
            pauses(c.t)
            yield Recording(header=header, width=header["width"], height=header["height"],
                            t=c.t, x=c.x, y=c.y,
                            pressure=c.pressure if c.has_pressure else None,
                            buttons=c.buttons if c.has_buttons else None,
                            path=path, truncated=c.truncated, long_pauses=pauses.capped)


def cap_count(t) -> int:
    """How many pauses of the times ``t`` the gesture path shortens."""
    from instrument.gesture.pauses import cap_pauses

    return cap_pauses(t)[1]


def pause_note(rec: Recording) -> str | None:
    """One line saying that long pauses of ``rec`` are shortened, or None when none is."""
    from instrument.gesture.pauses import MAX_PAUSE_S

    if not rec.long_pauses:
        return None
    name = rec.path or "the recording"
    many = "pauses" if rec.long_pauses > 1 else "pause"
    return (f"note: {rec.long_pauses} {many} longer than {MAX_PAUSE_S:g} s in {name} "
            f"{'are' if rec.long_pauses > 1 else 'is'} played as {MAX_PAUSE_S:g} s of stillness")


def _parse_header(path: str, raw: bytes, cut: bool) -> dict:
    header = recording_lines.parse_json_line(path, 1, raw)
    if header is recording_lines.INVALID:
        if cut:
            _fail(path, 1, "the header line is incomplete (the recorder stopped at once)",
                  "record again")
        _fail(path, 1, "the header is not valid JSON; this is not a gesture recording",
              "record one with 'instrument record'")
    version = check_format(header, FORMAT, NEWEST_VERSION, f"{path}:1: this file", "gesture recording",
                           "record one with 'instrument record'", error=DataFileError,
                           upgrade="update instrument")
    sizes_needed = True
    if version >= 2:
        channels = recording_v2.stream_channels(path, header)
        sizes_needed = (pointer_columns(channels) is not None or "width" in header
                        or "height" in header)
    for key in ("width", "height") if sizes_needed else ():
        value = header.get(key)
        if not _finite_number(value) or not 0 < value <= MAX_WINDOW_PX:
            _fail(path, 1, f"header {key} = {value!r} must be a number of pixels in "
                  f"1..{MAX_WINDOW_PX}", "fix the header (the window size when recording)")
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

    Times come with long pauses shortened (``gesture.pauses``), as every player uses them.
    """
    if not (speed > 0 and math.isfinite(speed)):
        raise BadInput(f"replay speed {speed!r} must be a positive number")
    if len(rec.t) == 0:
        return
    from instrument.gesture.pauses import cap_pauses

    played, _ = cap_pauses(rec.t)       # a 10-hour gap waits 10 s, as the gesture path plays it
    start = clock()
    t0 = float(played[0])
    for t, x, y in zip(played.tolist(), rec.x.tolist(), rec.y.tolist()):
        if realtime:
            delay = start + (t - t0) / speed - clock()
            if delay > 0:
                sleep(delay)
        yield t, x, y
