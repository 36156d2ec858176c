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
from instrument.formats.filecheck import regular_file_size

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".au", ".mp3")
MAX_SECONDS = 60.0        # only the first minute of a file is read (a whole album is not a clip)
MAX_CHANNELS = 64
MIN_RATE, MAX_RATE = 8000, 384000
MAX_BYTES = 2 << 30       # 2 GB: larger files are refused before reading
FRAME_SECONDS = 0.1       # frame length (2205 samples at 22050 Hz: a 10 Hz bin width)
N_FRAMES = 16             # frames per file, spread evenly over the part that is read
TOP_HZ = 8000.0           # upper edge of the last band, the same for every sample rate
FEATURES = FeatureConfig(n_bands=64, min_hz=30.0, max_hz=TOP_HZ)
_BLOCK = 65536            # frames per block when a whole file is read


def feature_width() -> int:
    """Width of :func:`audio_features`' vector: mean and std of each band."""
    return 2 * FEATURES.n_bands


def _checked_info(path: str):
    """soundfile's info of ``path`` after the size, rate and channel checks."""
    import soundfile as sf

    # A FIFO in the folder would block soundfile's open for ever, a device read without end.
    size = regular_file_size(path, "audio file", DataFileError,
                             "give audio files, not pipes or devices")
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
    return info


def _mono(block: np.ndarray) -> np.ndarray:
    return block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0]


def _decode_error(path: str, err: BaseException) -> DataFileError:
    return DataFileError(f"audio file {path} cannot be decoded ({_one_line(err)})",
                         "is the file complete? export it again")


def read_audio(path: str | os.PathLike, max_seconds: float = MAX_SECONDS) -> tuple[np.ndarray, int]:
    """The first ``max_seconds`` of an audio file, mixed to mono float32.

    Read in blocks of ``_BLOCK`` frames, so memory is the mono result plus one block, however
    many channels the file has.

    Raises:
        DataFileError: Missing, unreadable, not audio, an unsupported codec (MP3 on an old
            libsndfile), no samples, or a rate/channel count/size beyond the limits.
    """
    import soundfile as sf

    path = os.fspath(path)
    info = _checked_info(path)
    wanted = int(max_seconds * info.samplerate)
    frames = wanted if info.frames <= 0 else min(info.frames, wanted)  # frames<=0: unknown length
    parts = []
    try:
        for block in sf.blocks(path, blocksize=_BLOCK, frames=frames, dtype="float32",
                               always_2d=True):
            parts.append(_mono(block).copy())
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as err:
        raise _decode_error(path, err) from None
    mono = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    _check_samples(path, mono)
    return np.ascontiguousarray(mono), int(info.samplerate)


def _check_samples(path: str, mono: np.ndarray) -> None:
    if len(mono) == 0:
        raise DataFileError(f"audio file {path} holds no samples", "remove it or export it again")
    if not np.isfinite(mono).all():
        raise DataFileError(f"audio file {path} holds NaN or infinite samples",
                            "export it again as 16- or 24-bit audio")


def frame_starts(n_samples: int, frame: int) -> np.ndarray:
    """Where the ``N_FRAMES`` analysis frames of ``frame`` samples start in ``n_samples``."""
    return np.linspace(0, n_samples - frame, N_FRAMES).round().astype(np.int64)


def audio_features(audio: np.ndarray, rate: int) -> np.ndarray:
    """float32[128]: mean and standard deviation of the spectral features of ``N_FRAMES`` frames.

    Args:
        audio: Mono samples (at least one frame long).
        rate: Sample rate in Hz.

    Raises:
        DataFileError: Shorter than one frame (``FRAME_SECONDS``).
    """
    n = int(round(FRAME_SECONDS * rate))
    if len(audio) < n:
        raise DataFileError(f"audio is {len(audio) / rate * 1000:.0f} ms long, shorter than one "
                            f"{FRAME_SECONDS * 1000:.0f} ms analysis frame", "use longer clips")
    return _pool(np.stack([audio[s:s + n] for s in frame_starts(len(audio), n)]), rate)


def _pool(frames: np.ndarray, rate: int) -> np.ndarray:
    from instrument.sound.features import spectral_features

    feats = spectral_features(frames, rate, FEATURES)
    return np.concatenate([feats.mean(axis=0), feats.std(axis=0)]).astype(np.float32)


def file_features(path: str | os.PathLike) -> np.ndarray:
    """:func:`audio_features` of the audio file at ``path``, reading only its frames.

    The frames are sought and read one by one (16 x 0.1 s, whatever the file's length), which
    gives the same vector as :func:`audio_features` of :func:`read_audio`.
    """
    import soundfile as sf

    path = os.fspath(path)
    info = _checked_info(path)
    # Length unknown, or MP3 (libmpg123 seeks return silence at some positions): read the
    # first minute from the start instead.
    if info.frames <= 0 or info.format == "MP3":
        audio, rate = read_audio(path)
        try:
            return audio_features(audio, rate)
        except DataFileError as err:
            raise DataFileError(f"audio file {path}: {err.problem}", err.fix) from None
    rate = int(info.samplerate)
    total = min(info.frames, int(MAX_SECONDS * rate))
    n = int(round(FRAME_SECONDS * rate))
    if total < n:
        raise DataFileError(f"audio file {path} is {total / rate * 1000:.0f} ms long, shorter "
                            f"than one {FRAME_SECONDS * 1000:.0f} ms analysis frame",
                            "use longer clips")
    frames = np.empty((N_FRAMES, n), np.float32)
    try:
        with sf.SoundFile(path) as handle:
            for k, start in enumerate(frame_starts(total, n)):
                handle.seek(int(start))
                block = handle.read(n, dtype="float32", always_2d=True)
                if len(block) < n:
                    raise DataFileError(f"audio file {path} ends early (frame at sample {start} "
                                        "cut short)", "is the file complete? export it again")
                frames[k] = _mono(block)
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as err:
        raise _decode_error(path, err) from None
    _check_samples(path, frames.reshape(-1))
    return _pool(frames, rate)


def _one_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[-1].strip() if lines else type(err).__name__
