"""OSC ``/instrument/slice file start duration``: which slice of which file an audio model plays.

Sent with every control frame of a model trained on an audio bank (next to ``/wek/outputs``,
``/instrument/params`` and ``/instrument/sound``), so a Pd or Max player can play the same
slice from the same file: ``file`` is the absolute path (a UTF-8 OSC string, as Pd and Max
read it), ``start`` and ``duration`` are seconds (float32) in the file.
"""

from __future__ import annotations

import struct

SLICE_ADDRESS = "/instrument/slice"


def _osc_text(text: str) -> bytes:
    raw = text.encode("utf-8") + b"\0"
    return raw + b"\0" * (-len(raw) % 4)


def slice_message(path: str, start_s: float, duration_s: float) -> bytes:
    """One ``/instrument/slice`` message."""
    return (_osc_text(SLICE_ADDRESS) + _osc_text(",sff") + _osc_text(path)
            + struct.pack(">ff", float(start_s), float(duration_s)))


class SliceMessages:
    """bank index -> its encoded ``/instrument/slice`` message (built once per slice, cached).

    Args:
        sources: The model's :class:`~instrument.sound.slices.AudioSources`.
    """

    def __init__(self, sources):
        self.sources = sources
        self._cache: dict[int, bytes] = {}

    def __call__(self, index: int) -> bytes:
        packet = self._cache.get(index)
        if packet is None:
            f, start, length = (int(v) for v in self.sources.slices[index])
            rate = float(self.sources.rate)
            packet = slice_message(self.sources.file_path(f), start / rate, length / rate)
            self._cache[index] = packet
        return packet
