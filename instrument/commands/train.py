"""`instrument train`: gesture and sound autoencoders, pairing, mapping network -> a model bundle.

Labels (``--pairing labels``, paper §3.2/§4.1) are said on the command line:

- ``--gesture-labels NAME=FILE [NAME=FILE ...]``: every window of FILE belongs to gesture
  category NAME (the files are trained on too, next to ``--gestures``);
- ``--sound-labels NAME=PARAM:LO-HI[,PARAM:LO-HI...] ...``: bank sounds whose parameters lie in
  all the ranges (physical units, e.g. ``low=carrier_hz:50-200``) belong to sound category NAME
  (the first matching category wins);
- ``--match GESTURE=SOUND ...``: which gesture category plays which sound category.

Example: ``instrument train --gestures free.jsonl --gesture-labels circles=c.jsonl
zigzag=z.jsonl --sound-labels low=carrier_hz:50-200 bright=index:6-10 --match circles=low
zigzag=bright --pairing labels --out models/labelled``.
"""

from __future__ import annotations

import argparse

from instrument.commands import train_steering
from instrument.commands.argtypes import SEED, existing_file, int_in

NAME = "train"
HELP = "train an instrument (gesture SAE, sound SAE, mapping network) from gesture recordings"


def _name_value(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return name, value


def _gesture_label(text: str) -> tuple[str, str]:
    name, path = _name_value(text)
    return name, existing_file(path)


def _sound_label(text: str) -> tuple[str, list[tuple[str, float, float]]]:
    name, spec = _name_value(text)
    ranges = []
    for part in spec.split(","):
        param, sep, span = part.partition(":")
        low, dash, high = span.partition("-")
        try:
            lo, hi = float(low), float(high)
        except ValueError:
            lo = hi = None
        if not sep or not dash or lo is None or not lo <= hi:
            raise argparse.ArgumentTypeError(
                f"{part!r} in {text!r} is not PARAM:LOW-HIGH with LOW <= HIGH "
                f"(e.g. carrier_hz:50-200)")
        ranges.append((param, lo, hi))
    return name, ranges


def add_arguments(parser) -> None:
    parser.add_argument("--gestures", nargs="+", type=existing_file, required=True,
                        metavar="FILE", help="gesture recordings (.jsonl) to learn from")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="model directory to write (e.g. models/mine; a missing parent folder "
                             "is created); an earlier model there is replaced only with --force")
    sounds = parser.add_mutually_exclusive_group()
    sounds.add_argument("--sounds", type=int_in(20, 200_000), default=None, metavar="N",
                        help="random FM sounds in the bank (default 5000, as in the paper)")
    sounds.add_argument("--sound-bank", type=existing_file, metavar="FILE.npz",
                        help="use a bank from 'instrument sounds build' instead of building one")
    parser.add_argument("--layers", type=int_in(1, 8), default=2,
                        help="hidden layers per stacked autoencoder (default 2)")
    parser.add_argument("--pairing", choices=("descriptors", "random", "structure", "labels"),
                        default=None,
                        help="training pairs for the mapping: descriptors (what the hand does "
                             "onto what the ear hears, default), random (the paper's), structure "
                             "(autoencoder features matched) or labels (your categories)")
    parser.add_argument("--mapping", choices=("mlp", "l2"), default="mlp",
                        help="mlp: a mapping network (default); l2: compare features directly")
    parser.add_argument("--seed", type=SEED, default=0, help="seed (default 0)")
    parser.add_argument("--epochs", type=int_in(1, 10_000), default=None,
                        help="pretraining epochs per autoencoder layer (default 30)")
    parser.add_argument("--gesture-labels", nargs="+", type=_gesture_label, default=[],
                        metavar="NAME=FILE", help="gesture categories: windows of FILE are NAME")
    parser.add_argument("--sound-labels", nargs="+", type=_sound_label, default=[],
                        metavar="NAME=PARAM:LO-HI[,...]",
                        help="sound categories by parameter ranges (physical units)")
    parser.add_argument("--match", nargs="+", type=_name_value, default=[],
                        metavar="GESTURE=SOUND", help="gesture category -> sound category")
    parser.add_argument("--report", metavar="FILE.png", help="also draw a report PNG")
    parser.add_argument("--force", action="store_true",
                        help="replace an earlier model at --out and an existing --report")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or stage lines")
    train_steering.add_arguments(parser)


