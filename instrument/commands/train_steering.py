"""`instrument train` options that orient or refit a model: --steer, --pin, --from, --stillness,
--blend.

- ``--steer speed=loudness,height=-pitch``: gesture descriptor = (+/-) sound descriptor pairs
  the descriptors pairing carries onto each other by ranks (learn/descriptor_pairing.py);
- ``--pin RECORDING@T0-T1=SOUND``: the windows of that stretch of one of the ``--gestures``
  files play SOUND (a bank index such as ``17`` or ``#17`` — for a bank of audio slices the
  slice number — or parameter values such as ``carrier_hz:220,index:2``: the closest bank
  sound), their gesture neighbours neighbouring sounds;
- ``--from models/M``: keep M's autoencoders and sound bank, refit the pairing and the
  mapping network only (learn/refit.py): seconds instead of a full training;
- ``--stillness hold|fade``: a still pointer holds its sound, or the level follows the motion;
- ``--blend K``: play the K closest sounds' parameters interpolated (the parameters move
  continuously; 48 is the default of the structure, random and labels pairings) or ``1``:
  one bank sound as it is, the most alike on a change (the descriptors pairing's default:
  what is heard is the sound the mapping chose; learn/heard.py measures the difference).
"""

from __future__ import annotations

import argparse
import os

from instrument.commands.argtypes import existing_dir, int_in

MAX_PINS = 64


def _pin(text: str) -> tuple[str, float, float, str]:
    where, sep, sound = text.rpartition("=")
    path, at, span = where.rpartition("@")
    low, dash, high = span.partition("-")
    try:
        t0, t1 = float(low), float(high)
    except ValueError:
        t0 = t1 = float("nan")
    if not sep or not at or not path or not dash or not sound or not (0 <= t0 < t1 <= 36000):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not RECORDING@T0-T1=SOUND with 0 <= T0 < T1 seconds "
            f"(e.g. demo.jsonl@12.5-14=#17 or me.jsonl@3-4=carrier_hz:220,index:2)")
    return path, t0, t1, sound


def add_arguments(parser) -> None:
    """Add --steer, --pin, --from, --stillness and --blend to the train parser."""
    parser.add_argument("--steer", metavar="G=S,...", default=None,
                        help="orient the descriptors pairing: gesture descriptor = sound "
                             "descriptor pairs, '-' reverses (e.g. speed=loudness,height=-pitch; "
                             "gesture: speed acceleration curvature extent height up right "
                             "pressure; sound: loudness pitch brightness spread flatness roughness)")
    parser.add_argument("--pin", nargs="+", type=_pin, default=[], metavar="REC@T0-T1=SOUND",
                        help="that stretch of a --gestures file plays SOUND (#INDEX or "
                             "PARAM:VALUE,...), its neighbours neighbouring sounds")
    parser.add_argument("--from", dest="from_model", type=existing_dir, metavar="DIR",
                        help="reuse this model's autoencoders and sound bank; refit only the "
                             "pairing and mapping network (seconds)")
    parser.add_argument("--stillness", choices=("hold", "fade"), default=None,
                        help="hold: a still pointer holds its sound (default); fade: the level "
                             "follows the motion energy, like a bowed string")
    parser.add_argument("--blend", type=int_in(1, 256), default=None, metavar="K",
                        help="interpolate the K closest sounds' parameters (smooth parameters; "
                             "default 48 for --pairing structure/random/labels) or 1: one sound "
                             "as it is, the most alike on a change (heard as chosen; the "
                             "descriptors pairing's default; audio slices are never blended)")


