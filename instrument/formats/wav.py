"""16-bit PCM mono WAV files: what the renders write and the tests read back."""

from __future__ import annotations

import wave

import numpy as np

from instrument.errors import BadInput, DataFileError
from instrument.formats.filecheck import open_regular
from instrument.formats.safe_io import atomic_write

#: RIFF sizes are 32-bit: no WAV is larger.
MAX_WAV_BYTES = 4 << 30


def write_wav(path: str, audio, rate: int) -> None:
    """Write mono audio (float, -1..1; clipped) as a 16-bit PCM WAV, atomically.

    Raises:
        BadInput: ``audio`` is not 1-D.
        DataFileError: The file cannot be written (one line naming it; no file left behind).
    """
    samples = np.asarray(audio, dtype=np.float64)
    if samples.ndim != 1:
        raise BadInput(f"write_wav needs mono 1-D audio, got shape {samples.shape}")
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    # Into a temporary file renamed into place (a full disk leaves no half WAV); wave gets an
    # open handle, so it never half-builds a writer on a path it cannot open.
    with atomic_write(path, binary=True, what="WAV file") as handle:
        with wave.open(handle, "wb") as fh:
            fh.setnchannels(1)
            fh.setsampwidth(2)
            fh.setframerate(int(rate))
            fh.writeframes(pcm.tobytes())


def read_wav(path: str) -> tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV -> (float32 audio of the first channel, rate).

    Only a regular file is opened (never a FIFO, which would block, nor a device, which
    would read without end), of at most RIFF's own 4 GiB.

    Raises:
        DataFileError: One line naming the file: missing, not a regular file, too large, not a
            16-bit PCM WAV, or unreadable.
    """
    handle = open_regular(path, "WAV file", DataFileError,
                          "give a WAV file, not a pipe or a device", max_bytes=MAX_WAV_BYTES)
    try:
        with handle, wave.open(handle, "rb") as fh:
            if fh.getsampwidth() != 2:
                raise DataFileError(f"{path}: only 16-bit PCM WAV is supported")
            rate, channels = fh.getframerate(), fh.getnchannels()
            raw = fh.readframes(fh.getnframes())  # at most what the file holds
    except (OSError, EOFError, wave.Error) as err:
        raise DataFileError(f"cannot read WAV {path}: {err}") from None
    data = np.frombuffer(raw[:len(raw) - len(raw) % (2 * channels)], dtype="<i2")  # whole frames
    return (data.reshape(-1, channels)[:, 0] / 32767.0).astype(np.float32), rate
