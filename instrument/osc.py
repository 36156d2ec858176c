"""OSC out (Wekinator's /wek/outputs + named /instrument/*) and OSC in (/wek/inputs).

Parsing and encoding are pure functions over bytes, tested apart from sockets; the two
socket classes only move datagrams. Both sides are built for the stage: a missing receiver
or a garbage packet is counted, never raised, and the next good packet is still answered.

Contracts (DESIGN.md): out to 127.0.0.1:12000 by default, ``/wek/outputs`` with every
synth parameter as float32 in 0..1 in parameter-table order, ``/instrument/params`` with
the same values in physical units, ``/instrument/sound`` with the bank index (int32);
in on UDP 6448, ``/wek/inputs`` with two numbers, pointer x and y.
"""

from __future__ import annotations

import errno
import math
import socket
import struct
import threading
import time
from typing import Callable, Iterable, Sequence

import numpy as np

from instrument.errors import BadInput

DEFAULT_OUT = ("127.0.0.1", 12000)
DEFAULT_IN_PORT = 6448
POINTER_ADDRESS = "/wek/inputs"
OUTPUTS_ADDRESS = "/wek/outputs"
PARAMS_ADDRESS = "/instrument/params"
SOUND_ADDRESS = "/instrument/sound"

# A /wek/inputs message with two doubles is 32 bytes; anything past this is not a pointer.
MAX_POINTER_PACKET = 512
MAX_BUNDLE_DEPTH = 4
# Pointer values beyond these are a broken controller, not a gesture (normalised / pixels).
NORMALIZED_LIMITS = (-1.0, 2.0)
PIXEL_LIMITS = (-100_000.0, 100_000.0)

# Why a packet was rejected; OscIn.counts has one counter per kind (plus OK).
OK = "ok"
NOT_OSC = "not_osc"
WRONG_ADDRESS = "wrong_address"
WRONG_TYPES = "wrong_types"
WRONG_ARITY = "wrong_arity"
NON_FINITE = "non_finite"
TOO_LARGE = "too_large"
ABSURD = "absurd"
HANDLER_ERROR = "handler_error"
REJECT_KINDS = (NOT_OSC, WRONG_ADDRESS, WRONG_TYPES, WRONG_ARITY, NON_FINITE, TOO_LARGE,
                ABSURD, HANDLER_ERROR)

_NUMBER_TAGS = {"f": ">f", "i": ">i", "d": ">d", "h": ">q"}
_TAG_SIZE = {"f": 4, "i": 4, "d": 8, "h": 8}


# --- pure encoding ------------------------------------------------------------------------

def osc_string(text: str) -> bytes:
    """``text`` as an OSC string: ASCII, NUL-terminated, padded to a multiple of 4 bytes."""
    raw = text.encode("ascii") + b"\0"
    return raw + b"\0" * (-len(raw) % 4)


def message_prefix(address: str, type_tags: str) -> bytes:
    """Address and type-tag string of a message; the arguments follow (4-byte aligned)."""
    return osc_string(address) + osc_string("," + type_tags)


def encode_message(address: str, type_tags: str, values: Sequence[float]) -> bytes:
    """One OSC message with numeric arguments (tags f, i, d, h) -- for clients and tests."""
    if len(type_tags) != len(values):
        raise BadInput(f"OSC message {address}: {len(type_tags)} type tags for "
                       f"{len(values)} values")
    body = b"".join(struct.pack(_NUMBER_TAGS[tag], value) for tag, value in zip(type_tags, values))
    return message_prefix(address, type_tags) + body


# --- pure parsing ---------------------------------------------------------------------------

