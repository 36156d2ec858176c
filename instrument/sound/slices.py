"""The slices of an audio-file bank: which file, where, how long, and how to find them again.

An audio bank (``instrument sounds build --from-audio``) stores per slice the source file
(index into a file list), its start and its length in samples at the bank rate; per file its
path (relative to the bank file's folder, so a folder moved together with its bank still
works), its size in bytes and the sha256 of its bytes. The audio itself is not copied unless
``--embed`` asks (then every slice's samples at the bank rate, float32, ride in the bank and
the model bundle, and the files are not needed to play).

Stored as plain arrays and JSON (no pickle), in the bank ``.npz`` and in the model bundle:

- ``slices``: int64[N, 3] (file index, start, length);
- ``sources``: JSON ``{"rate": Hz, "files": [{"path", "size", "sha256"}, ...]}``;
- ``slice_audio`` float32[total] + ``slice_offsets`` int64[N + 1] when embedded.

:meth:`AudioSources.check` names a moved or changed file in one line (missing, other size,
other content) before anything plays it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from instrument.errors import DataFileError
from instrument.sound.params import Param, ParamTable

MAX_FILES = 1_000_000


def slice_table(n_slices: int) -> ParamTable:
    """The parameter table of an audio bank: one parameter, the slice number.

    An audio bank has no synth parameters; what the control stream, the CSV and OSC
    ``/wek/outputs`` carry is which slice plays (0..N-1; 0..1 in unit space).
    """
    return ParamTable((Param("slice", 0.0, float(max(n_slices - 1, 1)), "lin", "",
                             default=0.0, description="slice of the audio bank that plays"),))


@dataclass
class AudioSources:
    """Where every slice of an audio bank comes from.

    Attributes:
        rate: Bank sample rate (starts and lengths count samples at it).
        files: Per source file {"path" (relative to ``root``), "size", "sha256"}.
        slices: int64[N, 3] file index, start, length.
        root: Folder the relative paths start from (the bank file's folder; not stored).
        audio: Embedded float32 samples of every slice, concatenated, or None.
        offsets: int64[N + 1] where each slice starts in ``audio`` (None unless embedded).
    """

    rate: int
    files: list[dict]
    slices: np.ndarray
    root: str = "."
    audio: np.ndarray | None = None
    offsets: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.slices)

    @property
    def embedded(self) -> bool:
        return self.audio is not None

    def to_json(self) -> str:
        return json.dumps({"rate": int(self.rate), "files": self.files}, sort_keys=True)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays to store (npz entries or a bundle's safetensors)."""
        arrays = {"slices": np.ascontiguousarray(self.slices, np.int64)}
        if self.embedded:
            arrays["slice_audio"] = np.ascontiguousarray(self.audio, np.float32)
            arrays["slice_offsets"] = np.ascontiguousarray(self.offsets, np.int64)
        return arrays

    @classmethod
    def from_parts(cls, sources_json: str, arrays: dict, n: int, root: str,
                   where: str) -> "AudioSources":
        """Rebuild and validate from stored JSON + arrays (``where`` names the file in errors)."""
        def bad(problem: str):
            return DataFileError(f"{where}: {problem}",
                                 "rebuild the bank with 'instrument sounds build --from-audio'")

        try:
            meta = json.loads(sources_json)
            rate, files = int(meta["rate"]), list(meta["files"])
        except (ValueError, KeyError, TypeError):
            raise bad("the audio sources entry is not valid JSON") from None
        if not 1000 <= rate <= 768000 or len(files) > MAX_FILES:
            raise bad("the audio sources entry is out of range")
        for f in files:
            if not (isinstance(f, dict) and isinstance(f.get("path"), str)
                    and isinstance(f.get("size"), int) and isinstance(f.get("sha256"), str)
                    and len(f["sha256"]) == 64):
                raise bad("an audio source entry lacks path, size or sha256")
        slices = arrays.get("slices")
        if slices is None or slices.dtype != np.int64 or slices.shape != (n, 3):
            raise bad(f"slices must be int64 [{n}, 3]")
        if n and (slices[:, 0].min() < 0 or slices[:, 0].max() >= len(files)
                  or slices[:, 1].min() < 0 or slices[:, 2].min() < 1):
            raise bad("slices point outside their files")
        audio, offsets = arrays.get("slice_audio"), arrays.get("slice_offsets")
        if (audio is None) != (offsets is None):
            raise bad("embedded audio needs both slice_audio and slice_offsets")
        if audio is not None:
            if audio.dtype != np.float32 or audio.ndim != 1 or offsets.dtype != np.int64 \
                    or offsets.shape != (n + 1,) or offsets[0] != 0 \
                    or offsets[-1] != len(audio) or np.any(np.diff(offsets) != slices[:, 2]):
                raise bad("embedded slice audio does not match the slices")
            if not np.isfinite(audio).all():
                raise bad("embedded slice audio has NaN or infinite values")
        return cls(rate, files, slices, root, audio, offsets)

    def file_path(self, index: int) -> str:
        """Absolute path of source file ``index``."""
        path = self.files[index]["path"]
        return path if os.path.isabs(path) else os.path.normpath(os.path.join(self.root, path))

    def check(self, full: bool = False) -> None:
        """Every source file is where it was, with the same size (and, ``full``, content).

        Nothing to check when the audio is embedded.

        Raises:
            DataFileError: naming the first moved, missing or changed file.
        """
        if self.embedded:
            return
        from instrument.sound.audio_files import file_sha256

        used = np.unique(self.slices[:, 0]) if len(self.slices) else []
        for i in used:
            entry, path = self.files[int(i)], self.file_path(int(i))
            if not os.path.isfile(path):
                raise DataFileError(f"audio source {path} has moved or been deleted",
                                    "put it back, or rebuild the bank (or build it with "
                                    "--embed to keep the audio inside)")
            size = os.path.getsize(path)
            if size != entry["size"]:
                raise DataFileError(f"audio source {path} has changed since the bank was built "
                                    f"({size} bytes, was {entry['size']})",
                                    "restore the original, or rebuild the bank")
            if full and file_sha256(path) != entry["sha256"]:
                raise DataFileError(f"audio source {path} has changed since the bank was built "
                                    "(its content hash differs)",
                                    "restore the original, or rebuild the bank")

    def slice_audio(self, index: int) -> np.ndarray:
        """float32 mono samples of slice ``index`` at the bank rate."""
        if self.embedded:
            return self.audio[self.offsets[index]:self.offsets[index + 1]]
        from instrument.sound.audio_files import open_audio, read_span

        f, start, length = (int(v) for v in self.slices[index])
        return read_span(open_audio(self.file_path(f), self.rate), start, length)

    def all_slices(self) -> list[np.ndarray]:
        """Every slice's samples, reading each source file once (for a sampler)."""
        if self.embedded:
            return [self.slice_audio(i) for i in range(len(self))]
        from instrument.sound.audio_files import mono_blocks, open_audio

        out: list[np.ndarray | None] = [None] * len(self)
        for f in np.unique(self.slices[:, 0]):
            rows = np.flatnonzero(self.slices[:, 0] == f)
            for r in rows:
                out[r] = np.zeros(int(self.slices[r, 2]), np.float32)
            ends = self.slices[rows, 1] + self.slices[rows, 2]
            for offset, block in mono_blocks(open_audio(self.file_path(int(f)), self.rate)):
                hi_b = offset + len(block)
                for r, end in zip(rows, ends):
                    start = int(self.slices[r, 1])
                    lo, hi = max(start, offset), min(int(end), hi_b)
                    if lo < hi:
                        out[r][lo - start:hi - start] = block[lo - offset:hi - offset]
                if hi_b >= ends.max():
                    break
        return out
