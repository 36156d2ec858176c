"""OSC bundles as bytes: NTP time tags and a bundle of ready-made messages (no sockets).

A bundle is ``#bundle\\0``, an 8-byte NTP time tag (seconds since 1900 in the high 32 bits,
the fraction in the low 32), then each element as a 4-byte size and its bytes. A receiver
that schedules (SuperCollider, pyo's OscDataReceive with timetags, Max's CNMAT objects)
applies the whole bundle at the time tag; ``IMMEDIATELY`` (1) means "on arrival".
"""

from __future__ import annotations

import struct
from typing import Sequence

NTP_UNIX_OFFSET = 2_208_988_800          # seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix)
IMMEDIATELY = 1
BUNDLE_TAG = b"#bundle\0"


def ntp_timetag(unix_seconds: float) -> int:
    """A Unix time (``time.time()``) as a 64-bit NTP time tag."""
    seconds = float(unix_seconds) + NTP_UNIX_OFFSET
    whole = int(seconds)
    fraction = int((seconds - whole) * (1 << 32))
    return (whole << 32) | min(fraction, 0xFFFFFFFF)


def timetag_seconds(timetag: int) -> float:
    """The Unix time of a 64-bit NTP time tag (inverse of :func:`ntp_timetag`)."""
    return (timetag >> 32) - NTP_UNIX_OFFSET + (timetag & 0xFFFFFFFF) / (1 << 32)


def encode_bundle(timetag: int, messages: Sequence[bytes]) -> bytes:
    """One bundle of already-encoded messages (each a multiple of 4 bytes long)."""
    parts = [BUNDLE_TAG, struct.pack(">Q", timetag)]
    for message in messages:
        parts.append(struct.pack(">i", len(message)))
        parts.append(bytes(message))
    return b"".join(parts)