def _read_string(dgram: bytes, start: int) -> tuple[str, int] | None:
    """(string, index after its padding) or None when it is not a valid OSC string."""
    end = dgram.find(b"\0", start)
    if end < 0:
        return None
    stop = start + ((end - start) // 4 + 1) * 4
    if stop > len(dgram):
        return None
    try:
        return dgram[start:end].decode("ascii"), stop
    except UnicodeDecodeError:
        return None


def parse_pointer(dgram: bytes, limits: tuple[float, float] = NORMALIZED_LIMITS
                  ) -> tuple[str, float, float]:
    """Validate one ``/wek/inputs`` message: exactly two finite numbers (f, i, d or h).

    Never raises: garbage gives a reject kind, so a broken controller cannot stop the show.

    Args:
        dgram: The datagram as received (a message, not a bundle).
        limits: (low, high) inclusive range of a sane coordinate; beyond is ABSURD.

    Returns:
        (kind, x, y): kind is OK or one of REJECT_KINDS; x, y are 0.0 unless OK.
    """
    if len(dgram) > MAX_POINTER_PACKET:
        return TOO_LARGE, 0.0, 0.0
    if not dgram.startswith(b"/"):
        return NOT_OSC, 0.0, 0.0
    address = _read_string(dgram, 0)
    if address is None:
        return NOT_OSC, 0.0, 0.0
    if address[0] != POINTER_ADDRESS:
        return WRONG_ADDRESS, 0.0, 0.0
    index = address[1]
    if index == len(dgram):                    # no type tags at all: zero arguments
        return WRONG_ARITY, 0.0, 0.0
    tags = _read_string(dgram, index)
    if tags is None or not tags[0].startswith(","):
        return NOT_OSC, 0.0, 0.0
    type_tags, index = tags[0][1:], tags[1]
    if len(type_tags) != 2:
        return WRONG_ARITY, 0.0, 0.0
    if any(tag not in _NUMBER_TAGS for tag in type_tags):
        return WRONG_TYPES, 0.0, 0.0
    values = []
    for tag in type_tags:
        size = _TAG_SIZE[tag]
        if index + size > len(dgram):
            return NOT_OSC, 0.0, 0.0           # truncated arguments
        values.append(float(struct.unpack_from(_NUMBER_TAGS[tag], dgram, index)[0]))
        index += size
    if index != len(dgram):
        return NOT_OSC, 0.0, 0.0               # trailing bytes: not a well-formed message
    x, y = values
    if not (math.isfinite(x) and math.isfinite(y)):
        return NON_FINITE, 0.0, 0.0
    low, high = limits
    if not (low <= x <= high and low <= y <= high):
        return ABSURD, 0.0, 0.0
    return OK, x, y


def bundle_elements(dgram: bytes) -> list[bytes] | None:
    """The element datagrams of an OSC bundle, or None when it is malformed."""
    if not dgram.startswith(b"#bundle\0") or len(dgram) < 16:
        return None
    elements, index = [], 16                   # 8-byte "#bundle\0" + 8-byte time tag
    while index < len(dgram):
        if index + 4 > len(dgram):
            return None
        size = struct.unpack_from(">i", dgram, index)[0]
        index += 4
        if size <= 0 or size % 4 or index + size > len(dgram):
            return None
        elements.append(dgram[index:index + size])
        index += size
    return elements


# --- OSC out --------------------------------------------------------------------------------

class _FrameMessage:
    """A pre-built message whose float arguments are rewritten in place for every frame."""

    def __init__(self, address: str, n_floats: int):
        prefix = message_prefix(address, "f" * n_floats)
        self.buffer = bytearray(prefix + b"\0" * (4 * n_floats))
        # A big-endian float32 view onto the argument bytes: assigning to it encodes.
        self.values = np.frombuffer(self.buffer, dtype=">f4", count=n_floats, offset=len(prefix))


class OscOut:
    """Sends each control frame to one or more OSC receivers (Pd, SuperCollider, Max, ...).

    Every frame is three UDP packets per target: /wek/outputs (0..1, table order),
    /instrument/params (physical units) and /instrument/sound (bank index). Sockets are
    connected and non-blocking: a missing receiver (ECONNREFUSED after the kernel got an
    ICMP port-unreachable) or a full send buffer is counted in ``errors``, never raised.

    Args:
        targets: (host, port) pairs; hosts are resolved once, here.
        table: The parameter table (anything with ``names``) fixing the argument count.

    Raises:
        BadInput: A host cannot be resolved or a port is out of range.
    """

    def __init__(self, targets: Iterable[tuple[str, int]], table):
        self.targets = [(str(host), int(port)) for host, port in targets]
        if not self.targets:
            raise BadInput("no OSC target given", "give at least one HOST:PORT, e.g. "
                           "127.0.0.1:12000")
        n = len(table.names)
        self._outputs = _FrameMessage(OUTPUTS_ADDRESS, n)
        self._params = _FrameMessage(PARAMS_ADDRESS, n)
        self._sound = bytearray(message_prefix(SOUND_ADDRESS, "i") + b"\0" * 4)
        self._sound_offset = len(self._sound) - 4
        self._unit = np.zeros(n, dtype=np.float32)
        self.frames = 0
        self.packets = 0
        self.errors = {"refused": 0, "busy": 0, "other": 0}
        self.errors_by_target = [0] * len(self.targets)
        self._sockets = [self._connect(host, port) for host, port in self.targets]

    @staticmethod
    def _connect(host: str, port: int) -> socket.socket:
        if not 1 <= port <= 65535:
            raise BadInput(f"OSC port {port} is not in 1..65535", "use e.g. 127.0.0.1:12000")
        try:
            address = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)[0][4]
        except (socket.gaierror, UnicodeError) as err:
            raise BadInput(f"cannot resolve OSC host {host!r} ({err})",
                           "use an IP address or a known host name, e.g. 127.0.0.1") from None
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        # Connected UDP: the kernel reports a missing receiver as ECONNREFUSED on a later send.
        sock.connect(address)
        return sock

    def send_frame(self, sound_index: int, params_unit, params_physical) -> int:
        """Send one control frame to every target.

        Args:
            sound_index: Bank index of the sound playing.
            params_unit: Parameters in 0..1 (clipped to 0..1 on the way out), table order.
            params_physical: The same parameters in physical units.

        Returns:
            Number of packets that failed (0 when every receiver got everything).
        """
        np.clip(params_unit, 0.0, 1.0, out=self._unit)
        self._outputs.values[:] = self._unit
        self._params.values[:] = params_physical
        struct.pack_into(">i", self._sound, self._sound_offset, int(sound_index))
        failed = 0
        for number, sock in enumerate(self._sockets):
            for packet in (self._outputs.buffer, self._params.buffer, self._sound):
                try:
                    sock.send(packet)
                    self.packets += 1
                except OSError as err:
                    failed += 1
                    self.errors_by_target[number] += 1
                    if err.errno == errno.ECONNREFUSED:
                        self.errors["refused"] += 1
                    elif err.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS):
                        self.errors["busy"] += 1
                    else:
                        self.errors["other"] += 1
        self.frames += 1
        return failed

    @property
    def error_count(self) -> int:
        """Packets not sent, all kinds together."""
        return sum(self.errors.values())

    def close(self) -> None:
        """Close every socket (idempotent)."""
        for sock in self._sockets:
            sock.close()

    def __enter__(self) -> "OscOut":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- OSC in ---------------------------------------------------------------------------------

