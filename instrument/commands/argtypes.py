"""argparse ``type=`` validators: bad values become one clear line from the parser (exit 2)."""

from __future__ import annotations

import argparse
import math
import os
import stat


def _number(kind, text: str, low=None, high=None, low_open=False):
    if len(text) > 40:                     # never convert (or echo) a 5000-digit number
        raise argparse.ArgumentTypeError(f"{_shown(text)} is out of range")
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


def _shown(text: str) -> str:
    """The argument as a message quotes it: a 5000-digit number is not echoed whole."""
    return text if len(text) <= 24 else f"{text[:12]}...({len(text)} characters)"


def _whole_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value.is_integer() else None


def int_in(low: int, high: int, unit: str = ""):
    """An argparse type: a whole number in ``low..high`` (bounds every size from outside).

    The message names the allowed range, e.g. ``10000000000 is out of range; use a whole
    number in 20..200000``; a value like ``1e10`` or a 5000-digit number is refused the same
    way, before anything is converted or allocated.
    """
    span = f"{low}..{high}{' ' + unit if unit else ''}"

    def parse(text: str) -> int:
        digits = text.strip().lstrip("+-")
        if len(digits) > 19 and digits.isdigit():
            raise argparse.ArgumentTypeError(f"{_shown(text)} is out of range; use a whole "
                                             f"number in {span}")
        try:
            value = int(text)
        except ValueError:
            value = _whole_float(text)      # 1e3 is a fine way to write 1000
            if value is None:
                raise argparse.ArgumentTypeError(f"{_shown(text)!r} is not a whole number; "
                                                 f"use one in {span}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{_shown(text)} is out of range; use a whole "
                                             f"number in {span}")
        return int(value)

    parse.__name__ = "whole number"
    return parse


def float_in(low: float, high: float, unit: str = "", low_open: bool = False):
    """An argparse type: a finite number in ``low..high`` (``low`` excluded if ``low_open``)."""
    span = f"{'above ' + format(low, 'g') + ' up to ' if low_open else format(low, 'g') + '..'}" \
           f"{high:g}{' ' + unit if unit else ''}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{_shown(text)!r} is not a number; use one "
                                             f"{'' if low_open else 'in '}{span}") from None
        inside = (low < value if low_open else low <= value) and value <= high
        if not math.isfinite(value) or not inside:
            raise argparse.ArgumentTypeError(f"{_shown(text)} is out of range; use a number "
                                             f"{'' if low_open else 'in '}{span}")
        return value

    parse.__name__ = "number"
    return parse


# Bounds shared by several subcommands (see each --help).
SEED = int_in(0, 2**32 - 1)
SAMPLE_RATE = int_in(8000, 192000, "Hz")
# A recording's window side (formats.recording.MAX_WINDOW_PX; not imported: --help stays light).
WINDOW_PX = int_in(1, 100_000, "px")


# The generic types below are a safety net for arguments without their own range (prefer
# int_in / float_in, whose message names the range that makes sense).
_MAX_INT = 2**31 - 1
_MAX_FLOAT = 1e9


def positive_int(text: str) -> int:
    """An integer in 1..2**31-1."""
    return _number(int, text, low=1, high=_MAX_INT)


def nonnegative_int(text: str) -> int:
    """An integer in 0..2**31-1."""
    return _number(int, text, low=0, high=_MAX_INT)


def positive_float(text: str) -> float:
    """A finite float > 0 and <= 1e9."""
    return _number(float, text, low=0.0, high=_MAX_FLOAT, low_open=True)


def nonnegative_float(text: str) -> float:
    """A finite float in 0..1e9."""
    return _number(float, text, low=0.0, high=_MAX_FLOAT)


def finite_float(text: str) -> float:
    """Any finite float."""
    return _number(float, text)


def _kind(mode: int) -> str:
    """What a path that is neither a regular file nor a directory is, in a user's words."""
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _stat(text: str) -> os.stat_result | None:
    """The path's status (links followed; nothing is opened, so a FIFO cannot block), or
    None when there is nothing there. A path that cannot be looked at is one line too."""
    try:
        return os.stat(text)
    except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: a NUL byte
        return None
    except OSError as err:                  # no permission on a parent, a name too long, ...
        raise argparse.ArgumentTypeError(
            f"{_shown(text)!r} cannot be used as a path ({getattr(err, 'strerror', None) or err})"
        ) from None


