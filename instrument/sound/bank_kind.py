"""What made a bank's sounds, carried from the bank into the model bundle and back to a voice.

``instrument train --sound-bank BANK`` records the bank's kind in the bundle so that
``perform`` and ``render`` play the sounds the model learnt:

- ``fm`` (no entry: every bundle before this one): the built-in FM voice;
- ``audio``: the sampler voice over the bank's slices. ``config.json["sound_source"]``
  holds ``{"kind": "audio", "root": folder, "rate", "files": [{"path", "size", "sha256"}]}``
  (paths relative to ``root``, the bank file's folder at training time) and
  ``sound_bank.safetensors`` the ``slices`` (and ``slice_audio``/``slice_offsets`` when
  embedded);
- ``pyo`` / ``pd``: the user's synth file, ``{"kind", "synth": {"path", "size", "sha256"}}``
  (absolute path). A bundle never holds code: the synth is the user's own file, checked
  against its hash before it is imported or opened.

Everything read back is validated (bounded JSON, array shapes) and a moved or changed
source is named in one line.
"""

from __future__ import annotations

import json
import os

import numpy as np

from instrument.errors import ModelFileError

KINDS = ("fm", "audio", "pyo", "pd")
_FIX = "put the files back, or train again with the bank as it is now"


def bundle_sound_parts(bank) -> tuple[dict | None, dict[str, np.ndarray]]:
    """(config entry or None for FM, extra sound_bank arrays) for a SoundBank's kind."""
    if bank.kind == "fm":
        return None, {}
    if bank.kind == "audio":
        src = bank.sources
        entry = {"kind": "audio", "root": os.path.abspath(src.root), "rate": int(src.rate),
                 "files": src.files}
        return entry, src.to_arrays()
    synth = dict(bank.synth)
    return {"kind": bank.kind, "synth": synth}, {}


def bundle_kind(config: dict) -> str:
    """The kind of sounds a bundle's config says it plays ("fm" when it says nothing)."""
    entry = config.get("sound_source")
    if entry is None:
        return "fm"
    if not isinstance(entry, dict) or entry.get("kind") not in KINDS:
        raise ModelFileError("model config.json: sound_source.kind must be one of "
                             f"{', '.join(KINDS)}", _FIX)
    return entry["kind"]


def audio_sources_of(config: dict, arrays: dict, n_sounds: int, where: str):
    """The AudioSources of an audio-bank bundle, with its files checked (size; sha256 on play).

    Raises:
        ModelFileError / DataFileError: malformed entries, or a moved or changed source file.
    """
    from instrument.sound.slices import AudioSources

    entry = config.get("sound_source") or {}
    root = entry.get("root")
    if not isinstance(root, str):
        raise ModelFileError(f"{where}: sound_source.root is missing", _FIX)
    meta = json.dumps({"rate": entry.get("rate"), "files": entry.get("files")})
    sources = AudioSources.from_parts(meta, arrays.get("sound_bank", {}), n_sounds, root, where)
    sources.check()
    return sources


def synth_file_of(config: dict, where: str) -> str:
    """The path of a pyo/pd bundle's synth file, refused unless its sha256 matches.

    Raises:
        ModelFileError: the entry is malformed, the file is gone, or it changed.
    """
    from instrument.sound.audio_files import file_sha256

    synth = (config.get("sound_source") or {}).get("synth")
    if not (isinstance(synth, dict) and isinstance(synth.get("path"), str)
            and isinstance(synth.get("sha256"), str)):
        raise ModelFileError(f"{where}: sound_source.synth lacks path or sha256", _FIX)
    path = synth["path"]
    if not os.path.isfile(path):
        raise ModelFileError(f"synth file {path} of model {where} has moved or been deleted",
                             "put it back where it was when the model was trained")
    if file_sha256(path) != synth["sha256"]:
        raise ModelFileError(f"synth file {path} has changed since model {where} was trained",
                             "restore that version, or rebuild the bank and train again "
                             "(the model learnt the old sounds)")
    return path


def slices_for_playback(runtime, rate: int) -> tuple[list[np.ndarray], "object"]:
    """Every slice of an audio-bank model at ``rate`` (files checked by size and sha256).

    Returns:
        (float32 slice audio at ``rate``, the AudioSources).
    """
    from instrument.sound.sampler import resample_slices

    src = runtime.sound_source
    if runtime.sound_kind != "audio":
        raise ModelFileError(f"model {src['path']} plays {runtime.sound_kind} sounds, not "
                             "audio slices", _FIX)
    sources = audio_sources_of(src["config"], src["arrays"], runtime.n_sounds,
                               f"model {src['path']}")
    sources.check(full=True)
    return resample_slices(sources.all_slices(), sources.rate, rate), sources


def pyo_synth_of(runtime):
    """The user's pyo synth of a pyo-bank model, imported after its sha256 matched."""
    from instrument.sound.user_synth import load_pyo_synth

    src = runtime.sound_source
    where = f"model {src['path']}"
    synth = load_pyo_synth(synth_file_of(src["config"], where))
    if synth.table.names != runtime.table.names:
        raise ModelFileError(f"synth file {synth.path} declares {', '.join(synth.table.names)}; "
                             f"{where} was trained on {', '.join(runtime.table.names)}", _FIX)
    return synth


def pd_synth_of(runtime):
    """(patch path, table) of a Pd-bank model, after the patch's sha256 matched."""
    from instrument.sound.pd_synth import load_pd_synth

    src = runtime.sound_source
    where = f"model {src['path']}"
    patch, table, _ = load_pd_synth(synth_file_of(src["config"], where))
    if table.names != runtime.table.names:
        raise ModelFileError(f"Pd patch {patch} declares {', '.join(table.names)}; {where} "
                             f"was trained on {', '.join(runtime.table.names)}", _FIX)
    return patch, table


def restore_kind(bank, config: dict, arrays: dict, where: str):
    """Give a SoundBank rebuilt from a bundle (``train --from``) its kind and sources back."""
    kind = bundle_kind(config)
    if kind == "fm":
        return bank
    bank.kind = kind
    entry = config["sound_source"]
    if kind == "audio":
        bank.sources = audio_sources_of(config, {"sound_bank": arrays}, len(bank), where)
    else:
        bank.synth = dict(entry.get("synth") or {})
    return bank
