"""One exception hierarchy for every problem a user can fix.

Each error carries what is wrong and how to fix it; ``str(error)`` is one line with both.
The CLI prints that line on stderr and exits with code 2. Anything that is not an
``InstrumentError`` is a bug in instrument and keeps its traceback (exit code 1).
"""

from __future__ import annotations


class InstrumentError(Exception):
    """A problem with the user's input, files or machine, with a hint on how to fix it.

    Args:
        problem: What is wrong, naming the file, argument or value.
        fix: How to fix it, or None when the problem says it all.
    """

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = " ".join(str(problem).split())
        self.fix = " ".join(str(fix).split()) if fix else None
        super().__init__(self.problem if not self.fix else f"{self.problem}; {self.fix}")


class BadInput(InstrumentError, ValueError):
    """A value (argument, array, parameter, packet) is out of range or malformed."""


class DataFileError(InstrumentError):
    """A data file (recording, sound bank, IDX file) is missing, truncated or malformed."""


class ModelFileError(DataFileError):
    """A model file or bundle is missing, truncated, tampered with or of an unknown version."""


class AudioDeviceError(InstrumentError):
    """No usable audio output (no device, server failed to boot, backend not running)."""


class DeviceError(InstrumentError):
    """A controller (MIDI input port, gamepad) is missing or cannot be opened."""


class DisplayError(InstrumentError):
    """No display to open a window on."""
