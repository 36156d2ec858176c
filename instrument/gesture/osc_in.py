"""OSC in: ``/wek/inputs`` pointer messages on a UDP port, fed into the gesture path.

Listens on 127.0.0.1 unless another address is asked for (``--osc-in 0.0.0.0:6448`` opens
it to a phone on the LAN; an IPv6 address such as ``::`` listens on IPv6). Every message of a
bundle is played, in order.

**Message times.** Each good message gets its own time, strictly later than the one before,
so the gesture path plays every message of a bundle instead of rejecting all but the first
as "not later": a message's time is its packet's arrival (``time.perf_counter()``), or for
a bundle with a future time tag, the arrival plus how far ahead the tag is (at most
:data:`MAX_AHEAD_S`: a sender's clock may be off), and never earlier than the previous
message's time + :data:`STEP_S` (1 µs). So an immediate bundle of N messages plays at
arrival + 0, 1, ..., N-1 µs; a sender that batches samples into time-tagged bundles keeps
their spacing, which is what the gesture windows measure. A tag in the past counts as
immediate. Messages are played on arrival either way (the tag sets their gesture time).

Two modes: a pointer (two numbers x, y: ``on_pointer``) or a stream of N numbers
(``on_values``): N is given (``inputs``, e.g. the width a model was trained on) or taken from
the first good packet, as Wekinator does; a packet of another width is counted as
``wrong_arity``, never fatal.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from typing import Callable

from instrument.errors import BadInput
from instrument.formats.osc import (
    DEFAULT_IN_PORT,
    HANDLER_ERROR,
    MAX_BUNDLE_DEPTH,
    NORMALIZED_LIMITS,
    NOT_OSC,
    OK,
    PIXEL_LIMITS,
    REJECT_KINDS,
    bundle_elements,
    bundle_timetag,
    parse_inputs,
    parse_pointer,
)
from instrument.formats.osc_bundle import IMMEDIATELY, timetag_seconds

# A future time tag moves its messages at most this far ahead of their arrival.
MAX_AHEAD_S = 1.0
# Consecutive messages are at least this far apart in time (1 µs, as recordings keep t).
STEP_S = 1e-6

# --- OSC in ---------------------------------------------------------------------------------

class OscIn:
    """Receives ``/wek/inputs`` pointer messages on a UDP port, in a background thread.

    Every good message calls ``on_pointer(t, x, y)`` at once, from the receiver thread, with
    ``t`` its time on the ``time.perf_counter()`` clock (its packet's arrival; see "Message
    times" above) and ``arrival`` set to the packet's arrival. Everything else is counted in
    ``counts`` by kind (see REJECT_KINDS) and dropped; nothing a sender does can raise here.

    Args:
        port: UDP port (6448 is Wekinator's input port); 0 picks a free port (see ``.port``).
        on_pointer: Called with (t, x, y) for every valid pointer sample.
        normalized: True when senders give x, y in 0..1, False for pixels; only changes
            which values count as absurd (and tells the caller how to scale).
        host: Interface to listen on; "0.0.0.0" (or "::" for IPv6) accepts other machines
            on the network.
        on_values: Stream mode: called with (t, values tuple) for every valid message of
            ``width`` numbers (``on_pointer`` is then not used).
        inputs: Stream mode: the number of values per message; None = the first good one's.
        limit: Stream mode: values beyond ±limit are counted as absurd.

    Attributes:
        width: Stream mode: values per message (None until the first good one).

    Raises:
        BadInput: The port cannot be bound (in use, or privileged).
    """

    def __init__(self, port: int = DEFAULT_IN_PORT, on_pointer: Callable[[float, float, float],
                 None] | None = None, normalized: bool = True, host: str = "127.0.0.1",
                 on_values: Callable[[float, tuple], None] | None = None,
                 inputs: int | None = None, limit: float = 1e9):
        self.host = str(host)
        self.on_values = on_values
        self.width = inputs
        self.value_limit = float(limit)
        self.normalized = bool(normalized)
        self.limits = NORMALIZED_LIMITS if self.normalized else PIXEL_LIMITS
        self.on_pointer = on_pointer
        self.counts = {OK: 0, **{kind: 0 for kind in REJECT_KINDS}}
        self.last_handler_error: str | None = None
        self.arrival = 0.0                   # perf_counter arrival of the packet in hand
        self._last_t = -float("inf")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self._sock.bind((host, int(port)))
        except OSError as err:
            self._sock.close()
            if err.errno == errno.EADDRINUSE:
                raise BadInput(f"OSC input port {port} is already in use (another instrument "
                               "or Wekinator listening?)",
                               "quit that program or pick another port with --osc-in PORT"
                               ) from None
            raise BadInput(f"cannot listen for OSC on {host}:{port} ({err.strerror})",
                           "pick a port above 1023 with --osc-in PORT") from None
        self.port = self._sock.getsockname()[1]
        self._sock.settimeout(0.1)             # lets stop() end the thread promptly
        self._running = False
        self._thread: threading.Thread | None = None

    @property
    def rejected(self) -> int:
        """Packets dropped, all kinds together."""
        return sum(count for kind, count in self.counts.items() if kind != OK)

    def start(self) -> "OscIn":
        """Start the receiver thread (the socket is already bound)."""
        if self._thread is None:
            self._running = True
            self._thread = threading.Thread(target=self._serve, name="osc-in", daemon=True)
            self._thread.start()
        return self

    def handle_datagram(self, dgram: bytes, t: float, wall: float | None = None) -> None:
        """Validate one datagram (message or bundle) and deliver or count it. Never raises.

        Args:
            dgram: The datagram as received.
            t: Its arrival, on the ``time.perf_counter()`` clock.
            wall: ``time.time()`` at its arrival, to read time tags against (default: now,
                corrected by how long ago ``t`` was).
        """
        self.arrival = t
        if wall is None:
            wall = time.time() - (time.perf_counter() - t)
        self._handle(dgram, t, wall, 0)

    def _message_time(self, when: float) -> float:
        self._last_t = max(when, self._last_t + STEP_S)
        return self._last_t

    def _handle(self, dgram: bytes, when: float, wall: float, depth: int) -> None:
        if dgram.startswith(b"#"):
            elements = bundle_elements(dgram) if depth < MAX_BUNDLE_DEPTH else None
            if elements is None:
                self.counts[NOT_OSC] += 1
                return
            tag = bundle_timetag(dgram)
            if tag != IMMEDIATELY:
                ahead = timetag_seconds(tag) - wall
                if ahead > 0:            # a tag in the past plays as if immediate
                    when = self.arrival + min(ahead, MAX_AHEAD_S)
            for element in elements:
                self._handle(element, when, wall, depth + 1)
            return
        if self.on_values is not None:
            kind, values = parse_inputs(dgram, self.width, self.value_limit)
            self.counts[kind] += 1
            if kind == OK:
                if self.width is None:
                    self.width = len(values)    # the first good packet sets the width
                try:
                    self.on_values(self._message_time(when), values)
                except Exception as err:  # noqa: BLE001 - a bad handler must not kill the input
                    self.counts[HANDLER_ERROR] += 1
                    self.last_handler_error = f"{type(err).__name__}: {err}"
            return
        kind, x, y = parse_pointer(dgram, self.limits)
        self.counts[kind] += 1
        if kind == OK and self.on_pointer is not None:
            try:
                self.on_pointer(self._message_time(when), x, y)
            except Exception as err:  # noqa: BLE001 - a bad handler must not kill the input
                self.counts[HANDLER_ERROR] += 1
                self.last_handler_error = f"{type(err).__name__}: {err}"

    def _serve(self) -> None:
        sock = self._sock
        while self._running:
            try:
                dgram = sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                if not self._running:
                    break
                continue                       # e.g. a transient ICMP error: keep listening
            self.handle_datagram(dgram, time.perf_counter(), time.time())

    def stop(self) -> None:
        """Stop the thread and close the socket (idempotent)."""
        self._running = False
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self._sock.close()

    def __enter__(self) -> "OscIn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
