"""The channels of an input stream: what each number of a sample is.

A recording (version 2) and every live source declare their channels, in order. A channel
has a ``name`` (unique in the stream, e.g. ``"x"``, ``"cc1"``, ``"accel_x"``), a ``kind``,
a ``unit`` (free text, may be empty) and an optional ``range`` (low, high) in that unit:

- ``"position"``: a pointer coordinate in pixels (``x``, ``y`` of a mouse or tablet; the
  stream is then a *pointer* stream and plays through the paper's relative polar steps);
- ``"pressure"``: pen or touch pressure 0..1 (may be missing in a sample: the device did
  not report it);
- ``"value"``: an absolute sensor or controller value (OSC input, MIDI CC, note velocity,
  aftertouch, gamepad axis, accelerometer...);
- ``"button"``: a button state (0/1, or a bit mask for the pointer's ``buttons``); it
  changes at its sample's time and is never interpolated.

Version-1 recordings have no declared channels: they read as ``x``, ``y`` (+ ``pressure``,
``buttons`` when present), see :func:`pointer_channels`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from instrument.errors import BadInput

POSITION, PRESSURE, VALUE, BUTTON = "position", "pressure", "value", "button"
KINDS = (POSITION, PRESSURE, VALUE, BUTTON)
MAX_CHANNELS = 4096          # Wekinator's widest examples send 4096 webcam features
MAX_NAME = 64
MAX_UNIT = 32


@dataclass(frozen=True)
class Channel:
    """One number of every sample of a stream.

    Attributes:
        name: Unique within the stream (1..64 printable characters).
        kind: One of KINDS.
        unit: Free text ("px", "g", "midi", ""...).
        low, high: The declared range, or None when unknown.
    """

    name: str
    kind: str = VALUE
    unit: str = ""
    low: float | None = None
    high: float | None = None

    def to_dict(self) -> dict:
        """The JSON object written in a recording header (and a model bundle)."""
        out = {"name": self.name, "kind": self.kind, "unit": self.unit}
        if self.low is not None and self.high is not None:
            out["range"] = [self.low, self.high]
        return out


def _number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def channel_from_dict(obj, where: str) -> Channel:
    """A validated Channel from its JSON object; BadInput naming ``where`` otherwise."""
    if not isinstance(obj, dict):
        raise BadInput(f"{where}: a channel must be an object like "
                       '{"name": "x", "kind": "position", "unit": "px"}')
    name, kind, unit = obj.get("name"), obj.get("kind", VALUE), obj.get("unit", "")
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME or not name.isprintable():
        raise BadInput(f"{where}: channel name {name!r} must be 1..{MAX_NAME} printable "
                       "characters")
    if kind not in KINDS:
        raise BadInput(f"{where}: channel {name!r} has kind {kind!r}",
                       f"use one of {', '.join(KINDS)}")
    if not isinstance(unit, str) or len(unit) > MAX_UNIT:
        raise BadInput(f"{where}: channel {name!r} unit must be text of at most {MAX_UNIT} "
                       "characters")
    low = high = None
    if obj.get("range") is not None:
        span = obj["range"]
        if (not isinstance(span, list) or len(span) != 2 or not all(map(_number, span))
                or not span[0] < span[1]):
            raise BadInput(f"{where}: channel {name!r} range {span!r} must be [low, high] "
                           "with low < high")
        low, high = float(span[0]), float(span[1])
    return Channel(name, kind, unit, low, high)


def channels_from_list(items, where: str) -> tuple[Channel, ...]:
    """Validated channels of a stream (1..MAX_CHANNELS, unique names)."""
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_CHANNELS:
        count = len(items) if isinstance(items, list) else None
        raise BadInput(f"{where}: channels must be a list of 1..{MAX_CHANNELS} channel "
                       f"objects (got {count if count is not None else type(items).__name__})")
    channels = tuple(channel_from_dict(obj, f"{where} channel {i + 1}")
                     for i, obj in enumerate(items))
    check_channels(channels, where)
    return channels


def check_channels(channels, where: str = "stream") -> None:
    """BadInput when the channels are empty, too many, or have duplicate names."""
    if not 1 <= len(channels) <= MAX_CHANNELS:
        raise BadInput(f"{where}: {len(channels)} channels; a stream has 1..{MAX_CHANNELS}")
    seen = set()
    for ch in channels:
        if ch.name in seen:
            raise BadInput(f"{where}: channel name {ch.name!r} appears twice",
                           "give every channel its own name")
        seen.add(ch.name)


def pointer_channels(width: float, height: float, pressure: bool = False,
                     buttons: bool = False) -> tuple[Channel, ...]:
    """The channels of a mouse or tablet pointer (what a version-1 recording holds)."""
    out = [Channel("x", POSITION, "px", 0.0, float(width)),
           Channel("y", POSITION, "px", 0.0, float(height))]
    if pressure:
        out.append(Channel("pressure", PRESSURE, "", 0.0, 1.0))
    if buttons:
        out.append(Channel("buttons", BUTTON, "bit mask"))
    return tuple(out)


def pointer_columns(channels) -> tuple[int, int, int | None, int | None] | None:
    """Where a pointer's x, y, pressure and buttons are among ``channels``.

    Returns:
        (x, y, pressure or None, buttons or None) column indices, or None when the stream
        is not a pointer (no ``position`` channels named x and y).
    """
    names = {ch.name: i for i, ch in enumerate(channels)}
    ix, iy = names.get("x"), names.get("y")
    if ix is None or iy is None or channels[ix].kind != POSITION \
            or channels[iy].kind != POSITION:
        return None
    ip = names.get("pressure")
    ib = names.get("buttons")
    return (ix, iy, ip if ip is not None and channels[ip].kind == PRESSURE else None,
            ib if ib is not None and channels[ib].kind == BUTTON else None)


def describe(channels) -> str:
    """A short phrase for messages: "a 2-D pointer (x, y)" or "16 channels (in1..in16)"."""
    if pointer_columns(channels) is not None:
        return "a 2-D pointer (x, y)"
    names = [ch.name for ch in channels]
    shown = ", ".join(names) if len(names) <= 4 else f"{names[0]}..{names[-1]}"
    return f"{len(names)} channel{'s' if len(names) != 1 else ''} ({shown})"
