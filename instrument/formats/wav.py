"""16-bit PCM mono WAV files: what the renders write and the tests read back."""

from __future__ import annotations

import wave

import numpy as np

from instrument.errors import BadInput, DataFileError
from instrument.formats.safe_io import atomic_write


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
    """Read a 16-bit PCM WAV -> (float32 audio of the first channel, rate)."""
    try:
        with wave.open(path, "rb") as fh:
            if fh.getsampwidth() != 2:
                raise DataFileError(f"{path}: only 16-bit PCM WAV is supported")
            rate, channels = fh.getframerate(), fh.getnchannels()
            data = np.frombuffer(fh.readframes(fh.getnframes()), dtype="<i2")
    except (OSError, EOFError, wave.Error) as err:
        raise DataFileError(f"cannot read WAV {path}: {err}") from None
    return (data.reshape(-1, channels)[:, 0] / 32767.0).astype(np.float32), rate
