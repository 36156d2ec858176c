"""OSC packets as bytes: encoding, parsing, bundles. Pure functions, tested apart from sockets.

The sockets live with the sides that use them: :mod:`instrument.output.osc` (out) and
:mod:`instrument.gesture.osc_in` (in). Both are built for the stage: a missing receiver or a
garbage packet is counted, never raised, and the next good packet is still answered.

Contracts (DESIGN.md): out to 127.0.0.1:12000 by default, ``/wek/outputs`` with every
synth parameter as float32 in 0..1 in parameter-table order, ``/instrument/params`` with
the same values in physical units, ``/instrument/sound`` with the bank index (int32);
in on UDP 6448, ``/wek/inputs`` with two numbers, pointer x and y.
"""

from __future__ import annotations

import math
import struct
from typing import Sequence

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

def read_string(dgram: bytes, start: int, encoding: str = "ascii") -> tuple[str, int] | None:
    """(string, index after its padding) or None when it is not a valid OSC string.

    OSC strings are ASCII (addresses, type tags); ``osc_control`` reads string arguments
    (Wekinator's input names) as UTF-8.
    """
    end = dgram.find(b"\0", start)
    if end < 0:
        return None
    stop = start + ((end - start) // 4 + 1) * 4
    if stop > len(dgram):
        return None
    try:
        return dgram[start:end].decode(encoding), stop
    except UnicodeDecodeError:
        return None


def _numbers(dgram: bytes, index: int, type_tags: str) -> list[float] | None:
    """The numeric arguments (tags already checked to be f/i/d/h) from ``index`` to the end
    of the datagram, or None when they are truncated or followed by trailing bytes."""
    values = []
    for tag in type_tags:
        size = _TAG_SIZE[tag]
        if index + size > len(dgram):
            return None
        values.append(float(struct.unpack_from(_NUMBER_TAGS[tag], dgram, index)[0]))
        index += size
    return values if index == len(dgram) else None


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
    address = read_string(dgram, 0)
    if address is None:
        return NOT_OSC, 0.0, 0.0
    if address[0] != POINTER_ADDRESS:
        return WRONG_ADDRESS, 0.0, 0.0
    index = address[1]
    if index == len(dgram):                    # no type tags at all: zero arguments
        return WRONG_ARITY, 0.0, 0.0
    tags = read_string(dgram, index)
    if tags is None or not tags[0].startswith(","):
        return NOT_OSC, 0.0, 0.0
    type_tags, index = tags[0][1:], tags[1]
    if len(type_tags) != 2:
        return WRONG_ARITY, 0.0, 0.0
    if any(tag not in _NUMBER_TAGS for tag in type_tags):
        return WRONG_TYPES, 0.0, 0.0
    values = _numbers(dgram, index, type_tags)
    if values is None:
        return NOT_OSC, 0.0, 0.0               # truncated or trailing bytes: not well formed
    x, y = values
    if not (math.isfinite(x) and math.isfinite(y)):
        return NON_FINITE, 0.0, 0.0
    low, high = limits
    if not (low <= x <= high and low <= y <= high):
        return ABSURD, 0.0, 0.0
    return OK, x, y


MAX_INPUTS = 4096                        # the widest /wek/inputs accepted (Wekinator's webcam)
MAX_INPUTS_PACKET = 64 + 4 + MAX_INPUTS * 9  # address + tags + 8-byte numbers, padded


def parse_inputs(dgram: bytes, width: int | None = None, limit: float = 1e9
                 ) -> tuple[str, tuple[float, ...] | None]:
    """Validate one ``/wek/inputs`` message of N numbers (f, i, d or h), for N-channel streams.

    Never raises, like :func:`parse_pointer`.

    Args:
        dgram: The datagram (a message, not a bundle).
        width: The expected number of values, or None for any 1..MAX_INPUTS (the caller
            takes the width from the first good packet, as Wekinator does).
        limit: Values beyond ±limit are ABSURD.

    Returns:
        (kind, values): kind OK with the values as floats, or a reject kind and None
        (WRONG_ARITY for another width).
    """
    if len(dgram) > MAX_INPUTS_PACKET:
        return TOO_LARGE, None
    if not dgram.startswith(b"/"):
        return NOT_OSC, None
    address = read_string(dgram, 0)
    if address is None:
        return NOT_OSC, None
    if address[0] != POINTER_ADDRESS:
        return WRONG_ADDRESS, None
    index = address[1]
    if index == len(dgram):
        return WRONG_ARITY, None
    tags = read_string(dgram, index)
    if tags is None or not tags[0].startswith(","):
        return NOT_OSC, None
    type_tags, index = tags[0][1:], tags[1]
    n = len(type_tags)
    if n == 0 or n > MAX_INPUTS or (width is not None and n != width):
        return WRONG_ARITY, None
    if type_tags == "f" * n:                 # the usual case: one unpack for every value
        if index + 4 * n != len(dgram):
            return NOT_OSC, None
        values = struct.unpack_from(f">{n}f", dgram, index)
    else:
        if any(tag not in _NUMBER_TAGS for tag in type_tags):
            return WRONG_TYPES, None
        out = _numbers(dgram, index, type_tags)
        if out is None:
            return NOT_OSC, None
        values = tuple(out)
    if not all(map(math.isfinite, values)):
        return NON_FINITE, None
    if any(v > limit or v < -limit for v in values):
        return ABSURD, None
    return OK, values


def bundle_timetag(dgram: bytes) -> int:
    """The 64-bit NTP time tag of a bundle (check it with :func:`bundle_elements` first);
    1 means "immediately" (``osc_bundle.IMMEDIATELY``)."""
    return struct.unpack_from(">Q", dgram, 8)[0]


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
