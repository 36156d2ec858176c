"""Audio files -> one feature vector each: spectral features of several frames, pooled.

Files are read with soundfile (libsndfile: WAV, FLAC, OGG/Vorbis, AIFF, AU (GTZAN's format), and MP3 with
libsndfile >= 1.1). Each file is mixed to mono and described by ``N_FRAMES`` frames of
``FRAME_SECONDS`` spread evenly over its first ``MAX_SECONDS`` seconds. Every frame gets the
instrument's spectral features (:mod:`instrument.sound.features`: Hann-windowed single-sided
FFT, 64 log-spaced bands from 30 Hz to ``TOP_HZ``, 0..1 over 80 dB); the file's vector is the
mean and the standard deviation of the frames, band by band (128 values). The mean says
which bands sound, the spread how much they change over time (a drum hit versus a held
chord). The band edges are in Hz, so files of different sample rates give comparable vectors.
"""

from __future__ import annotations

import os

import numpy as np

from instrument.config import FeatureConfig
from instrument.errors import DataFileError

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".au", ".mp3")
MAX_SECONDS = 60.0        # only the first minute of a file is read (a whole album is not a clip)
MAX_CHANNELS = 64
MIN_RATE, MAX_RATE = 8000, 384000
MAX_BYTES = 2 << 30       # 2 GB: larger files are refused before reading
FRAME_SECONDS = 0.1       # frame length (2205 samples at 22050 Hz: a 10 Hz bin width)
N_FRAMES = 16             # frames per file, spread evenly over the part that is read
TOP_HZ = 8000.0           # upper edge of the last band, the same for every sample rate
FEATURES = FeatureConfig(n_bands=64, min_hz=30.0, max_hz=TOP_HZ)


def feature_width() -> int:
    """Width of :func:`audio_features`' vector: mean and std of each band."""
    return 2 * FEATURES.n_bands


def read_audio(path: str | os.PathLike, max_seconds: float = MAX_SECONDS) -> tuple[np.ndarray, int]:
    """The first ``max_seconds`` of an audio file, mixed to mono float32.

    Raises:
        DataFileError: Missing, unreadable, not audio, an unsupported codec (MP3 on an old
            libsndfile), no samples, or a rate/channel count/size beyond the limits.
    """
    import soundfile as sf

    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
    except OSError as err:
        raise DataFileError(f"audio file {path} cannot be read ({err.strerror})",
                            "check the path and the file's permissions") from None
    if size > MAX_BYTES:
        raise DataFileError(f"audio file {path} is {size / 2**30:.1f} GB, more than the "
                            f"{MAX_BYTES / 2**30:.0f} GB limit", "cut it into shorter clips")
    try:
        info = sf.info(path)
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        hint = ("this libsndfile cannot decode MP3 (it needs libsndfile >= 1.1); convert it to "
                "WAV or FLAC" if path.lower().endswith(".mp3") else
                "give WAV, FLAC, OGG or AIFF audio (is the file complete?)")
        raise DataFileError(f"audio file {path} cannot be decoded ({_one_line(err)})", hint) from None
    if not MIN_RATE <= info.samplerate <= MAX_RATE:
        raise DataFileError(f"audio file {path} has sample rate {info.samplerate} Hz",
                            f"use a rate in {MIN_RATE}..{MAX_RATE} Hz")
    if not 1 <= info.channels <= MAX_CHANNELS:
        raise DataFileError(f"audio file {path} has {info.channels} channels",
                            f"use 1..{MAX_CHANNELS} channels")
    wanted = int(max_seconds * info.samplerate)
    frames = wanted if info.frames <= 0 else min(info.frames, wanted)  # frames<=0: unknown length
    try:
        data, rate = sf.read(path, frames=frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as err:
        raise DataFileError(f"audio file {path} cannot be decoded ({_one_line(err)})",
                            "is the file complete? export it again") from None
    if len(data) == 0:
        raise DataFileError(f"audio file {path} holds no samples", "remove it or export it again")
    mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    if not np.isfinite(mono).all():
        raise DataFileError(f"audio file {path} holds NaN or infinite samples",
                            "export it again as 16- or 24-bit audio")
    return np.ascontiguousarray(mono), int(rate)


def audio_features(audio: np.ndarray, rate: int) -> np.ndarray:
    """float32[128]: mean and standard deviation of the spectral features of ``N_FRAMES`` frames.

    Args:
        audio: Mono samples (at least one frame long).
        rate: Sample rate in Hz.

    Raises:
        DataFileError: Shorter than one frame (``FRAME_SECONDS``).
    """
    from instrument.sound.features import spectral_features

    n = int(round(FRAME_SECONDS * rate))
    if len(audio) < n:
        raise DataFileError(f"audio is {len(audio) / rate * 1000:.0f} ms long, shorter than one "
                            f"{FRAME_SECONDS * 1000:.0f} ms analysis frame", "use longer clips")
    starts = np.linspace(0, len(audio) - n, N_FRAMES).round().astype(np.int64)
    frames = np.stack([audio[s:s + n] for s in starts])
    feats = spectral_features(frames, rate, FEATURES)
    return np.concatenate([feats.mean(axis=0), feats.std(axis=0)]).astype(np.float32)


def file_features(path: str | os.PathLike) -> np.ndarray:
    """:func:`audio_features` of the audio file at ``path`` (see :func:`read_audio`)."""
    audio, rate = read_audio(path)
    try:
        return audio_features(audio, rate)
    except DataFileError as err:
        raise DataFileError(f"audio file {os.fspath(path)}: {err.problem}", err.fix) from None


def _one_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[-1].strip() if lines else type(err).__name__
