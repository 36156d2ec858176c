"""A sound bank from the user's audio files: slices, their spectral features and descriptors.

``build_audio_bank`` reads each file as a stream of mono blocks at the bank rate
(audio_files.py), cuts it into slices (onsets.py: spectral-flux onsets, fixed lengths, or one
slice per file), and describes each slice exactly as the FM bank describes its sounds: the
same spectral features (features.py, settings ``FeatureConfig``) and the perceptual
descriptors (descriptors.py). What is kept per slice is its source file, start and length
(slices.py), not the audio, unless ``embed``.

The features look at the first ``SoundConfig.seconds`` of a slice (the analysis length; 1 s
by default, like an FM bank sound). A shorter slice is analysed over its own length: Hann
window of its length, zero-padded to the analysis length, scaled so that a full-scale sine
still reads 0 dB in its band (the window's sum and noise bandwidth are its own), so short
and long slices of one sound read alike.

Memory is bounded by the block size and the feature batch, not by the hours of audio:
heads of at most ``seconds`` are gathered while the file streams by and described in
batches of ``BATCH`` slices. Slices quieter than ``SILENT_DB`` (peak) are left out; a file
that cannot be read is skipped with a line saying which and why.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from instrument.config import FeatureConfig, SoundConfig
from instrument.errors import BadInput, DataFileError
from instrument.sound.audio_files import AudioInfo, file_sha256, mono_blocks, open_audio
from instrument.sound.bank import SoundBank
from instrument.sound.descriptors import SOUND_DESCRIPTORS, describe_audio
from instrument.sound.features import _POWER_FLOOR, band_edges, feature_dim
from instrument.sound.onsets import SLICE_MODES, SpectralFlux, pick_onsets, plan_slices
from instrument.sound.slices import AudioSources, slice_table

SILENT_DB = -80.0
BATCH = 64
MAX_SLICES = 5_000_000
DEFAULT_MAX_SLICE_SECONDS = 4.0


@dataclass
class BuildReport:
    """What the build did, for the summary line."""

    files_used: int = 0
    skipped: list[str] = field(default_factory=list)
    silent_slices: int = 0
    audio_seconds: float = 0.0


def slice_features(heads: list[np.ndarray], n_samples: int, rate: float,
                   cfg: FeatureConfig) -> np.ndarray:
    """float32[B, F] spectral features of slice heads (each at most ``n_samples`` long).

    A head of the full length gives exactly :func:`features.spectral_features`; a shorter one
    is windowed over its own length and zero-padded (see the module docstring).
    """
    import scipy.fft

    buf = np.zeros((len(heads), n_samples), np.float32)
    enbw = np.empty(len(heads), np.float64)
    for i, head in enumerate(heads):
        length = min(len(head), n_samples)
        if length < 2:
            enbw[i] = 1.0
            continue
        w = 0.5 - 0.5 * np.cos(2 * math.pi * np.arange(length) / length)
        total = w.sum()
        enbw[i] = n_samples * float(np.sum(w ** 2)) / total ** 2
        buf[i, :length] = head[:length] * (w * (2.0 / total)).astype(np.float32)
    power = np.abs(scipy.fft.rfft(buf, axis=1)).astype(np.float32)
    power *= power
    if cfg.kind == "bands":
        edges = band_edges(cfg, n_samples, float(rate))
        if edges[-1] < power.shape[1]:
            power = np.add.reduceat(power, edges, axis=1)[:, :-1]
        else:
            power = np.add.reduceat(power, edges[:-1], axis=1)
        power = power / enbw[:, None].astype(np.float32)
    if cfg.compression == "db":
        feats = np.maximum(power, _POWER_FLOOR)
        np.log10(feats, out=feats)
        feats *= 10.0 / cfg.db_range
        feats += 1.0
        np.clip(feats, 0.0, 1.0, out=feats)
    else:
        feats = np.sqrt(power)
    return feats.astype(np.float32)


def _describe(heads: list[np.ndarray], rate: float) -> np.ndarray:
    """Descriptors of heads of any lengths (grouped by length: describe_audio wants [N, n])."""
    out = np.empty((len(heads), len(SOUND_DESCRIPTORS)), np.float32)
    lengths = np.array([len(h) for h in heads])
    for length in np.unique(lengths):
        rows = np.flatnonzero(lengths == length)
        out[rows] = describe_audio(np.stack([heads[r] for r in rows]), rate)
    return out


def _onsets(info: AudioInfo, tick: Callable[[int], None]) -> np.ndarray:
    flux = SpectralFlux()
    parts = []
    for _, block in mono_blocks(info):
        parts.append(flux.push(block))
        tick(len(block))
    return pick_onsets(np.concatenate(parts) if parts else np.zeros(0), info.bank_rate)


def _heads(info: AudioInfo, plan: list[tuple[int, int]], head_len: int, embed: bool,
           tick: Callable[[int], None]):
    """Yield (slice number, head, full audio or None) in order, streaming the file once."""
    pending: list[tuple[int, int, int, np.ndarray, np.ndarray | None]] = []
    nxt = 0
    for offset, block in mono_blocks(info):
        end_b = offset + len(block)
        while nxt < len(plan) and plan[nxt][0] < end_b:
            start, length = plan[nxt]
            pending.append((nxt, start, length, np.zeros(min(length, head_len), np.float32),
                            np.zeros(length, np.float32) if embed else None))
            nxt += 1
        still = []
        for item in pending:
            k, start, length, head, full = item
            for target in (head, full):
                if target is None:
                    continue
                lo, hi = max(start, offset), min(start + len(target), end_b)
                if lo < hi:
                    target[lo - start:hi - start] = block[lo - offset:hi - offset]
            if start + (length if embed else len(head)) <= end_b:
                yield k, head, full
            else:
                still.append(item)
        pending = still
        tick(len(block))
        if nxt >= len(plan) and not pending:
            break
    for k, _, _, head, full in pending:  # the file ended early (shorter than its header said)
        yield k, head, full


def build_audio_bank(inputs: list[str], out_path: str, sound_cfg: SoundConfig = SoundConfig(),
                     feature_cfg: FeatureConfig = FeatureConfig(), mode: str = "onsets",
                     fixed_seconds: float | None = None,
                     max_slice_seconds: float | None = DEFAULT_MAX_SLICE_SECONDS,
                     embed: bool = False, quiet: bool = True,
                     log: Callable[[str], None] = lambda line: print(line, file=sys.stderr)
                     ) -> tuple[SoundBank, BuildReport]:
    """Slice and describe audio files into a bank (not written here: ``bank.save(out_path)``).

    Args:
        inputs: Audio files and/or folders (searched recursively).
        out_path: Where the bank will be saved: source paths are stored relative to its folder.
        sound_cfg: ``rate`` is the bank rate, ``seconds`` the analysis length;
            ``n_sounds`` and ``seed`` are ignored (the bank's own config records the count).
        feature_cfg: Spectral feature settings (as for the FM bank).
        mode: "onsets", "fixed" (every ``fixed_seconds``) or "whole".
        max_slice_seconds: Longer slices are cut to this length (None: no limit).
        embed: Keep every slice's audio in the bank.
        quiet: No progress bar.
        log: Called with one line per skipped file.

    Raises:
        BadInput: bad settings. DataFileError: no inputs, or no usable slice in any file.
    """
    from instrument.progress import show_progress
    from instrument.sound.audio_files import find_audio_files

    if mode not in SLICE_MODES:
        raise BadInput(f"unknown slicing {mode!r}", "use onsets, fixed:SECONDS or whole")
    if mode == "fixed" and not (fixed_seconds and 0.005 <= fixed_seconds <= 600):
        raise BadInput(f"fixed slice length {fixed_seconds!r} s is out of range",
                       "use fixed:SECONDS with 0.005..600 seconds")
    rate, head_len = int(sound_cfg.rate), int(sound_cfg.n_samples)
    dims = feature_dim(feature_cfg, head_len, rate)
    files = find_audio_files(inputs)
    root = os.path.dirname(os.path.abspath(out_path))
    report = BuildReport()
    infos: list[AudioInfo] = []
    for path in files:
        try:
            infos.append(open_audio(path, rate))
        except (DataFileError, OSError) as err:
            report.skipped.append(path)
            log(f"skipped: {getattr(err, 'problem', None) or err}")
    total = sum(i.bank_frames for i in infos) * (2 if mode == "onsets" else 1)
    bar = None
    if show_progress(quiet) and infos:
        from tqdm import tqdm

        bar = tqdm(total=round(total / rate), desc="audio bank", unit="s", leave=False,
                   dynamic_ncols=True)
    done = [0]

    def tick(samples: int) -> None:
        done[0] += samples
        if bar is not None:
            bar.n = min(bar.total, int(done[0] / rate))
            bar.refresh()

    entries, slice_rows, features, descriptors, embedded = [], [], [], [], []
    try:
        for info in infos:
            try:
                identity = {"path": _relative(info.path, root), "size": os.path.getsize(info.path),
                            "sha256": file_sha256(info.path)}
                onsets = _onsets(info, tick) if mode == "onsets" else None
                plan = plan_slices(info.bank_frames, rate, mode, fixed_seconds, onsets,
                                   max_slice_seconds)
                rows, feats, descs, audio, heads, kept = [], [], [], [], [], []
                for k, head, full in _heads(info, plan, head_len, embed, tick):
                    if float(np.max(np.abs(head), initial=0.0)) < 10 ** (SILENT_DB / 20):
                        report.silent_slices += 1
                        continue
                    heads.append(head)
                    kept.append((k, full))
                    if len(heads) == BATCH:
                        feats.append(slice_features(heads, head_len, rate, feature_cfg))
                        descs.append(_describe(heads, rate))
                        heads = []
                if heads:
                    feats.append(slice_features(heads, head_len, rate, feature_cfg))
                    descs.append(_describe(heads, rate))
            except DataFileError as err:
                report.skipped.append(info.path)
                log(f"skipped: {err.problem}")
                continue
            if not kept:
                report.skipped.append(info.path)
                log(f"skipped: audio file {info.path} has no sound above {SILENT_DB:g} dBFS")
                continue
            f_index = len(entries)
            entries.append(identity)
            for k, full in kept:
                rows.append((f_index, plan[k][0], plan[k][1]))
                if embed:
                    audio.append(full)
            slice_rows.extend(rows)
            features.extend(feats)
            descriptors.extend(descs)
            embedded.extend(audio)
            report.files_used += 1
            report.audio_seconds += info.seconds
            if len(slice_rows) > MAX_SLICES:
                raise BadInput(f"more than {MAX_SLICES} slices", "use longer or fewer slices")
    finally:
        if bar is not None:
            bar.close()
    if not slice_rows:
        raise DataFileError(f"no usable sound in {len(files)} audio file(s)",
                            "check the files play, and are not silent")
    slices = np.asarray(slice_rows, np.int64).reshape(-1, 3)
    n = len(slices)
    offsets = audio_arr = None
    if embed:
        offsets = np.concatenate([[0], np.cumsum(slices[:, 2])]).astype(np.int64)
        audio_arr = np.concatenate(embedded).astype(np.float32)
    sources = AudioSources(rate, entries, slices, root, audio_arr, offsets)
    table = slice_table(n)
    params_unit = table.to_unit(np.arange(n, dtype=np.float64)[:, None]).astype(np.float32)
    cfg = SoundConfig(n_sounds=n, seconds=sound_cfg.seconds, rate=rate, seed=0)
    feats = np.concatenate(features).astype(np.float32)
    assert feats.shape == (n, dims)
    bank = SoundBank(params_unit, feats, cfg, feature_cfg, table,
                     np.concatenate(descriptors).astype(np.float32), kind="audio",
                     sources=sources)
    return bank, report


def _relative(path: str, root: str) -> str:
    try:
        return os.path.relpath(path, root)
    except ValueError:  # another drive (Windows): keep it absolute
        return path
