"""The sound bank: random FM sounds, their parameters and spectral features (paper §4.2).

``build_sound_bank`` draws parameters uniformly in 0..1 space (so log-scaled parameters are
spread evenly in pitch), renders each sound with :func:`instrument.sound.fm.render_static_into` and
keeps only its features: audio is rendered chunk by chunk on a few threads and dropped, so
memory stays bounded (a few MB per thread) whatever the number of sounds.

A bank file is an ``.npz`` (read with ``allow_pickle=False``) holding the unit parameters, the
features and, as JSON, the sound and feature configs and the parameter table, so a bank alone
says how it was made. Same config and seed -> byte-identical file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from instrument.config import FeatureConfig, SoundConfig, config_from_dict
from instrument.errors import BadInput, DataFileError
from instrument.formats.filecheck import check_format, check_npz_members
from instrument.progress import progress
from instrument.sound.descriptors import SOUND_DESCRIPTORS, describe_audio
from instrument.sound.features import feature_dim, features_from_scratch
from instrument.sound.fm import chunk_rows, default_workers, render_static_into
from instrument.sound.params import PARAM_TABLE, PERFORMANCE_RATE, ParamTable, carson_bandwidth
from instrument.sound.slices import AudioSources

FORMAT = "instrument-sound-bank"
VERSION = 1
_KEYS = {"format", "version", "params_unit", "features", "sound_config", "feature_config",
         "param_table"}
# What made the sounds (recorded in the bank and the model bundle, so perform picks the voice).
BANK_KINDS = ("fm", "audio", "pyo", "pd")
_OPTIONAL = ("kind", "sources", "slices", "slice_audio", "slice_offsets", "synth")


@dataclass
class SoundBank:
    """Sounds of the corpus: parameters (unit space, table order) and features.

    Attributes:
        params_unit: float32[N, P] parameters in 0..1, in parameter-table order.
        features: float32[N, F] spectral features (features.spectral_features).
        sound_config: How the sounds were drawn and rendered.
        feature_config: How the features were computed.
        table: The parameter table the columns follow.
        descriptors: float32[N, 6] what a listener hears of each sound (loudness, pitch,
            centroid, spread, flatness, roughness: sound/descriptors.py), computed from its
            rendered audio; None for an old bank file (see :meth:`ensure_descriptors`).
        kind: What made the sounds: "fm" (the built-in synth), "audio" (slices of the user's
            audio files, see ``sources``), "pyo" or "pd" (the user's synth, see ``synth``).
        sources: For "audio": where each slice comes from (sound/slices.py).
        synth: For "pyo"/"pd": {"path", "size", "sha256"} of the synth file (sound/user_synth.py).
    """

    params_unit: np.ndarray
    features: np.ndarray
    sound_config: SoundConfig
    feature_config: FeatureConfig
    table: ParamTable = PARAM_TABLE
    descriptors: np.ndarray | None = None
    kind: str = "fm"
    sources: "AudioSources | None" = None
    synth: dict | None = None

    def __post_init__(self):
        if self.kind not in BANK_KINDS:
            raise BadInput(f"sound bank kind {self.kind!r} is not one of {BANK_KINDS}")
        n = len(self.params_unit)
        if self.params_unit.ndim != 2 or self.params_unit.shape[1] != len(self.table):
            raise BadInput(f"params_unit must be [N, {len(self.table)}], got "
                           f"{self.params_unit.shape}")
        if self.features.ndim != 2 or len(self.features) != n:
            raise BadInput(f"features must be [{n}, F], got {self.features.shape}")

    def __len__(self) -> int:
        return len(self.params_unit)

    def ensure_descriptors(self) -> np.ndarray:
        """The sound descriptors, rendered and computed now for a bank stored without them."""
        if self.descriptors is None:
            from instrument.sound.descriptors import describe_params

            physical = self.table.clip_physical(self.table.to_physical(
                self.params_unit.astype(np.float64)))
            self.descriptors = describe_params(physical, self.sound_config.seconds,
                                               self.sound_config.rate, self.table)
        return self.descriptors

    @property
    def feature_dim(self) -> int:
        """Length F of one feature vector."""
        return self.features.shape[1]

    def params_physical(self) -> np.ndarray:
        """float64[N, P] parameters in physical units (Hz, ratio, index, gain)."""
        return self.table.to_physical(self.params_unit)

    def save(self, path: str) -> None:
        """Write the bank to ``path`` (.npz; see module docstring). Deterministic bytes."""
        arrays = {
            "format": np.array(FORMAT), "version": np.array(VERSION, dtype=np.int64),
            "params_unit": np.ascontiguousarray(self.params_unit, dtype=np.float32),
            "features": np.ascontiguousarray(self.features, dtype=np.float32),
            "sound_config": np.array(json.dumps(dataclasses.asdict(self.sound_config),
                                                sort_keys=True)),
            "feature_config": np.array(json.dumps(dataclasses.asdict(self.feature_config),
                                                  sort_keys=True)),
            "param_table": np.array(self.table.to_json()),
        }
        if self.descriptors is not None:
            arrays["descriptors"] = np.ascontiguousarray(self.descriptors, dtype=np.float32)
        if self.kind != "fm":  # FM banks keep their old bytes
            arrays["kind"] = np.array(self.kind)
        if self.sources is not None:
            arrays["sources"] = np.array(self.sources.to_json())
            arrays.update(self.sources.to_arrays())
        if self.synth is not None:
            arrays["synth"] = np.array(json.dumps(self.synth, sort_keys=True))
        from instrument.formats.safe_io import atomic_write

        # A temporary file renamed into place: a full disk or Ctrl-C never leaves half a bank.
        with atomic_write(path, binary=True, what="sound bank") as fh:
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, path: str) -> "SoundBank":
        """Read and validate a bank written by :meth:`save`.

        Raises:
            DataFileError: missing, truncated or malformed file (one line, naming the file).
        """
        def bad(problem: str, fix: str | None = None):
            return DataFileError(f"sound bank {path}: {problem}",
                                 fix or "rebuild it with 'instrument sounds build'")

        if not os.path.exists(path):
            raise DataFileError(f"sound bank {path} does not exist",
                                "build one with 'instrument sounds build --out FILE.npz'")
        if not os.path.isfile(path):  # never open a FIFO (hangs) or a device (endless)
            raise bad("is not a regular file (a folder, device or pipe)",
                      "give the .npz file written by 'instrument sounds build'")
        try:
            with open(path, "rb") as fh:
                magic = fh.read(4)
        except OSError as err:
            raise bad(f"cannot be read: {err.strerror or err}") from None
        if magic != b"PK\x03\x04":
            raise bad("is not an .npz file (no zip header)")
        check_npz_members(path, "sound bank", error=DataFileError)  # sizes before allocating
        try:
            with np.load(path, allow_pickle=False) as data:
                missing = _KEYS - set(data.files)
                if missing:
                    raise bad(f"missing entries {sorted(missing)}")
                arrays = {key: data[key] for key in _KEYS}
                descriptors = data["descriptors"] if "descriptors" in data.files else None
                optional = {key: data[key] for key in _OPTIONAL if key in data.files}
        except DataFileError:
            raise
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
            raise bad(f"not a readable .npz file ({type(err).__name__}: "
                      f"{str(err).splitlines()[0] if str(err) else ''})") from None
        fmt, version = arrays["format"], arrays["version"]
        check_format({"format": str(fmt) if fmt.shape == () and fmt.dtype.kind == "U" else None,
                      "version": int(version) if version.shape == () and version.dtype.kind in "iu"
                      else None},
                     FORMAT, VERSION, f"sound bank {path}", "sound bank",
                     "rebuild it with 'instrument sounds build'", error=DataFileError)
        try:
            table = ParamTable.from_json(str(arrays["param_table"]))
            sound_cfg = config_from_dict(SoundConfig, json.loads(str(arrays["sound_config"])),
                                         "sound_config")
            feature_cfg = config_from_dict(FeatureConfig,
                                           json.loads(str(arrays["feature_config"])),
                                           "feature_config")
        except (ValueError, BadInput) as err:
            raise bad(f"bad settings: {err}") from None
        params, feats = arrays["params_unit"], arrays["features"]
        for name, arr in (("params_unit", params), ("features", feats)):
            if arr.dtype != np.float32 or arr.ndim != 2:
                raise bad(f"{name} must be a 2-D float32 array, got {arr.dtype} {arr.shape}")
            if not np.isfinite(arr).all():
                raise bad(f"{name} contains NaN or infinite values")
        n = sound_cfg.n_sounds
        if params.shape != (n, len(table)):
            raise bad(f"params_unit has shape {params.shape}, expected {(n, len(table))}")
        if params.min() < 0 or params.max() > 1:
            raise bad("params_unit has values outside 0..1")
        try:
            dim = feature_dim(feature_cfg, sound_cfg.n_samples, sound_cfg.rate)
        except BadInput as err:
            raise bad(f"bad feature settings: {err}") from None
        if feats.shape != (n, dim):
            raise bad(f"features have shape {feats.shape}, expected {(n, dim)}")
        if descriptors is not None and (descriptors.dtype != np.float32 or descriptors.shape
                                        != (n, len(SOUND_DESCRIPTORS))
                                        or not np.isfinite(descriptors).all()):
            raise bad(f"descriptors must be finite float32 {(n, len(SOUND_DESCRIPTORS))}, got "
                      f"{descriptors.dtype} {descriptors.shape}")
        kind, sources, synth = _kind_parts(path, optional, n, bad)
        return cls(params, feats, sound_cfg, feature_cfg, table, descriptors, kind, sources,
                   synth)


def _kind_parts(path: str, optional: dict, n: int, bad):
    """(kind, AudioSources | None, synth dict | None) from a bank file's optional entries;
    an audio bank's source files are checked (moved or changed files named) here."""
    kind = str(optional.get("kind", "fm"))
    if kind not in BANK_KINDS:
        raise bad(f"kind {kind!r} is not one of {', '.join(BANK_KINDS)}")
    sources = synth = None
    if kind == "audio":
        if "sources" not in optional:
            raise bad("an audio bank has no audio sources entry")
        sources = AudioSources.from_parts(str(optional["sources"]), optional, n,
                                          os.path.dirname(os.path.abspath(path)),
                                          f"sound bank {path}")
        sources.check()
    if kind in ("pyo", "pd"):
        try:
            synth = json.loads(str(optional.get("synth", "")))
        except ValueError:
            synth = None
        if not (isinstance(synth, dict) and isinstance(synth.get("path"), str)
                and isinstance(synth.get("sha256"), str)):
            raise bad(f"a {kind} bank has no valid synth entry (path, sha256)")
    return kind, sources, synth


def draw_params_unit(sound_cfg: SoundConfig, table: ParamTable = PARAM_TABLE) -> np.ndarray:
    """float32[N, P] parameters drawn uniformly in 0..1 from ``sound_cfg.seed``, alias-free.

    Rejection sampling: a draw whose FM band (Carson's rule, params.carson_bandwidth) is wider
    than the Nyquist of the performance rate (params.PERFORMANCE_RATE) is drawn again, so the
    bank is uniform over the sounds that play without aliasing (17% of uniform draws from the FM
    table is redrawn: high carriers with high ratios and indices).
    """
    rng = np.random.default_rng(sound_cfg.seed)
    n = sound_cfg.n_sounds
    kept: list[np.ndarray] = []
    have = 0
    while have < n:
        draw = rng.random((n, len(table)), dtype=np.float32)
        physical = table.to_physical(draw.astype(np.float64))
        ok = carson_bandwidth(physical, table) <= 0.5 * PERFORMANCE_RATE
        kept.append(draw[ok][:n - have])
        have += len(kept[-1])
    return np.concatenate(kept)


def build_sound_bank(sound_cfg: SoundConfig = SoundConfig(),
                     feature_cfg: FeatureConfig = FeatureConfig(), quiet: bool = True,
                     workers: int | None = None, table: ParamTable = PARAM_TABLE) -> SoundBank:
    """Draw, render and describe ``sound_cfg.n_sounds`` random FM sounds.

    Args:
        sound_cfg: Number, length, rate and seed of the sounds.
        feature_cfg: Feature settings.
        quiet: No progress bar.
        workers: Threads (default: the CPUs available, at most 4). The result does not
            depend on it.
        table: Parameter table.

    Returns:
        The bank; same configs -> identical arrays.
    """
    n, rate = sound_cfg.n_samples, float(sound_cfg.rate)
    dim = feature_dim(feature_cfg, n, rate)
    params_unit = draw_params_unit(sound_cfg, table)
    # Render from the stored float32 unit values, so the bank's parameters are exactly the
    # parameters of the sounds its features describe.
    physical = table.clip_physical(table.to_physical(params_unit.astype(np.float64)))
    features = np.empty((sound_cfg.n_sounds, dim), dtype=np.float32)
    descriptors = np.empty((sound_cfg.n_sounds, len(SOUND_DESCRIPTORS)), dtype=np.float32)
    rows = chunk_rows(n, 1 << 19)
    starts = list(range(0, sound_cfg.n_sounds, rows))

    local = threading.local()

    def job(lo: int) -> int:
        hi = min(lo + rows, sound_cfg.n_sounds)
        if not hasattr(local, "audio"):
            # one workspace per thread, reused for every chunk: fresh multi-MB arrays per
            # chunk cost more in page faults than the synthesis itself
            local.audio = np.empty((rows, n), dtype=np.float32)
            local.scratch = (np.empty((rows, n), np.uint32), np.empty((rows, n), np.float32))
            local.power = np.empty(rows * (n // 2 + 1), np.float32)
        audio = local.audio[:hi - lo]
        render_static_into(physical[lo:hi], n, rate, audio, table, local.scratch)
        # first: the features overwrite audio. Static FM: 3 frames say what 10 would (a
        # steady spectrum), at a third of the cost
        descriptors[lo:hi] = describe_audio(audio, rate, max_frames=3)
        features[lo:hi] = features_from_scratch(audio, rate, feature_cfg, power=local.power)
        return hi - lo

    workers = workers or default_workers()
    bar_total = len(starts)
    if workers == 1:
        for _ in progress(map(job, starts), "sound bank", total=bar_total, quiet=quiet,
                          unit="chunk"):
            pass
    else:
        with ThreadPoolExecutor(workers) as pool:
            for _ in progress(pool.map(job, starts), "sound bank", total=bar_total,
                              quiet=quiet, unit="chunk"):
                pass
    return SoundBank(params_unit, features, sound_cfg, feature_cfg, table, descriptors)
