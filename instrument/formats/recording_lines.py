"""Reading a recording file's lines in bounded memory, and the version-1 sample lines.

:mod:`instrument.formats.recording` builds :class:`~instrument.formats.recording.Recording`
objects from what this module reads. Everything here is bounded before it is allocated,
because recordings come from outside: a line is at most :data:`MAX_LINE_BYTES`, JSON is
parsed by :mod:`instrument.formats.bounded_json` (nesting depth and integer length bounded),
and samples come a chunk at a time, so a 100 MB file is summarised in a few MB.

Rules (the README's "The recording file"): a UTF-8 byte-order mark before the header is
accepted; a cut last line (no newline at its end, not valid JSON: the recorder was killed)
is dropped and reported as ``truncated``; blank lines at the end are harmless; anything else
malformed is a :class:`~instrument.errors.DataFileError` naming the file and line.
"""

from __future__ import annotations

import json
import math
import os
from typing import Iterator, NamedTuple

import numpy as np

from instrument.errors import DataFileError
from instrument.formats import bounded_json
from instrument.formats.filecheck import open_regular

# A version-1 sample line is about 40 bytes; a version-2 line of many channels a few kB.
MAX_LINE_BYTES = 1 << 20
# Samples per chunk while streaming: a few hundred kB of arrays.
CHUNK_SAMPLES = 8192
_BOM = b"\xef\xbb\xbf"
_SAMPLE_FIX = 'each line after the header must be like {"t": 0.01, "x": 10, "y": 20}'
INVALID = object()   # parse_json_line's answer for a line that is not JSON


def fail(path: str, lineno: int, problem: str, fix: str | None = None):
    """Raise the DataFileError ``PATH:LINE: problem; fix``."""
    raise DataFileError(f"{path}:{lineno}: {problem}", fix)


