"""Reading the user's audio files: checked, mono, at the bank rate, streamed in blocks.

Files are read with soundfile (libsndfile: WAV, FLAC, OGG/Vorbis, AIFF, and MP3 with
libsndfile 1.1 or newer), mixed to mono (the mean of the channels) and resampled to the bank
rate with ``scipy.signal.resample_poly``. Nothing holds a whole file: :func:`mono_blocks`
yields blocks of a few seconds, resampled with enough context on both sides that the blocks
put together equal ``resample_poly`` of the whole file (to float rounding), so an hour of
audio costs a few MB. Blocks of digital silence skip the filter (their output is silence).

A file that cannot be used raises :class:`~instrument.errors.DataFileError` with one line
saying which file and why (not audio, corrupt, empty, unsupported format such as MP3 on an
old libsndfile).
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from instrument.errors import DataFileError

AUDIO_EXTENSIONS = (".wav", ".wave", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff",
                    ".aifc", ".caf", ".w64", ".rf64", ".au", ".snd")
MAX_CHANNELS = 64
MAX_RATE = 768000
BLOCK_SECONDS = 4.0


@dataclass(frozen=True)
class FileIdentity:
    """What names one source file for good: where it is, its size and content hash."""

    path: str
    size: int
    sha256: str

    def to_dict(self) -> dict:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


def file_sha256(path: str) -> str:
    """Hex sha256 of a file's bytes, read in 1 MB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_audio_files(inputs: list[str]) -> list[str]:
    """Audio files named by ``inputs`` (files, or folders searched recursively), sorted.

    Raises:
        DataFileError: an input does not exist, or no audio file was found at all.
    """
    found: list[str] = []
    for item in inputs:
        if os.path.isdir(item):
            for root, dirs, files in os.walk(item):
                dirs.sort()
                found.extend(os.path.join(root, f) for f in sorted(files)
                             if f.lower().endswith(AUDIO_EXTENSIONS) and not f.startswith("."))
        elif os.path.isfile(item):
            found.append(item)
        else:
            raise DataFileError(f"audio input {item} does not exist",
                                "give audio files or folders of them")
    if not found:
        raise DataFileError(f"no audio files in {', '.join(inputs)}",
                            f"use files ending in {', '.join(AUDIO_EXTENSIONS[:6])}, ...")
    return list(dict.fromkeys(os.path.abspath(f) for f in found))


