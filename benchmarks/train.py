"""Training time of the default instrument, and per-frame inference: numpy runtime vs torch eager.

1. Trains the default instrument from scratch on a gesture recording (default
   recordings/demo.jsonl): sound bank (5000 FM sounds), both stacked autoencoders, pairing,
   mapping network and metrics, exactly what ``instrument train`` does (target: <= 60 s on 2
   cores).
2. Times one control frame (window -> gesture features -> mapping -> closest sound -> params) on
   the recording's moving control frames, p50/p99 over ``--frames`` frames, one thread:
   * numpy: :meth:`instrument.runtime.Runtime.frame` (the play-time path, no torch);
   * torch eager, minimal: the same networks rebuilt as torch modules from the bundle, the
     forward pass written out layer by layer on tensors, under torch.no_grad();
   * torch eager, library API: ``StackedAutoencoder.encode`` -> ``MappingMLP.predict`` ->
     distances in torch, as training and evaluation call them.
   Target: numpy >= 10x faster.

Usage:
    python benchmarks/train.py [--gestures FILE] [--model DIR] [--frames 2000] [--runs 3]
                               [--refit-only] [--json]

``--model DIR`` skips training and times an existing model; ``--refit-only`` (with
``--model``) times only ``train --from``.

3. ``train --from MODEL --steer speed=loudness``: the performer's real command, a fresh
   ``python -m instrument`` process each run (startup and imports included), wall and CPU
   seconds, median of ``--runs``; next to it the same refit in-process (target: <= 2 s).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import numpy as np

from instrument.cli import Parser
from instrument.commands.argtypes import existing_dir, existing_file, positive_int
from instrument.errors import InstrumentError


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    us = np.asarray(seconds) * 1e6
    return float(np.percentile(us, 50)), float(np.percentile(us, 99))


def train_default(gestures: str, out_dir: str) -> dict:
    from instrument.config import FeatureConfig, GestureConfig, SoundConfig, TrainConfig
    from instrument.formats.bundle import save_bundle
    from instrument.formats.recording import read_recording
    from instrument.learn.training import train_instrument

    start = time.perf_counter()
    rec = read_recording(gestures)
    config, arrays, summary = train_instrument([rec], TrainConfig(), GestureConfig(),
                                               SoundConfig(), FeatureConfig(), quiet=True)
    save_bundle(out_dir, config, arrays)
    return {"seconds": time.perf_counter() - start, "timings": summary["timings"],
            "metrics": summary["metrics"]}


def retrain_from(model_dir: str, gestures: str) -> dict:
    """``instrument train --from MODEL --steer speed=loudness``: the autoencoders reused, the
    pairing and mapping network refitted (what a performer iterates on), wall and CPU time of
    a second run in this process (imports warm; the recording already read)."""
    import dataclasses

    from instrument.cli import build_parser
    from instrument.commands.train_steering import train_settings
    from instrument.config import FeatureConfig, GestureConfig, SoundConfig, TrainConfig
    from instrument.formats.bundle import load_bundle
    from instrument.formats.recording import read_recording
    from instrument.learn.refit import bank_of
    from instrument.learn.training import train_instrument

    base = load_bundle(model_dir)
    rec = read_recording(gestures)
    # the command's own parser: every train option at its default, as the CLI run gets them
    args = build_parser().parse_args(["train", "--gestures", gestures, "--from", model_dir,
                                      "--steer", "speed=loudness", "--out", "unused"])
    cfg = dataclasses.replace(TrainConfig(), **train_settings(args, base))
    bank = bank_of(base)

    def refit():
        return train_instrument([rec], cfg, GestureConfig(), SoundConfig(), FeatureConfig(),
                                sound_bank=bank, base=base, quiet=True)[2]

    refit()   # once untimed: the timed run below has every import done (scipy.spatial: 0.35 s)
    wall, cpu = time.perf_counter(), time.process_time()
    summary = refit()
    return {"seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu,
            "timings": summary["timings"]}


def retrain_from_cli(model_dir: str, gestures: str, out_dir: str, runs: int = 3) -> dict:
    """The performer's real command in a fresh process, as they type it:
    ``instrument train --gestures G --from MODEL --steer speed=loudness --out DIR --force
    --quiet``: wall and CPU (user + system) seconds of each run, startup and imports included."""
    import resource
    import subprocess

    command = [sys.executable, "-m", "instrument", "train", "--gestures", gestures, "--from",
               model_dir, "--steer", "speed=loudness", "--out", out_dir, "--force", "--quiet"]
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            raise InstrumentError(f"train --from failed: {proc.stderr.strip()[-300:]}")
    return {"runs": runs, "wall_seconds": walls, "cpu_seconds": cpus,
            "wall_median": float(np.median(walls)), "wall_best": min(walls),
            "cpu_median": float(np.median(cpus)), "load_1min": os.getloadavg()[0]}


def time_frames(model_dir: str, gestures: str, n_frames: int) -> dict:
    import torch

    from instrument.formats.bundle import load_bundle
    from instrument.formats.recording import read_recording
    from instrument.gesture.steps import frames_from_recording
    from instrument.learn.mapping import MappingMLP
    from instrument.learn.sae import StackedAutoencoder
    from instrument.runtime import Runtime

    torch.set_num_threads(1)
    bundle = load_bundle(model_dir)
    runtime = Runtime(bundle)
    _, windows = frames_from_recording(read_recording(gestures), runtime.gesture_config)
    moving = windows[~np.array([runtime.is_still(w) for w in windows])]
    windows = moving[np.linspace(0, len(moving) - 1, min(n_frames, len(moving))).astype(int)]

    numpy_s = []
    runtime.reset()
    runtime.still_hold = False  # time the full path on every frame
    for w in windows:
        t0 = time.perf_counter()
        runtime.frame(w)
        numpy_s.append(time.perf_counter() - t0)

    cfg, arrays = bundle.config, bundle.arrays
    g_sae = StackedAutoencoder.from_state(cfg["gesture_sae"], arrays["gesture_sae"])
    net = MappingMLP.from_state(cfg["mapping"], arrays["mapping"])
    bank = torch.from_numpy(arrays["sound_bank"]["search"])
    params = torch.from_numpy(runtime.bank_params.copy())
    in_mean, in_std = torch.from_numpy(net.in_mean), torch.from_numpy(net.in_std)
    out_mean, out_std = torch.from_numpy(net.out_mean), torch.from_numpy(net.out_std)
    sae_mean, sae_std = torch.from_numpy(g_sae.mean), torch.from_numpy(g_sae.std)
    activation = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[
        g_sae.config.activation]
    torch_s, agree = [], 0
    with torch.no_grad():
        for w in windows:
            t0 = time.perf_counter()
            h = (torch.from_numpy(w) - sae_mean) / sae_std
            feats = []
            for layer in g_sae.layers:
                h = activation(layer.encoder(h))
                feats.append(h)
            y = net.net((torch.cat(feats) - in_mean) / in_std) * out_std + out_mean
            sound = int(torch.argmin(((bank - y) ** 2).sum(dim=1)))
            _ = params[sound].numpy()
            torch_s.append(time.perf_counter() - t0)
            agree += sound == int(runtime.nearest_batch(w[None])[0])
    # The same, through the library's torch API as training and evaluation call it.
    api_s = []
    with torch.no_grad():
        for w in windows:
            t0 = time.perf_counter()
            y = torch.from_numpy(net.predict(g_sae.encode(w[None]))[0])
            sound = int(torch.argmin(((bank - y) ** 2).sum(dim=1)))
            _ = params[sound].numpy()
            api_s.append(time.perf_counter() - t0)
    n_p50, n_p99 = _percentiles(numpy_s)
    t_p50, t_p99 = _percentiles(torch_s)
    a_p50, a_p99 = _percentiles(api_s)
    return {"frames": len(windows), "numpy_p50_us": n_p50, "numpy_p99_us": n_p99,
            "torch_p50_us": t_p50, "torch_p99_us": t_p99, "speedup_p50": t_p50 / n_p50,
            "torch_api_p50_us": a_p50, "torch_api_p99_us": a_p99,
            "speedup_api_p50": a_p50 / n_p50, "same_sound_share": agree / len(windows)}


def _print_rows(rows: list[tuple[str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>20}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>20}  {target}".rstrip())


def main(argv=None) -> int:
    parser = Parser(prog="train.py", description=__doc__.splitlines()[0])
    parser.add_argument("--gestures", type=existing_file, default="recordings/demo.jsonl",
                        help="gesture recording (default recordings/demo.jsonl)")
    parser.add_argument("--model", type=existing_dir, help="time this model, skip training")
    parser.add_argument("--frames", type=positive_int, default=2000,
                        help="control frames timed (default 2000)")
    parser.add_argument("--runs", type=positive_int, default=3,
                        help="fresh-process train --from runs timed (default 3)")
    parser.add_argument("--refit-only", action="store_true",
                        help="time only train --from (needs --model), not the frames")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        result = {"cpus": os.cpu_count()}
        with tempfile.TemporaryDirectory() as tmp:
            model = args.model
            if model is None:
                model = os.path.join(tmp, "model")
                result["training"] = train_default(args.gestures, model)
            if not args.refit_only:
                result["inference"] = time_frames(model, args.gestures, args.frames)
            result["refit"] = retrain_from(model, args.gestures)
            result["refit_cli"] = retrain_from_cli(model, args.gestures,
                                                   os.path.join(tmp, "refit"), args.runs)
    except InstrumentError as err:
        print(f"train.py: error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    rows = []
    if "training" in result:
        tr = result["training"]
        rows.append(("train default instrument from scratch", f"{tr['seconds']:.1f} s", "<= 60 s"))
        for stage, seconds in tr["timings"].items():
            rows.append((f"  {stage}", f"{seconds:.1f} s", ""))
    cli, ref = result["refit_cli"], result["refit"]
    rows.append(("train --from, fresh CLI process (steered), median",
                 f"{cli['wall_median']:.2f} s ({cli['cpu_median']:.2f} s CPU)", "<= 2 s"))
    rows.append((f"  best of {cli['runs']} (1-min load {cli['load_1min']:.1f})",
                 f"{cli['wall_best']:.2f} s", ""))
    rows.append(("  in-process (no startup, imports warm)",
                 f"{ref['seconds']:.2f} s ({ref['cpu_seconds']:.2f} s CPU)", ""))
    for stage, seconds in ref["timings"].items():
        rows.append((f"    {stage}", f"{seconds:.2f} s", ""))
    if "inference" not in result:
        _print_rows(rows)
        print(f"({result['cpus']} CPUs; {args.gestures})")
        return 0
    inf = result["inference"]
    rows += [("frame, numpy runtime p50 / p99", f"{inf['numpy_p50_us']:.0f} / "
              f"{inf['numpy_p99_us']:.0f} us", "well under 1 ms"),
             ("frame, torch eager (minimal) p50 / p99", f"{inf['torch_p50_us']:.0f} / "
              f"{inf['torch_p99_us']:.0f} us", ""),
             ("frame, torch eager (library API) p50 / p99", f"{inf['torch_api_p50_us']:.0f} / "
              f"{inf['torch_api_p99_us']:.0f} us", ""),
             ("speed-up vs minimal torch (p50)", f"{inf['speedup_p50']:.1f}x", ">= 10x"),
             ("speed-up vs library API (p50)", f"{inf['speedup_api_p50']:.1f}x", ">= 10x"),
             ("same sound numpy vs torch", f"{100 * inf['same_sound_share']:.1f} %", "")]
    _print_rows(rows)
    print(f"({result['cpus']} CPUs; {inf['frames']} frames of {args.gestures})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