def finite_number(value) -> bool:
    """True for an int or float (not bool) that is finite."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def parse_json_line(path: str, lineno: int, raw: bytes):
    """One line as JSON, or :data:`INVALID` when it is not valid JSON or not UTF-8.

    Raises:
        DataFileError: The line nests too deep or holds an integer of too many digits
            (never a RecursionError or Python's int-digits message).
    """
    try:
        return bounded_json.loads(raw.decode("utf-8"))
    except bounded_json.JsonLimitError as err:
        fail(path, lineno, f"{err}; this is not a line instrument writes",
             "fix or delete that line (each line is one small JSON object)")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return INVALID


class LineSource:
    """The lines of a file, one at a time: ``(lineno, raw bytes without newline, cut)``.

    ``cut`` is True for a last line with no newline after it. Open it with ``with``.

    Raises:
        DataFileError: The file cannot be opened or is empty, or a line is longer than
            :data:`MAX_LINE_BYTES`.
    """

    def __init__(self, path: str):
        self.path = path
        if not os.path.exists(path):
            raise DataFileError(f"cannot read recording {path}: No such file or directory",
                                "check the path and the file's permissions")
        # A regular file only: a FIFO would block the open for ever, a device never end.
        self._file = open_regular(path, "recording", DataFileError,
                                  "give a recording file, not a pipe or a device")
        self.lineno = 0

    def __enter__(self) -> "LineSource":
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()

    def next_line(self) -> tuple[int, bytes, bool] | None:
        """The next line, or None at the end of the file."""
        raw = self._file.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return None
        self.lineno += 1
        if raw.endswith(b"\n"):
            return self.lineno, raw[:-1], False
        if len(raw) > MAX_LINE_BYTES:
            fail(self.path, self.lineno, f"the line is longer than {MAX_LINE_BYTES} bytes; "
                 "this is not a gesture recording", "record one with 'instrument record'")
        return self.lineno, raw, True

    def header_line(self) -> tuple[bytes, bool]:
        """The first line (a byte-order mark removed) and whether it is cut.

        Raises:
            DataFileError: The file is empty or holds only blank lines.
        """
        first = self.next_line()
        if first is not None and first[1].startswith(_BOM):
            first = (first[0], first[1][len(_BOM):], first[2])
        if first is None or (not first[1].strip() and self._rest_is_blank()):
            raise DataFileError(f"{self.path}: the file is empty, not a gesture recording",
                                "record one with 'instrument record'")
        return first[1], first[2]

    def _rest_is_blank(self) -> bool:
        position = self._file.tell()
        while True:
            block = self._file.read(1 << 20)
            if not block:
                break
            if block.strip():
                self._file.seek(position)
                return False
        self._file.seek(position)
        return True

    def lines(self) -> Iterator[tuple[int, bytes, bool]]:
        """The remaining lines, blank lines at the end dropped (one in the middle is
        returned, and is an error to the caller)."""
        blank: list[tuple[int, bytes, bool]] = []
        while (line := self.next_line()) is not None:
            if not line[1].strip():
                blank.append(line)
                continue
            yield from blank
            blank.clear()
            yield line

    def remaining_lines(self) -> tuple[list[bytes], bool]:
        """Every remaining line as a list, and whether the last one is cut (version 2)."""
        lines, cut = [], False
        for _, raw, cut in self.lines():
            lines.append(raw)
        return lines, cut


class Chunk(NamedTuple):
    """Up to :data:`CHUNK_SAMPLES` version-1 samples (views of the reader's buffers)."""

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    pressure: np.ndarray      # NaN where a sample has none
    buttons: np.ndarray       # 0 where a sample has none
    has_pressure: bool
    has_buttons: bool
    truncated: bool           # the cut last line was dropped (only on the last chunk)


def v1_chunks(path: str, source: LineSource, chunk: int = CHUNK_SAMPLES) -> Iterator[Chunk]:
    """Parse and validate the version-1 sample lines of ``source``, a chunk at a time.

    Each chunk is fresh arrays (the caller may keep them). The checks: valid JSON, an
    object with finite numbers t >= 0, x, y; t not going backwards; pressure a finite number
    (or null); buttons a non-negative integer.

    Raises:
        DataFileError: naming the file and line.
    """
    def fresh():
        return (np.empty(chunk), np.empty(chunk), np.empty(chunk), np.full(chunk, np.nan),
                np.zeros(chunk, dtype=np.int64))

    t, x, y, pressure, buttons = fresh()
    has_p = has_b = False
    count = 0
    prev_t = -math.inf
    for lineno, raw, cut in source.lines():
        sample = parse_json_line(path, lineno, raw)
        if sample is INVALID:
            if cut:
                yield Chunk(t[:count], x[:count], y[:count], pressure[:count],
                            buttons[:count], has_p, has_b, True)
                return
            fail(path, lineno, "is not a valid JSON sample line", _SAMPLE_FIX)
        if not isinstance(sample, dict):
            fail(path, lineno, "a sample must be a JSON object with t, x, y", _SAMPLE_FIX)
        for key in ("t", "x", "y"):
            if key not in sample:
                fail(path, lineno, f"sample has no {key!r}", _SAMPLE_FIX)
            if not finite_number(sample[key]):
                fail(path, lineno, f"sample {key} = {sample[key]!r} is not a finite number")
        ts = sample["t"]
        if ts < 0:
            fail(path, lineno, f"time t = {ts} is negative",
                 "sample times are seconds since the start of the recording, 0 or more")
        if ts < prev_t:
            fail(path, lineno, f"time t = {ts} goes backwards (previous {prev_t})",
                 "sample times must not decrease")
        prev_t = ts
        t[count], x[count], y[count] = ts, sample["x"], sample["y"]
        p = sample.get("pressure")
        if p is not None:
            if not finite_number(p):
                fail(path, lineno, f"pressure = {p!r} is not a finite number")
            pressure[count] = p
            has_p = True
        b = sample.get("buttons")
        if b is not None:
            if isinstance(b, bool) or not isinstance(b, int) or b < 0:
                fail(path, lineno, f"buttons = {b!r} is not a non-negative integer bit mask")
            buttons[count] = b
            has_b = True
        count += 1
        if count == chunk:
            yield Chunk(t, x, y, pressure, buttons, has_p, has_b, False)
            t, x, y, pressure, buttons = fresh()
            count = 0
    yield Chunk(t[:count], x[:count], y[:count], pressure[:count], buttons[:count],
                has_p, has_b, False)