@dataclass(frozen=True)
class AudioInfo:
    """A readable audio file: its rate, channels and length in its own and the bank's rate."""

    path: str
    rate: int
    channels: int
    frames: int
    bank_rate: int

    @property
    def bank_frames(self) -> int:
        """Length once resampled to the bank rate: ceil(frames * bank_rate / rate)."""
        up, down = _ratio(self.rate, self.bank_rate)
        return -(-self.frames * up // down)

    @property
    def seconds(self) -> float:
        return self.frames / self.rate


def _ratio(src: int, dst: int) -> tuple[int, int]:
    g = math.gcd(src, dst)
    return dst // g, src // g


def open_audio(path: str, bank_rate: int) -> AudioInfo:
    """Check that ``path`` is an audio file soundfile can read, with sane rate and channels.

    Raises:
        DataFileError: one line naming the file and what is wrong with it.
    """
    import soundfile as sf

    if os.path.getsize(path) == 0:
        raise DataFileError(f"audio file {path} is empty (0 bytes)")
    try:
        info = sf.info(path)
    except Exception as err:  # noqa: BLE001 - libsndfile's errors are RuntimeError/TypeError
        text = str(err).splitlines()[0] if str(err) else type(err).__name__
        if path.lower().endswith(".mp3") and "MP3" not in sf.available_formats():
            raise DataFileError(f"audio file {path}: this libsndfile "
                                f"({sf.__libsndfile_version__}) cannot read MP3",
                                "convert it to WAV or FLAC, or install libsndfile >= 1.1") from None
        raise DataFileError(f"audio file {path} cannot be read ({text})",
                            "check it plays elsewhere, or convert it to WAV or FLAC") from None
    if not 1 <= info.channels <= MAX_CHANNELS:
        raise DataFileError(f"audio file {path} has {info.channels} channels "
                            f"(1..{MAX_CHANNELS} are read)")
    if not 1000 <= info.samplerate <= MAX_RATE:
        raise DataFileError(f"audio file {path} has sample rate {info.samplerate} Hz "
                            f"(1000..{MAX_RATE} Hz are read)")
    if info.frames <= 0:
        raise DataFileError(f"audio file {path} holds no samples")
    return AudioInfo(path, int(info.samplerate), int(info.channels), int(info.frames),
                     int(bank_rate))


def _filter_margin(up: int, down: int) -> int:
    """Input samples of context that make a block's resampled middle exact (a multiple of
    ``down``): resample_poly's default Kaiser filter has 10 * max(up, down) taps per side at
    the upsampled rate."""
    half = 10 * max(up, down)
    need = -(-half // up) + 2
    return -(-need // down) * down


def mono_blocks(info: AudioInfo, block_seconds: float = BLOCK_SECONDS
                ) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (bank-rate offset, float32 mono block at the bank rate) over the whole file.

    The blocks are contiguous and together ``info.bank_frames`` long.

    Raises:
        DataFileError: the file stops being readable part way (corrupt data).
    """
    import soundfile as sf
    from scipy.signal import resample_poly

    up, down = _ratio(info.rate, info.bank_rate)
    same = up == down == 1
    block = max(down, int(block_seconds * info.rate) // down * down)
    margin = 0 if same else _filter_margin(up, down)
    pending = np.zeros(margin, np.float32)  # left context before the file: silence
    offset = 0
    try:
        with sf.SoundFile(info.path) as handle:
            while True:
                data = handle.read(block, dtype="float32", always_2d=True)
                done = len(data) < block
                if len(data):
                    mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
                    if not np.isfinite(mono).all():
                        mono = np.nan_to_num(mono, nan=0.0, posinf=0.0, neginf=0.0)
                    if same:
                        if len(mono):
                            yield offset, np.ascontiguousarray(mono)
                            offset += len(mono)
                        if done:
                            return
                        continue
                    pending = np.concatenate([pending, mono])
                while len(pending) >= 2 * margin + block or (done and len(pending) > margin):
                    middle = min(block, len(pending) - margin)
                    chunk = pending[:margin + middle + margin]
                    if len(chunk) < 2 * margin + middle:
                        chunk = np.pad(chunk, (0, 2 * margin + middle - len(chunk)))
                    n_out = -(-middle * up // down)
                    skip = margin * up // down
                    if not chunk.any():
                        out = np.zeros(n_out, np.float32)
                    else:
                        pad = (-len(chunk)) % down  # whole output samples per chunk
                        full = resample_poly(np.pad(chunk, (0, pad)), up, down)
                        out = full[skip:skip + n_out].astype(np.float32)
                    out = out[:max(0, info.bank_frames - offset)]
                    if len(out):
                        yield offset, out
                        offset += len(out)
                    pending = pending[middle:]
                if done:
                    return
    except DataFileError:
        raise
    except Exception as err:  # noqa: BLE001 - libsndfile read errors
        text = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataFileError(f"audio file {info.path} is damaged part way ({text})",
                            "re-export it, or leave it out") from None


def read_span(info: AudioInfo, start: int, length: int) -> np.ndarray:
    """float32 mono samples ``start .. start + length`` (bank rate) of a file, streamed."""
    out = np.zeros(length, np.float32)
    end = start + length
    for offset, block in mono_blocks(info):
        lo, hi = max(start, offset), min(end, offset + len(block))
        if lo < hi:
            out[lo - start:hi - start] = block[lo - offset:hi - offset]
        if offset + len(block) >= end:
            break
    return out
