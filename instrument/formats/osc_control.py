"""Any OSC message as (address, arguments): what ``instrument serve`` reads (no sockets).

``serve`` takes ``/wek/inputs`` of any width and Wekinator's ``/wekinator/control/*``
messages (some carry strings: ``setInputNames``), so it needs a general parser rather than
the two-float fast path of :func:`instrument.formats.osc.parse_pointer`. Everything is
bounded before it is allocated: the packet size, the argument count, bundle depth. Garbage
returns None (counted by the caller), never raises.

Argument types read: ``i`` ``h`` (ints), ``f`` ``d`` (floats), ``s`` ``S`` (strings), ``T``
``F`` (True/False), ``N`` ``I`` (None), ``b`` (blobs, as bytes).
"""

from __future__ import annotations

import struct

from instrument.formats.osc import MAX_BUNDLE_DEPTH, bundle_elements, read_string

MAX_PACKET = 65_507                    # the largest UDP payload over IPv4
MAX_ARGUMENTS = 4096 + 16              # the widest /wek/inputs (Wekinator's webcam) + slack
_FIXED = {"i": (">i", 4), "f": (">f", 4), "h": (">q", 8), "d": (">d", 8)}
_CONSTANT = {"T": True, "F": False, "N": None, "I": None}


def _string(dgram: bytes, start: int) -> tuple[str, int] | None:
    return read_string(dgram, start, "utf-8")  # string arguments may name inputs in UTF-8


def parse_message(dgram: bytes) -> tuple[str, tuple] | None:
    """One OSC message -> (address, arguments), or None when it is not a well-formed one."""
    if len(dgram) > MAX_PACKET or not dgram.startswith(b"/"):
        return None
    head = _string(dgram, 0)
    if head is None:
        return None
    address, index = head
    if index == len(dgram):
        return address, ()                     # no type tags: an old-style empty message
    tags = _string(dgram, index)
    if tags is None or not tags[0].startswith(","):
        return None
    type_tags, index = tags[0][1:], tags[1]
    if len(type_tags) > MAX_ARGUMENTS:
        return None
    if type_tags and type_tags.count("f") == len(type_tags):
        # The common case, /wek/inputs of N float32s: one unpack instead of N.
        if index + 4 * len(type_tags) != len(dgram):
            return None
        return address, struct.unpack_from(f">{len(type_tags)}f", dgram, index)
    args: list = []
    for tag in type_tags:
        if tag in _FIXED:
            fmt, size = _FIXED[tag]
            if index + size > len(dgram):
                return None
            args.append(struct.unpack_from(fmt, dgram, index)[0])
            index += size
        elif tag in "sS":
            text = _string(dgram, index)
            if text is None:
                return None
            args.append(text[0])
            index = text[1]
        elif tag in _CONSTANT:
            args.append(_CONSTANT[tag])
        elif tag == "b":
            if index + 4 > len(dgram):
                return None
            size = struct.unpack_from(">i", dgram, index)[0]
            index += 4
            if size < 0 or index + size > len(dgram):
                return None
            args.append(bytes(dgram[index:index + size]))
            index += size + (-size % 4)
        else:
            return None                        # a type we do not know: cannot skip it safely
    if index != len(dgram):
        return None
    return address, tuple(args)


def messages(dgram: bytes, depth: int = 0) -> list[tuple[str, tuple]] | None:
    """Every message of a datagram (a bundle's in order), or None when any part is garbage."""
    if dgram.startswith(b"#"):
        elements = bundle_elements(dgram) if depth < MAX_BUNDLE_DEPTH else None
        if elements is None:
            return None
        out: list[tuple[str, tuple]] = []
        for element in elements:
            inner = messages(element, depth + 1)
            if inner is None:
                return None
            out.extend(inner)
        return out
    message = parse_message(dgram)
    return None if message is None else [message]


def encode_reply(address: str, args) -> bytes:
    """A message with string, int and float arguments (serve's ``/instrument/*`` replies)."""
    from instrument.formats.osc import osc_string

    tags, body = ",", []
    for arg in args:
        if isinstance(arg, str):
            tags += "s"
            body.append(osc_string(arg.encode("ascii", "replace").decode("ascii")))
        elif isinstance(arg, bool) or isinstance(arg, int):
            tags += "i"
            body.append(struct.pack(">i", int(arg)))
        else:
            tags += "f"
            body.append(struct.pack(">f", float(arg)))
    return osc_string(address) + osc_string(tags) + b"".join(body)
