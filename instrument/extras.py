"""Optional parts (pip extras): importing one that is missing is one line naming the extra.

pyo, sounddevice, matplotlib, mido/python-rtmidi and Pillow are extras (pyproject.toml), so a
minimal install works without them. Code that needs one imports it through
:func:`optional_import`, and a user without it reads e.g.
``the training report needs matplotlib, which is not installed; pip install 'instrument[plots]'``
instead of a ModuleNotFoundError traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from instrument.errors import InstrumentError

# Top-level module -> the extra that installs it.
EXTRA_OF = {"pyo": "pyo", "sounddevice": "sounddevice", "matplotlib": "plots", "mido": "midi",
            "rtmidi": "midi", "PIL": "images"}


class MissingExtra(InstrumentError):
    """An optional package is not installed; the fix names the pip extra."""


def optional_import(module: str, purpose: str) -> ModuleType:
    """Import an optional module, or say in one line which extra installs it.

    Args:
        module: The module (e.g. "matplotlib.pyplot"); its top-level package must be one of
            :data:`EXTRA_OF`.
        purpose: What needs it, in the user's words (e.g. "the training report").

    Returns:
        The imported module.

    Raises:
        MissingExtra: The package (or a module it needs) cannot be imported.
    """
    top = module.split(".")[0]
    extra = EXTRA_OF[top]
    try:
        return importlib.import_module(module)
    except ImportError as err:
        missing = (err.name or top).split(".")[0]
        detail = "" if missing == top else f" (it cannot import {missing})"
        raise MissingExtra(f"{purpose} needs {top}, which is not installed{detail}",
                           f"pip install 'instrument[{extra}]' (make setup installs every "
                           "extra)") from None
    except OSError as err:  # e.g. sounddevice without the PortAudio system library
        raise MissingExtra(f"{purpose} needs {top}, which cannot load its system library "
                           f"({err})", "install it (make setup installs libportaudio2 and "
                           "the other system libraries)") from None


def pyplot(purpose: str) -> ModuleType:
    """matplotlib.pyplot with the Agg backend (files only, no display), or MissingExtra."""
    matplotlib = optional_import("matplotlib", purpose)
    matplotlib.use("Agg")
    return optional_import("matplotlib.pyplot", purpose)