class OscIn:
    """Receives ``/wek/inputs`` pointer messages on a UDP port, in a background thread.

    Every good message calls ``on_pointer(t, x, y)`` at once, from the receiver thread, with
    ``t`` the ``time.perf_counter()`` when the packet arrived. Everything else is counted in
    ``counts`` by kind (see REJECT_KINDS) and dropped; nothing a sender does can raise here.

    Args:
        port: UDP port (6448 is Wekinator's input port); 0 picks a free port (see ``.port``).
        on_pointer: Called with (t, x, y) for every valid pointer sample.
        normalized: True when senders give x, y in 0..1, False for pixels; only changes
            which values count as absurd (and tells the caller how to scale).
        host: Interface to listen on; "0.0.0.0" accepts other machines on the network.

    Raises:
        BadInput: The port cannot be bound (in use, or privileged).
    """

    def __init__(self, port: int = DEFAULT_IN_PORT, on_pointer: Callable[[float, float, float],
                 None] | None = None, normalized: bool = True, host: str = "0.0.0.0"):
        self.normalized = bool(normalized)
        self.limits = NORMALIZED_LIMITS if self.normalized else PIXEL_LIMITS
        self.on_pointer = on_pointer
        self.counts = {OK: 0, **{kind: 0 for kind in REJECT_KINDS}}
        self.last_handler_error: str | None = None
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
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

    def handle_datagram(self, dgram: bytes, t: float, depth: int = 0) -> None:
        """Validate one datagram (message or bundle) and deliver or count it. Never raises."""
        if dgram.startswith(b"#"):
            elements = bundle_elements(dgram) if depth < MAX_BUNDLE_DEPTH else None
            if elements is None:
                self.counts[NOT_OSC] += 1
                return
            for element in elements:
                self.handle_datagram(element, t, depth + 1)
            return
        kind, x, y = parse_pointer(dgram, self.limits)
        self.counts[kind] += 1
        if kind == OK and self.on_pointer is not None:
            try:
                self.on_pointer(t, x, y)
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
            self.handle_datagram(dgram, time.perf_counter())

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
