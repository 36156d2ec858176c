"""Input sources that need no window, for ``instrument record --source osc|midi|gamepad``.

Every source has the same small interface, so the recorder (and a live performance) treats
them alike: ``channels`` (None until known: OSC without ``--inputs`` takes its width from the
first good packet), ``start()``, ``poll() -> [(t, values)]`` (samples since the last poll, in
order, ``t`` on the source's clock), ``counts`` (good and rejected messages by kind) and
``close()``. The MIDI and gamepad sources are :class:`instrument.gesture.midi_in.MidiSource`
and :class:`instrument.gesture.gamepad.GamepadSource`; OSC is here.
"""

from __future__ import annotations

import collections
import threading

from instrument.formats.channels import VALUE, Channel
from instrument.gesture.osc_in import OscIn

MAX_PENDING = 65536


def osc_channels(width: int) -> tuple[Channel, ...]:
    """The channels of an N-float ``/wek/inputs`` stream: in1..inN, absolute values."""
    return tuple(Channel(f"in{i + 1}", VALUE, "") for i in range(width))


class OscSource:
    """``/wek/inputs`` with N floats on a UDP port, as a polled stream source.

    Args:
        port: UDP port (6448: Wekinator's); 0 picks a free one (see ``.port``).
        host: Listen address (127.0.0.1 unless asked).
        inputs: Values per message, or None to take the first good message's width.
    """

    def __init__(self, port: int, host: str = "127.0.0.1", inputs: int | None = None):
        self._pending: collections.deque = collections.deque(maxlen=MAX_PENDING)
        self._lock = threading.Lock()
        self.osc = OscIn(port, on_values=self._on_values, inputs=inputs, host=host)
        self.port, self.host = self.osc.port, self.osc.host

    def _on_values(self, t: float, values) -> None:
        with self._lock:
            self._pending.append((t, values))

    @property
    def channels(self) -> tuple[Channel, ...] | None:
        return None if self.osc.width is None else osc_channels(self.osc.width)

    @property
    def counts(self) -> dict:
        return self.osc.counts

    def start(self) -> "OscSource":
        self.osc.start()
        return self

    def poll(self) -> list:
        with self._lock:
            out = list(self._pending)
            self._pending.clear()
        return out

    def close(self) -> None:
        self.osc.stop()