def run(args) -> int:
    import os
    import sys

    from instrument.config import FeatureConfig, GestureConfig, SoundConfig, TrainConfig
    from instrument.errors import BadInput

    labelled = bool(args.gesture_labels or args.sound_labels or args.match)
    if labelled and args.pairing != "labels":
        raise BadInput("--gesture-labels/--sound-labels/--match only apply to --pairing labels",
                       "add --pairing labels or drop the labels")
    if args.report and not args.report.lower().endswith(".png"):
        raise BadInput(f"--report {args.report} must be a .png file")
    from instrument.formats.outputs import check_model_output, check_output

    inputs = [("--gestures", p) for p in args.gestures] + [
        ("--gesture-labels", p) for _, p in args.gesture_labels] + [("--sound-bank", args.sound_bank)]
    check_model_output(args.out, args.force, inputs)  # before any work: refusing costs nothing
    if args.report:
        check_output(args.report, args.force, inputs + [("--out", args.out)], flag="--report")

    base = train_steering.load_base(args)
    settings = dict(layers=args.layers, pairing=args.pairing or "descriptors",
                    mapping=args.mapping, seed=args.seed,
                    **({"sae_epochs": args.epochs} if args.epochs else {}))
    settings.update(train_steering.train_settings(args, base))
    train_cfg = TrainConfig(**settings)
    from instrument.formats.recording import read_recording
    from instrument.learn.training import LabelSpec, train_instrument

    files = list(args.gestures) + [path for _, path in args.gesture_labels]
    label_of = [None] * len(args.gestures) + [name for name, _ in args.gesture_labels]
    recordings = [read_recording(path) for path in files]
    from instrument.formats.recording import pause_note

    for note in filter(None, map(pause_note, recordings)):
        if not args.quiet:
            print(f"  {note}", file=sys.stderr)
    train_steering.check_recordings(files, recordings)
    labels = None
    if args.pairing == "labels":
        gesture_files: dict[str, list[str]] = {}
        for name, path in args.gesture_labels:
            gesture_files.setdefault(name, []).append(path)
        labels = LabelSpec(gesture_files, dict(args.sound_labels), dict(args.match))
        labels.check()
    # After the argument checks: a command that is refused prints its one line only.
    short = short_recording_warning(sum(rec.duration for rec in recordings))
    if short and not args.quiet:
        print(short, file=sys.stderr)
    bank = None
    sound_cfg, feature_cfg = SoundConfig(), FeatureConfig()
    if args.sound_bank:
        from instrument.sound.bank import SoundBank

        bank = SoundBank.load(args.sound_bank)
        sound_cfg, feature_cfg = bank.sound_config, bank.feature_config
    elif args.sounds:
        if args.sounds < 20:
            raise BadInput(f"--sounds {args.sounds} is too few for a sound bank",
                           "use 20 or more (the paper used 5000)")
        sound_cfg = SoundConfig(n_sounds=args.sounds)
    gesture_cfg = GestureConfig()
    if base is not None:    # --from: its own bank and window shape
        from instrument.config import config_from_dict
        from instrument.learn.refit import bank_of

        bank = bank_of(base)
        sound_cfg, feature_cfg = bank.sound_config, bank.feature_config
        gesture_cfg = config_from_dict(GestureConfig, base.config["configs"]["gesture"], "gesture")
    if args.pin and bank is None:
        from instrument.sound.bank import build_sound_bank

        bank = build_sound_bank(sound_cfg, feature_cfg, quiet=args.quiet)
    pins = train_steering.resolve_pins(args, files, bank)
    log = (lambda text: None) if args.quiet else (lambda text: print(f"  {text}", file=sys.stderr))
    config, arrays, summary = train_instrument(recordings, train_cfg, gesture_cfg, sound_cfg,
                                               feature_cfg, sound_bank=bank, labels=labels,
                                               label_of_recording=label_of, quiet=args.quiet,
                                               log=log, pins=pins, base=base)
    config["gesture_files"] = [os.path.basename(p) for p in files]
    # where they were, so `evaluate --model` finds the held-out tail by itself
    config["gesture_paths"] = [os.path.abspath(p) for p in files]
    from instrument.formats.bundle import save_bundle

    save_bundle(args.out, config, arrays)
    if args.report:
        from instrument.learn.report import write_report

        write_report(args.report, args.out, summary)
    print(summary_text(args.out, summary, args.report))
    return 0


def loss_lines(losses: dict) -> list[str]:
    """Final losses, labelled: each autoencoder layer and the mapping, training vs held-out."""
    lines = ["final losses (training / held-out; lower is better):"]
    held = losses.get("gesture_sae_held_out") or []
    for k, value in enumerate(losses.get("gesture_sae") or []):
        other = f"{held[k]:.4f}" if k < len(held) else "-"
        lines.append(f"  gesture autoencoder, layer {k + 1}: {value:.4f} / {other}  "
                     "(reconstruction error per window)")
    for k, value in enumerate(losses.get("sound_sae") or []):
        lines.append(f"  sound autoencoder, layer {k + 1}:   {value:.4f} / -       "
                     "(per sound; every bank sound is trained on)")
    if losses.get("mapping") is not None:
        lines.append(f"  mapping network:              {losses['mapping']:.4f} / -       "
                     "(squared error, standardised; held-out strokes have no paired sound)")
    return lines


def short_recording_warning(seconds: float) -> str | None:
    """One line when the gestures are under a minute (None otherwise)."""
    if seconds >= 60:
        return None
    return (f"instrument: warning: only {seconds:.0f} s of gestures; the paper used 7 minutes. "
            "Expect the map to reach fewer sounds (the 7-minute demo reaches 64% of the bank) "
            "and unfamiliar strokes to land on a few; record 5-7 minutes of varied strokes")


def summary_text(out: str, summary: dict, report: str | None) -> str:
    """The final summary: times, losses, mapping metrics against the random baseline."""
    m = summary["metrics"]
    lines = [f"trained {out} in {summary['seconds']:.1f} s "
             f"({', '.join(f'{k} {v:.1f} s' for k, v in summary['timings'].items())})"]
    lines += loss_lines(summary["losses"])
    where = "held-out" if m.get("held_out") else "training"
    lines.append(f"mapping quality on {m['n_windows']} {where} windows (model vs random):")
    for key in ("trustworthiness", "continuity", "spearman", "coverage", "stability",
                "stability_no_hold"):
        if key in m["model"]:
            lines.append(f"  {key:<18} {m['model'][key]:6.3f}   {m['random'][key]:6.3f}")
    if m.get("continuity_in_time"):
        from instrument.commands.evaluate import continuity_lines

        lines += continuity_lines(m["continuity_in_time"])
    if report:
        lines.append(f"report: {report}")
    return "\n".join(lines)
