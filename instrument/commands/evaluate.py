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
                        help="measure only this tail share of the file (default: with "
                             "--gestures the whole file, without it the share training held "
                             "out of its recording; 1 = all of it, trained part included)")
    parser.add_argument("--seed", type=SEED, default=0,
                        help="seed of the subsamples and the random baseline (default 0)")
    parser.add_argument("--families", type=float_in(0, 3600, "s"), default=120.0, metavar="SECONDS",
                        help="seconds of held-out stroke families (shapes no training generator "
                             "makes) to measure on too (default 120; 0 leaves them out)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args) -> int:
    import json

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
        path = trained_recording(bundle.config, args.model)
        if holdout is None:   # the part training held out, unless --holdout says otherwise
            holdout = bundle.config["configs"]["train"]["holdout"]
    if holdout is None or not 0 < holdout <= 1:
        raise BadInput(f"--holdout {holdout} must be a share in (0, 1]")
    rec = read_recording(path)
    windows, frames, times = evaluation_windows(rec, runtime.gesture_config, holdout,
                                                runtime.stream_spec, with_times=True)
    result = measure(runtime, windows, frames, seed=args.seed, frame_times=times)
    continuity = result.get("continuity_in_time")
    scored = scored_part(rec, path, holdout, args.gestures is None)
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
              "scored": scored,
              "continuity_in_time": {side: {k: round(v, 4) for k, v in figures.items()}
                                     for side, figures in (continuity or {}).items()},
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
    print(f"{args.model} ({result['pairing']} pairing, {result['mapping']} mapping): {scored}")
    print(f"  {result['n_windows']} windows, k={result['k']}:")
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
    for line in continuity_lines(result["continuity_in_time"]):
        print(line)
    return 0


def trained_recording(config: dict, model: str) -> str:
    """The recording a model was trained on, from the path its bundle keeps (BadInput when it
    is not there any more, saying where it was and how to go on)."""
    import os

    from instrument.errors import BadInput

    paths = [p for p in config.get("gesture_paths") or [] if isinstance(p, str)]
    names = [n for n in config.get("gesture_files") or [] if isinstance(n, str)]
    # where train saw it, then recordings/NAME (bundles from before gesture_paths)
    candidates = paths + [os.path.join("recordings", os.path.basename(n)) for n in names]
    found = next((p for p in candidates if os.path.isfile(p)), None)
    if found is not None:
        return found
    if paths:
        raise BadInput(f"{model} was trained on {paths[0]}, which is not there any more "
                       "(moved or deleted)", "give --gestures FILE (the recording where it is "
                       "now, with --holdout to score its tail, or any other recording)")
    raise BadInput(f"no held-out gestures for {model}",
                   "give --gestures FILE (a recording the model was not trained on)")


def scored_part(rec, path: str, holdout: float, own: bool) -> str:
    """One line saying which part of which recording was scored."""
    t = rec.t
    total = float(t[-1] - t[0]) if len(t) else 0.0
    if holdout >= 1.0:
        return f"scored all of {path} ({total:.0f} s)"
    start = total * (1.0 - holdout)
    what = "the held-out tail of its training recording" if own else "the tail of"
    return (f"scored {what} {path}: the last {holdout:.0%}, {start:.0f}-{total:.0f} s "
            f"({total - start:.0f} s)")


def continuity_lines(continuity: dict) -> list[str]:
    """The continuity-in-time figures as a small table, played vs the plain closest sound."""
    if not continuity:
        return []
    played, plain = continuity["played"], continuity["closest_sound"]
    rows = [("octave_jumps", "share of moving frames whose carrier leaps > 1 octave", "{:.1%}"),
            ("param_jumps", f"... whose parameters move > {played['param_jump']:.0%} of a range",
             "{:.1%}"),
            ("changes_per_s", "bank sound changes per second of movement", "{:.1f}"),
            ("median_run_ms", "median time one bank sound lasts while moving (ms)", "{:.0f}")]
    lines = [f"  continuity in time, over {played['moving_frames']} moving frames "
             "(played / the plain closest sound):"]
    for key, meaning, fmt in rows:
        lines.append(f"  {key:<18} {fmt.format(played[key]):>7} {fmt.format(plain[key]):>7}"
                     f"   {meaning}")
    return lines
