"""The control stream CSV (contract, see DESIGN.md): the seam between model and synth.

Header ``t,sound,<param names...>``; ``t`` in seconds of the gesture file, ``sound`` the bank
index, then each parameter in physical units in table order. One row per control frame.
Numbers are written with a fixed format (t: 6 decimals, the file's resolution; parameters:
9 significant digits, exact for float32), so equal streams give equal bytes, live
(:class:`ControlsWriter`) and offline (:func:`write_controls_csv`).
"""

from __future__ import annotations

import io
import os

import numpy as np

from instrument.errors import DataFileError
from instrument.formats.filecheck import open_regular
from instrument.formats.safe_io import AppendingFile, atomic_write


def format_row(t: float, sound: int, params) -> str:
    """One CSV line (no newline) in the contract's fixed number format."""
    return ",".join([f"{float(t):.6f}", str(int(sound))]
                    + [f"{float(v):.9g}" for v in np.asarray(params, np.float32)])


def write_controls_csv(path: str | os.PathLike, times, sounds, params, names) -> None:
    """Write a control stream CSV (header ``t,sound,<names>``, one row per frame)."""
    with atomic_write(path, what="control stream") as handle:
        handle.write(",".join(["t", "sound", *names]) + "\n")
        for t, sound, row in zip(times, sounds, params):
            handle.write(format_row(t, sound, row) + "\n")


def read_controls_csv(path: str | os.PathLike) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Read a control stream CSV -> (param names, times, sounds, params)."""
    path = os.fspath(path)
    raw = open_regular(path, "control stream", DataFileError,  # never a FIFO or a device
                       "give a control stream CSV, not a pipe or a device")
    try:
        with io.TextIOWrapper(raw, encoding="utf-8") as handle:
            header = handle.readline().strip().split(",")
            rows = [line.strip().split(",") for line in handle if line.strip()]
    except OSError as err:
        raise DataFileError(f"cannot read control stream {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise DataFileError(f"control stream {path} is not UTF-8 text",
                            "give the CSV written by render --controls") from None
    if header[:2] != ["t", "sound"]:
        raise DataFileError(f"{path} is not a control stream (header must start with t,sound)")
    try:
        data = np.array(rows, dtype=np.float64).reshape(len(rows), len(header))
    except ValueError:
        raise DataFileError(f"{path}: rows are not {len(header)} numbers each") from None
    return header[2:], data[:, 0], data[:, 1].astype(np.int64), data[:, 2:]


class ControlsWriter:
    """Writes every frame played live to a control stream CSV, in render's exact format.

    Rows go to ``PATH.part`` as they are played (flushed, so a crash keeps them there) and
    the file is moved to ``PATH`` when the performance ends.
    """

    def __init__(self, path: str, names):
        self._file = AppendingFile(path, what="control stream")
        self._file.write_line(",".join(["t", "sound", *names]))

    def write_frame(self, t: float, sound: int, params) -> None:
        self._file.write_line(format_row(t, sound, params))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "ControlsWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
