"""Recording format version 2: input streams of any width, with declared channels.

The same JSON Lines file as version 1 (see :mod:`instrument.formats.recording`), extended:

- the header has ``"version": 2`` and ``"channels"``: a list of channel objects
  ``{"name": "in1", "kind": "value", "unit": "", "range": [0, 1]}`` in sample order (kinds:
  position / pressure / value / button, see :mod:`instrument.formats.channels`);
  ``"width"``/``"height"`` (pixels) are there when the stream is a pointer (channels x, y of
  kind position) and optional otherwise;
- every further line is one sample ``{"t": s, "v": [v1, v2, ...]}``: seconds since the start
  and one finite number per channel, in channel order; ``null`` only for a ``pressure``
  channel (the device did not report it in that sample).

A version-1 file is read as the stream x, y (+ pressure, buttons); nothing about version 1
changes. Writing and reading follow version 1's rules: each line flushed as it is written, a
cut last line dropped, anything else malformed an error naming the file and line.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os

import numpy as np

from instrument.errors import BadInput, DataFileError
from instrument.formats.channels import (
    PRESSURE,
    channels_from_list,
    check_channels,
    pointer_columns,
)
from instrument.formats.recording_lines import INVALID, parse_json_line
from instrument.formats.safe_io import AppendingFile

STREAM_VERSION = 2
RECORDING_FORMAT = "instrument-gestures"     # the same name as recording.FORMAT
# A stream in memory is float64 [samples, channels]: refuse before allocating more than this.
MAX_VALUES = 50_000_000


def _num(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def make_stream_header(channels, width: float | None = None, height: float | None = None,
                       **extra) -> dict:
    """A valid version-2 header; a pointer stream needs its window ``width`` and ``height``."""
    check_channels(channels, "StreamWriter")
    header = {"format": RECORDING_FORMAT, "version": STREAM_VERSION,
              "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    if pointer_columns(channels) is not None or width is not None or height is not None:
        for name, value in (("width", width), ("height", height)):
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not math.isfinite(value) or value <= 0):
                raise BadInput(f"StreamWriter: {name} = {value!r} must be a positive number "
                               "of pixels (a pointer stream needs its window size)")
        header["width"], header["height"] = width, height
    header["channels"] = [ch.to_dict() for ch in channels]
    for key, value in extra.items():
        if key in ("format", "version", "channels"):
            raise BadInput(f"header key {key!r} is set by the writer")
        if value is not None:
            header[key] = value
    json.dumps(header, allow_nan=False)  # fail now, not with a half-written file
    return header


class StreamWriter:
    """Append samples of declared channels to a version-2 recording, a flushed line each.

    The file grows as ``PATH.part`` and is moved to ``PATH`` by :meth:`close` (see
    :class:`~instrument.formats.safe_io.AppendingFile`), so a crash leaves every line written.

    Args:
        path: Recording to write (the caller checks it may be replaced).
        channels: The stream's channels, in sample order.
        width, height: Window size in pixels (pointer streams).
        t_decimals, decimals: Digits kept for t (default µs) and values.
        **header_extra: More header keys, e.g. ``source="osc"``.
    """

    def __init__(self, path: str | os.PathLike, channels, width: float | None = None,
                 height: float | None = None, t_decimals: int = 6, decimals: int = 6,
                 **header_extra):
        self.path = os.fspath(path)
        self.channels = tuple(channels)
        self.header = make_stream_header(self.channels, width, height, **header_extra)
        self.t_decimals, self.decimals = t_decimals, decimals
        self._nullable = [ch.kind == PRESSURE for ch in self.channels]
        self.count = 0
        self.last_t: float | None = None
        self._file = AppendingFile(self.path, what="recording")
        self._file.write_line(json.dumps(self.header, allow_nan=False))

    @property
    def part(self) -> str:
        """Where the file grows until :meth:`close` moves it to ``path``."""
        return self._file.part

    def add(self, t: float, values) -> None:
        """Append one sample; BadInput on a wrong width, non-finite value or decreasing t."""
        if len(values) != len(self.channels):
            raise BadInput(f"sample has {len(values)} values, the stream has "
                           f"{len(self.channels)} channels")
        t = float(t)
        if not math.isfinite(t) or t < 0:
            raise BadInput(f"sample time {t!r} is not a finite time >= 0",
                           "times are seconds since the start")
        ts = _num(t, self.t_decimals)
        if self.last_t is not None and float(ts) < self.last_t:
            raise BadInput(f"sample time {t} is before the previous sample ({self.last_t})",
                           "sample times must not decrease")
        parts = []
        for value, nullable, ch in zip(values, self._nullable, self.channels):
            if value is None or (nullable and not math.isfinite(float(value))):
                if not nullable:
                    raise BadInput(f"channel {ch.name!r} has no value in this sample")
                parts.append("null")
                continue
            v = float(value)
            if not math.isfinite(v):
                raise BadInput(f"channel {ch.name!r} value {value!r} is not finite")
            parts.append(_num(v, self.decimals))
        self._file.write_line(f'{{"t":{ts},"v":[{",".join(parts)}]}}')
        self.last_t = float(ts)
        self.count += 1

    def close(self) -> None:
        """Sync and move the file into place (safe to call twice)."""
        self._file.close()

    def __enter__(self) -> "StreamWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_stream(path: str | os.PathLike, header: dict, channels, t: np.ndarray,
                 values: np.ndarray, decimals: int = 6) -> None:
    """Write a whole version-2 recording at once (renamed into place when complete)."""
    extra = {k: v for k, v in header.items()
             if k not in ("format", "version", "channels", "width", "height", "created")}
    writer = StreamWriter(path, channels, header.get("width"), header.get("height"),
                          decimals=decimals, **extra)
    writer._file.flush_each_line = False   # one flush at the end: renamed when done
    with writer:
        for i in range(len(t)):
            writer.add(t[i], [None if math.isnan(v) else v for v in values[i].tolist()])


# --- reading ---------------------------------------------------------------------------------

def _fail(path: str, lineno: int, problem: str, fix: str | None = None):
    raise DataFileError(f"{path}:{lineno}: {problem}", fix)


def stream_channels(path: str, header: dict):
    """The declared channels of a version-2 header (DataFileError naming line 1 if bad)."""
    try:
        return channels_from_list(header.get("channels"), "header")
    except BadInput as err:
        _fail(path, 1, err.problem, err.fix or "declare the channels as a list of "
              '{"name", "kind", "unit"} objects')


def read_stream_samples(path: str, lines: list[bytes], channels, ends_cut: bool
                        ) -> tuple[np.ndarray, np.ndarray, bool]:
    """Parse the sample lines (``lines[0]`` is the header) of a version-2 file.

    Returns:
        (t float64[N], values float64[N, C] with NaN for a missing pressure, truncated).
    """
    n, c = len(lines) - 1, len(channels)
    if n * c > MAX_VALUES:
        _fail(path, 1, f"{n} samples of {c} channels is more than this program reads at once "
              f"({MAX_VALUES} values)", "split the recording into shorter files")
    nullable = [ch.kind == PRESSURE for ch in channels]
    t = np.empty(n)
    values = np.empty((n, c))
    count = 0
    truncated = False
    prev_t = -math.inf
    for i, raw in enumerate(lines[1:], start=2):
        sample = parse_json_line(path, i, raw)   # bounded nesting and integer digits
        if sample is INVALID:
            if i == len(lines) and ends_cut:
                truncated = True
                break
            _fail(path, i, "is not a valid JSON sample line",
                  'each line after the header must be like {"t": 0.01, "v": [0.5, 1]}')
        if not isinstance(sample, dict):
            _fail(path, i, 'a sample must be a JSON object with "t" and "v"')
        ts, row = sample.get("t"), sample.get("v")
        if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
            _fail(path, i, f"sample t = {ts!r} is not a finite number")
        if ts < 0:
            _fail(path, i, f"time t = {ts} is negative", "times are seconds since the start")
        if ts < prev_t:
            _fail(path, i, f"time t = {ts} goes backwards (previous {prev_t})",
                  "sample times must not decrease")
        if not isinstance(row, list) or len(row) != c:
            got = len(row) if isinstance(row, list) else type(row).__name__
            _fail(path, i, f"sample v has {got} values, the header declares {c} channels",
                  "every sample needs one value per channel")
        for j, value in enumerate(row):
            if value is None and nullable[j]:
                values[count, j] = math.nan
            elif (isinstance(value, bool) or not isinstance(value, (int, float))
                  or not math.isfinite(value)):
                _fail(path, i, f"channel {channels[j].name!r} value {value!r} is not a finite "
                      "number")
            else:
                values[count, j] = value
        t[count] = prev_t = ts
        count += 1
    return t[:count], values[:count], truncated


def read_stream(path: str, header: dict, lines: list[bytes], ends_cut: bool) -> dict:
    """The Recording fields of a version-2 file (``lines[0]`` is its checked header).

    A pointer stream also fills x, y, pressure (when any sample has it) and buttons, so
    everything made for version 1 reads it unchanged.
    """
    channels = stream_channels(path, header)
    t, values, truncated = read_stream_samples(path, lines, channels, ends_cut)
    cols = pointer_columns(channels)
    fields = {"width": header.get("width"), "height": header.get("height"), "t": t,
              "x": np.zeros(len(t)), "y": np.zeros(len(t)), "pressure": None,
              "buttons": None, "truncated": truncated, "channels": channels,
              "values": values}
    if cols is not None:
        ix, iy, ip, ib = cols
        fields["x"], fields["y"] = values[:, ix].copy(), values[:, iy].copy()
        if ip is not None and np.isfinite(values[:, ip]).any():
            fields["pressure"] = values[:, ip].copy()
        if ib is not None:
            b = values[:, ib]
            bad = np.flatnonzero((b < 0) | (b != np.floor(b)))
            if len(bad):
                _fail(path, int(bad[0]) + 2, f"buttons = {b[bad[0]]!r} is not a non-negative "
                      "integer bit mask")
            fields["buttons"] = b.astype(np.int64)
    return fields
