"""argparse ``type=`` validators: bad values become one clear line from the parser (exit 2)."""

from __future__ import annotations

import argparse
import math
import os


def _number(kind, text: str, low=None, high=None, low_open=False):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid {kind.__name__}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    if low is not None and (value <= low if low_open else value < low):
        raise argparse.ArgumentTypeError(f"{text} must be {'>' if low_open else '>='} {low}")
    if high is not None and value > high:
        raise argparse.ArgumentTypeError(f"{text} must be <= {high}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    return _number(int, text, low=1)


def nonnegative_int(text: str) -> int:
    """An integer >= 0."""
    return _number(int, text, low=0)


def positive_float(text: str) -> float:
    """A finite float > 0."""
    return _number(float, text, low=0.0, low_open=True)


def nonnegative_float(text: str) -> float:
    """A finite float >= 0."""
    return _number(float, text, low=0.0)


def finite_float(text: str) -> float:
    """Any finite float."""
    return _number(float, text)


def existing_file(text: str) -> str:
    """A path to an existing, readable file."""
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"file {text!r} does not exist")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a directory, not a file")
    if not os.access(text, os.R_OK):
        raise argparse.ArgumentTypeError(f"file {text!r} is not readable")
    return text


def existing_dir(text: str) -> str:
    """A path to an existing directory."""
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"directory {text!r} does not exist")
    return text


def host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (e.g. 127.0.0.1:12000) -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:12000)")
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port {port!r} in {text!r} is not a number") from None
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"port {number} in {text!r} is not in 1..65535")
    return host, number


def udp_port(text: str) -> int:
    """A UDP port number 1..65535."""
    return _number(int, text, low=1, high=65535)