def train_settings(args, base) -> dict:
    """TrainConfig keyword overrides from these options (and ``--from``'s own config)."""
    from instrument.errors import BadInput

    settings: dict = {}
    if base is not None:
        # --from keeps the model's own training settings unless an option says otherwise
        import dataclasses

        from instrument.config import TrainConfig

        keep = base.config["configs"]["train"]
        known = {f.name for f in dataclasses.fields(TrainConfig)}
        settings.update({k: tuple(v) if isinstance(v, list) else v for k, v in keep.items()
                         if k in known and k not in ("pairing", "mapping", "seed", "layers",
                                                     "sae_epochs")})
        settings.update(layers=keep.get("layers", 2), sae_epochs=keep.get("sae_epochs", 30))
    if args.steer is not None:
        from instrument.learn.descriptor_pairing import parse_steer

        parse_steer(args.steer)   # one line naming a bad pair, before any work
        settings["steer"] = args.steer
    if args.stillness is not None:
        settings["stillness"] = args.stillness
    if args.blend is not None:
        settings["blend_k"] = args.blend
    if (args.steer or args.pin) and args.pairing not in (None, "descriptors"):
        raise BadInput(f"--steer and --pin orient the descriptors pairing, not --pairing "
                       f"{args.pairing}", "drop --pairing (descriptors is the default)")
    if len(args.pin) > MAX_PINS:
        raise BadInput(f"{len(args.pin)} pins are too many", f"use at most {MAX_PINS}")
    return settings


def load_base(args):
    """The ``--from`` model Bundle, or None."""
    if not args.from_model:
        return None
    from instrument.formats.bundle import load_bundle

    return load_bundle(args.from_model)


def check_recordings(files: list[str], recordings: list) -> None:
    """Refuse the held-out stroke families: they must stay out of every training run."""
    from instrument.errors import BadInput
    from instrument.gesture.heldout import HELDOUT_SOURCE

    for path, rec in zip(files, recordings):
        if getattr(rec, "header", {}).get("source") == HELDOUT_SOURCE:
            raise BadInput(f"{path} holds the held-out stroke families (source "
                           f"{HELDOUT_SOURCE!r}): they measure models and are never trained on",
                           "train on your own recordings or 'instrument gestures synth'")


def resolve_pins(args, files: list[str], bank) -> list[tuple[int, float, float, int]]:
    """(recording index, t0, t1, bank index) of each --pin (bank: SoundBank or None = built)."""
    from instrument.errors import BadInput

    out = []
    for path, t0, t1, sound in args.pin:
        matches = [i for i, f in enumerate(files)
                   if os.path.abspath(f) == os.path.abspath(path)
                   or os.path.basename(f) == os.path.basename(path)]
        if not matches:
            raise BadInput(f"--pin {path}@...: {path} is not one of the --gestures files",
                           "pin a stretch of a recording you train on")
        out.append((matches[0], t0, t1, sound_index(sound, bank)))
    return out


def sound_index(text: str, bank) -> int:
    """A bank index from ``17``/``#17`` or ``PARAM:VALUE,...`` (closest sound in 0..1 units)."""
    import numpy as np

    from instrument.errors import BadInput

    text = text.strip()
    n = len(bank) if bank is not None else None
    if text.lstrip("#").isdigit():
        index = int(text.lstrip("#"))
        if n is not None and not 0 <= index < n:
            raise BadInput(f"--pin sound #{index} is not in the bank of {n} sounds",
                           f"use 0..{n - 1}")
        return index
    if bank is None:
        raise BadInput(f"--pin sound {text!r} by parameter values needs the bank first",
                       "give --sound-bank FILE.npz or --from DIR, or a bank index (#17)")
    table = bank.table
    values = {}
    for part in text.split(","):
        name, sep, value = part.partition(":")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not sep or name.strip() not in table.names or not np.isfinite(number):
            raise BadInput(f"--pin sound {text!r}: {part!r} is not PARAM:VALUE",
                           f"parameters: {', '.join(table.names)}")
        values[name.strip()] = number
    cols = [table.names.index(name) for name in values]
    physical = table.to_physical(np.asarray(bank.params_unit, np.float64))
    physical[:, cols] = np.array(list(values.values()))[None, :]
    wanted = table.to_unit(table.clip_physical(physical))[:, cols]
    dist = ((np.asarray(bank.params_unit, np.float64)[:, cols] - wanted) ** 2).sum(axis=1)
    return int(np.argmin(dist))
