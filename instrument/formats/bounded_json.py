"""JSON from outside, parsed with bounds: nesting depth and integer length are checked first.

Python's ``json`` recurses once per nesting level (a line of 100000 ``[`` raises
RecursionError) and converts integers of any length (5000 digits raise a ValueError that
tells the user to call ``sys.set_int_max_str_digits()``). Model configs and recording lines
come from outside, so both are bounded here, before anything large is built, and a breach
is a :class:`JsonLimitError` whose text says what is wrong in the user's words.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

# Deeper than any file we write (a model config nests 4 levels) and far below the
# interpreter's recursion limit.
MAX_DEPTH = 64
# Integers we write are counts, seeds, indices and shapes (at most 20 digits: 2**64).
MAX_INT_DIGITS = 20

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class JsonLimitError(ValueError):
    """JSON nested deeper than :data:`MAX_DEPTH` or with an integer longer than allowed."""


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in JSON ``text`` (brackets in strings do not count).

    Linear in the text and without recursion, so it is safe on any input.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`JsonLimitError` when ``text`` nests deeper than ``max_depth``.

    Counting the opening brackets is one fast pass in C; only text with more openers than
    the bound (rare: a model config, an attack) is scanned for its real depth.
    """
    if text.count("[") + text.count("{") <= max_depth:
        return
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JsonLimitError(f"JSON nested {depth} levels deep (at most {max_depth} allowed)")


def _bounded_int(text: str) -> int:
    digits = len(text) - (text[0] == "-")
    if digits > MAX_INT_DIGITS:
        raise JsonLimitError(f"a number with {digits} digits (at most {MAX_INT_DIGITS} allowed)")
    return int(text)


# json.loads(text, parse_int=...) builds a JSONDecoder and its scanner on every call: for a
# recording's 30k sample lines that was 0.2 s of the 0.3 s spent in JSON (a third of a 2 s
# ``train --from``). One decoder, made once, gives the same results (json.loads is
# JSONDecoder(**options).decode after a byte-order-mark check, kept in loads); like json's own
# default decoder it is shared by every caller.
_DECODER = json.JSONDecoder(parse_int=_bounded_int)


def loads(text: str, max_depth: int = MAX_DEPTH,
          parse_constant: Callable[[str], Any] | None = None) -> Any:
    """``json.loads`` with the nesting depth and every integer's length bounded.

    Args:
        text: The JSON text (already decoded).
        max_depth: The deepest nesting allowed.
        parse_constant: Called for NaN/Infinity/-Infinity, as in ``json.loads``.

    Raises:
        JsonLimitError: Too deep, or an integer with more than :data:`MAX_INT_DIGITS` digits.
        json.JSONDecodeError: Not valid JSON.
    """
    check_depth(text, max_depth)
    if parse_constant is None:
        if text.startswith("\ufeff"):  # json.loads's own check, which decode() skips
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return _DECODER.decode(text)
    return json.loads(text, parse_int=_bounded_int, parse_constant=parse_constant)

