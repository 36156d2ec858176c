"""`instrument evaluate`: how well a trained model keeps gesture neighbourhoods, against chance.

Measured on gesture windows the model was not trained on: the tail of its training recording(s)
that training held out (when the recording is found next to the model's config, or given with
``--gestures``), or every window of ``--gestures FILE``. Every figure comes with the same
figure for a random permutation of the played sounds, computed in the same run.
"""

from __future__ import annotations

from instrument.commands.argtypes import SEED, existing_file, float_in, model_dir

NAME = "evaluate"
HELP = "measure a model's mapping (trustworthiness, continuity, coverage, ...) vs a random baseline"

KEYS = ("trustworthiness", "continuity", "spearman", "coverage", "coverage_exact", "stability",
        "stability_no_hold")


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, type=model_dir, metavar="DIR",
                        help="model directory from 'instrument train'")
    parser.add_argument("--gestures", type=existing_file, metavar="FILE",
                        help="gesture recording the model was not trained on (default: the "
                             "held-out tail of the model's own training recording, looked up "
                             "in recordings/)")
    parser.add_argument("--holdout", type=float_in(0, 1, low_open=True), default=None, metavar="SHARE",
                        help="with --gestures: measure only this tail share of the file "
                             "(default: the whole file; use the model's training share to "
                             "reproduce training's held-out figures)")
    parser.add_argument("--seed", type=SEED, default=0,
                        help="seed of the subsamples and the random baseline (default 0)")
    parser.add_argument("--families", type=float_in(0, 3600, "s"), default=120.0, metavar="SECONDS",
                        help="seconds of held-out stroke families (shapes no training generator "
                             "makes) to measure on too (default 120; 0 leaves them out)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args) -> int:
    import json
    import os

    from instrument.errors import BadInput
    from instrument.formats.bundle import load_bundle
    from instrument.formats.recording import read_recording
    from instrument.learn.evaluation import evaluation_windows, measure, measure_in_sound_features
    from instrument.runtime import Runtime

    bundle = load_bundle(args.model)
    runtime = Runtime(bundle)
    holdout = args.holdout
    if args.gestures:
        path = args.gestures
        holdout = 1.0 if holdout is None else holdout
    else:
        # The model's own training recording, if it is the shipped demo: its held-out tail.
        names = bundle.config.get("gesture_files") or []
        candidates = [os.path.join("recordings", n) for n in names]
        path = next((p for p in candidates if os.path.exists(p)), None)
        if path is None:
            raise BadInput(f"no held-out gestures for {args.model}",
                           "give --gestures FILE (a recording the model was not trained on)")
        holdout = bundle.config["configs"]["train"]["holdout"]
    if holdout is None or not 0 < holdout <= 1:
        raise BadInput(f"--holdout {holdout} must be a share in (0, 1]")
    rec = read_recording(path)
    windows, frames = evaluation_windows(rec, runtime.gesture_config, holdout,
                                         runtime.stream_spec)
    result = measure(runtime, windows, frames, seed=args.seed)
    full = measure_in_sound_features(bundle, runtime, windows, seed=args.seed)
    result = {"model": args.model, "gestures": path, "holdout": holdout,
              "n_windows": result["n_windows"], "n_sounds": result["n_sounds"], "k": result["k"],
              "model_figures": {k: round(result["model"][k], 4) for k in KEYS if k in result["model"]},
              "random_baseline": {k: round(result["random"][k], 4) for k in KEYS
                                  if k in result["random"]},
              "full_sound_features": {
                  "dims": full["dims"],
                  "model": {k: round(v, 4) for k, v in full["model"].items()},
                  "random": {k: round(v, 4) for k, v in full["random"].items()}},
              "pairing": bundle.config["configs"]["train"]["pairing"],
              "mapping": bundle.config["configs"]["train"]["mapping"]}
    if not 0 <= args.families <= 3600:
        raise BadInput(f"--families {args.families:g} must be 0..3600 seconds")
    from instrument.learn.independent import independent_report, training_windows

    result["spaces"] = {
        "model_figures": "the model's own space: gesture SAE features vs the played sounds "
                         "in the search space its mapping lands in",
        "descriptor_space": "independent: gesture descriptors of each window vs the played "
                            "sound's descriptors (what a listener hears)"}
    result.update(independent_report(bundle, runtime, windows,
                                     training_windows(bundle, runtime), args.seed,
                                     args.families))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{args.model} ({result['pairing']} pairing, {result['mapping']} mapping) on "
          f"{result['n_windows']} windows of {path} (tail {holdout:g}), k={result['k']}:")
    print(f"  {'':<18} {'model':>7} {'random':>7}")
    for key in KEYS:
        if key in result["model_figures"]:
            model, chance = result["model_figures"][key], result["random_baseline"][key]
            print(f"  {key:<18} {model:7.3f} {chance:7.3f}")
    print(f"  against the full {full['dims']}-value sound features (not the search space):")
    for key, model in result["full_sound_features"]["model"].items():
        chance = result["full_sound_features"]["random"][key]
        print(f"  {key:<18} {model:7.3f} {chance:7.3f}")
    from instrument.learn.independent import report_lines

    for line in report_lines(result):
        print(line)
    return 0
