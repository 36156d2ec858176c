"""A performance as a Standard MIDI File (format 0, one track), for a DAW.

Timing: 1000 ticks per quarter note at 120 BPM (a tempo meta event says so), so one tick is
0.5 ms and a message at time t seconds lands on tick ``round((t - start) * 2000)``: within
0.25 ms of its frame. ``start`` is 0 (times as in the control stream: seconds of the gesture
file, or of the performance) unless given.

The track is built in memory as compact bytes (about 4 bytes a message, ~15 MB for an hour
of 14-bit CCs at 100 frames a second) and written atomically on :meth:`MidiFileWriter.close`
via :func:`instrument.formats.safe_io.atomic_write`, so a crash never leaves half a file.
Past ``max_bytes`` further messages are counted in ``dropped``, never grown without bound.
"""

from __future__ import annotations

import os
import struct

from instrument.errors import BadInput
from instrument.formats.safe_io import atomic_write

TICKS_PER_BEAT = 1000
TEMPO_US = 500_000                        # 120 BPM: the default tempo of every DAW
TICKS_PER_SECOND = TICKS_PER_BEAT * 1_000_000 / TEMPO_US
MAX_TRACK_BYTES = 256 * 1024 * 1024       # far above any performance; SMF lengths are 32-bit


def _varlen(value: int) -> bytes:
    """A MIDI variable-length quantity (7 bits a byte, high bit = more follows)."""
    out = bytearray([value & 0x7F])
    value >>= 7
    while value:
        out.insert(0, 0x80 | (value & 0x7F))
        value >>= 7
    return bytes(out)


class MidiFileWriter:
    """Collects timed MIDI messages and writes them as one SMF on close.

    Args:
        path: The .mid file to write (replaced atomically; the caller checks --force).
        start: Time in seconds of tick 0.
        max_bytes: Bound on the track in memory.

    Raises:
        BadInput: ``path``'s directory does not exist.
    """

    def __init__(self, path: str | os.PathLike, start: float = 0.0,
                 max_bytes: int = MAX_TRACK_BYTES):
        self.path = os.fspath(path)
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            raise BadInput(f"--midi-file {self.path}: directory {parent} does not exist",
                           "create it first")
        self.start = float(start)
        self.max_bytes = int(max_bytes)
        # Tempo first, at tick 0: FF 51 03 tttttt.
        self._track = bytearray(b"\x00\xff\x51\x03" + TEMPO_US.to_bytes(3, "big"))
        self._tick = 0
        self.messages = 0
        self.dropped = 0
        self._closed = False

    def add(self, t: float, messages) -> None:
        """Append messages (tuples of byte values) at time ``t`` seconds.

        Times before the last one are written at the last one's tick (a file has no way back).
        """
        if not messages:
            return
        if len(self._track) > self.max_bytes:
            self.dropped += len(messages)
            return
        tick = int(round((float(t) - self.start) * TICKS_PER_SECOND))
        delta = max(0, tick - self._tick)
        self._tick += delta
        track = self._track
        for message in messages:
            track += _varlen(delta)
            track += bytes(message)
            delta = 0
        self.messages += len(messages)

    def to_bytes(self) -> bytes:
        """The whole file as it would be written now."""
        track = bytes(self._track) + b"\x00\xff\x2f\x00"          # end of track
        header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_BEAT)
        return header + b"MTrk" + struct.pack(">I", len(track)) + track

    def close(self) -> None:
        """Write the file atomically (safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        data = self.to_bytes()
        with atomic_write(self.path, binary=True, what="MIDI file") as handle:
            handle.write(data)

    def __enter__(self) -> "MidiFileWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_midi_file(path: str | os.PathLike, timed_messages, start: float = 0.0) -> int:
    """Write ``[(t, [message, ...]), ...]`` as an SMF; returns the number of messages."""
    writer = MidiFileWriter(path, start)
    for t, messages in timed_messages:
        writer.add(t, messages)
    writer.close()
    return writer.messages