def existing_file(text: str) -> str:
    """A path to an existing, readable regular file (or a link to one).

    A FIFO, a device or a socket is refused here, in one line: every reader refuses them too,
    but only after the command has started (and a FIFO nobody writes would block an open).
    """
    info = _stat(text)
    if info is None:
        raise argparse.ArgumentTypeError(f"file {text!r} does not exist")
    if stat.S_ISDIR(info.st_mode):
        raise argparse.ArgumentTypeError(f"{text!r} is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise argparse.ArgumentTypeError(f"{text!r} is {_kind(info.st_mode)}, not a regular "
                                         "file; give a file saved on disk")
    if not os.access(text, os.R_OK):
        raise argparse.ArgumentTypeError(f"file {text!r} is not readable")
    return text


def existing_dir(text: str) -> str:
    """A path to an existing directory (a FIFO or a device is said as what it is)."""
    info = _stat(text)
    if info is None:
        raise argparse.ArgumentTypeError(f"directory {text!r} does not exist")
    if stat.S_ISREG(info.st_mode):
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a directory")
    if not stat.S_ISDIR(info.st_mode):
        raise argparse.ArgumentTypeError(f"{text!r} is {_kind(info.st_mode)}, not a directory")
    return text


def model_dir(text: str) -> str:
    """A model bundle directory (from ``instrument train --out DIR``), with a fix for a file."""
    info = _stat(text)
    if info is not None and stat.S_ISREG(info.st_mode):
        parent = os.path.dirname(text) or "."
        hint = (f"; use its folder: --model {parent}"
                if os.path.isfile(os.path.join(parent, "config.json")) else "")
        raise argparse.ArgumentTypeError(
            f"{text!r} is a file, not a model directory; give the folder that 'instrument "
            f"train --out DIR' wrote (it holds config.json){hint}")
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise argparse.ArgumentTypeError(
            f"{text!r} is {_kind(info.st_mode)}, not a model directory; give the folder that "
            "'instrument train --out DIR' wrote")
    if info is None:
        raise argparse.ArgumentTypeError(
            f"model directory {text!r} does not exist; train one with 'instrument train "
            "--out DIR' or use models/default")
    return text


def _split_host_port(text: str, example: str) -> tuple[str, str]:
    """(host, port text) of ``HOST:PORT``, ``[IPV6]:PORT`` or a bare ``IPV6:PORT``."""
    import ipaddress

    if text.startswith("["):
        host, close, rest = text[1:].partition("]")
        if not close or not rest.startswith(":") or not host:
            raise argparse.ArgumentTypeError(f"{text!r} is not [IPV6]:PORT (e.g. [::1]:{example})")
        port = rest[1:]
    else:
        host, sep, port = text.rpartition(":")
        if not sep or not host:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:{example})")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{host!r} in {text!r} is not an IPv6 address; write one in brackets, e.g. "
                f"[::1]:{example}") from None
    return host, port


def _port(port: str, text: str) -> int:
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port {port!r} in {text!r} is not a number") from None
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"port {number} in {text!r} is not in 1..65535")
    return number


def host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (e.g. 127.0.0.1:12000; IPv6 as [::1]:12000 or ::1:12000) -> (host, port)."""
    host, port = _split_host_port(text, "12000")
    return host, _port(port, text)


def listen_address(text: str) -> tuple[str, int]:
    """``PORT`` (on 127.0.0.1: this machine only) or ``HOST:PORT`` (0.0.0.0:6448 for the
    network, [::]:6448 for IPv6) -> (host, port)."""
    if text.isdigit():
        return "127.0.0.1", _port(text, text)
    host, port = _split_host_port(text, "6448")
    return host, _port(port, text)


def udp_port(text: str) -> int:
    """A UDP port number 1..65535."""
    return _number(int, text, low=1, high=65535)
