"""Scaling: live frame time vs bank size, and training time / peak memory vs recording length
and bank size. Prints tables (``--json`` for JSON); targets: frame p99 <= 0.5 ms at 10^6 bank
sounds, training in bounded memory, no superlinear stage.

    .venv/bin/python benchmarks/scaling.py            # everything (a few minutes)
    .venv/bin/python benchmarks/scaling.py --frames   # only the frame table

Frames: a small trained model (tests/tiny_model.py) whose bank is replaced by N random points
in its search space (and random parameters), so the frame path is the real Runtime.frame with
its exact k-d tree search (instrument/sound/search.py) and hysteresis, under each frame policy;
2000 frames of recorded-like windows, after 200 warm-up frames.

Training: each setting runs ``instrument train`` in a fresh process on synthetic strokes of
the given length, with an FM bank of the given size built by ``instrument sounds build``;
peak memory is the process's maximum resident set (``getrusage``), stage times are the
model's ``timings``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, ROOT)


def frame_times(n_sounds: int, frames: int = 2000, seed: int = 0) -> dict:
    from tiny_model import tiny_parts

    from instrument.formats.bundle import Bundle
    from instrument.runtime import Runtime

    config, arrays, extra = tiny_parts(seed=seed)
    rng = np.random.default_rng(seed)
    bank = dict(arrays["sound_bank"])
    d = bank["search"].shape[1]
    bank["search"] = rng.standard_normal((n_sounds, d)).astype(np.float32)
    bank["params_unit"] = rng.random((n_sounds, bank["params_unit"].shape[1]), np.float32)
    bank["features"] = np.zeros((n_sounds, 1), np.float32)
    for key in ("descriptors", "sound_labels"):
        bank.pop(key, None)
    arrays = dict(arrays, sound_bank=bank)
    t0 = time.perf_counter()
    runtime = Runtime(Bundle("(scaling)", config, arrays))
    load_s = time.perf_counter() - t0
    windows = np.asarray(extra["windows"], np.float32)
    moving = windows[np.any(windows[:, -3:] != 0, axis=1)]
    order = rng.integers(0, len(moving), frames + 200)
    row = {"sounds": n_sounds, "load_s": load_s, "tree": bool(runtime.search.uses_tree),
           "blend_k": int(runtime.blend_k)}
    # a blend of 48 (structure pairing's policy), one sound with the most alike on a change
    # (descriptors pairing's: frame_policy.most_alike; random windows change sound on most
    # frames, its worst case), the plain closest sound with hysteresis, and the exact
    # search alone on the same targets
    for name, blend, like in (("frame", runtime.blend_k, 0.0), ("alike", 1, 2.0),
                              ("nearest", 1, 0.0)):
        runtime.blend_k, runtime.like_tolerance = blend, like
        runtime.reset()
        spent, cpu = np.empty(frames), np.empty(frames)
        for i, j in enumerate(order):
            w = moving[j]
            c = time.thread_time_ns()
            t = time.perf_counter()
            runtime.frame(w)
            if i >= 200:
                spent[i - 200] = time.perf_counter() - t
                cpu[i - 200] = (time.thread_time_ns() - c) * 1e-9
        us = spent * 1e6
        row[f"{name}_p50_us"] = float(np.percentile(us, 50))
        row[f"{name}_p99_us"] = float(np.percentile(us, 99))
        # the frame's own CPU time: what it costs without the waits of a busy machine
        row[f"{name}_cpu_p99_us"] = float(np.percentile(cpu * 1e6, 99))
    targets = runtime.targets_batch(moving[order])
    spent = np.empty(frames)
    for i, y in enumerate(targets[200:]):
        t = time.perf_counter()
        runtime.search.nearest(y)
        spent[i] = time.perf_counter() - t
    row["search_p50_us"] = float(np.percentile(spent * 1e6, 50))
    row["search_p99_us"] = float(np.percentile(spent * 1e6, 99))
    return row


_TRAIN = r"""
import json, resource, sys, time
sys.argv = ["instrument"] + sys.argv[1:]
from instrument.cli import main
t = time.perf_counter()
code = main()
print(json.dumps({"code": code, "wall_s": time.perf_counter() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _run(args: list[str]) -> dict:
    env = dict(os.environ, PYO_GUI_WX="0", SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    proc = subprocess.run([sys.executable, "-c", _TRAIN, *args], capture_output=True,
                          text=True, cwd=ROOT, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.strip()[-400:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def train_run(minutes: float, n_sounds: int, work: str, epochs: int) -> dict:
    gestures = os.path.join(work, f"g{minutes:g}.jsonl")
    if not os.path.exists(gestures):
        _run(["gestures", "synth", "--seconds", str(int(minutes * 60)), "--seed", "1",
              "--out", gestures])
    bank = os.path.join(work, f"bank{n_sounds}.npz")
    bank_row = None
    if not os.path.exists(bank):
        bank_row = _run(["sounds", "build", "--n", str(n_sounds), "--out", bank, "--quiet"])
    model = os.path.join(work, f"m{minutes:g}_{n_sounds}")
    row = _run(["train", "--gestures", gestures, "--sound-bank", bank, "--out", model,
                "--epochs", str(epochs), "--quiet", "--force"])
    with open(os.path.join(model, "config.json")) as fh:
        timings = json.load(fh)["timings"]
    return {"minutes": minutes, "sounds": n_sounds, "train_s": row["wall_s"],
            "train_peak_mb": row["peak_mb"], "timings": timings,
            "bank_build_s": None if bank_row is None else bank_row["wall_s"],
            "bank_build_peak_mb": None if bank_row is None else bank_row["peak_mb"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", action="store_true", help="only the frame table")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--epochs", type=int, default=30, help="SAE epochs (default 30)")
    args = parser.parse_args()
    result = {"frames": [frame_times(n) for n in (5000, 100_000, 1_000_000)]}
    if not args.json:
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; microseconds "
              "p50 / p99")
        print(f"{'bank sounds':>12} {'blend of 48':>15} {'one, most alike':>16} "
              f"{'closest':>13} {'CPU p99':>12} {'search alone':>13} {'model load':>11}  search")
        for r in result["frames"]:
            print(f"{r['sounds']:>12,} {r['frame_p50_us']:>6.0f} / {r['frame_p99_us']:<6.0f}"
                  f" {r['alike_p50_us']:>6.0f} / {r['alike_p99_us']:<7.0f}"
                  f" {r['nearest_p50_us']:>4.0f} / {r['nearest_p99_us']:<6.0f}"
                  f" {r['frame_cpu_p99_us']:>3.0f}/{r['alike_cpu_p99_us']:>3.0f}/"
                  f"{r['nearest_cpu_p99_us']:<4.0f}"
                  f" {r['search_p50_us']:>4.0f} / {r['search_p99_us']:<6.0f}"
                  f" {r['load_s']:>9.2f} s  {'k-d tree' if r['tree'] else 'brute force'}")
        print("target: frame p99 <= 500 us at 1,000,000 sounds (CPU p99: blend / most alike / "
              "closest, the frame's own CPU time without the waits of a loaded machine)")
    if not args.frames:
        with tempfile.TemporaryDirectory(prefix="instrument-scaling-") as work:
            settings = [(30, 5000), (120, 5000), (30, 100_000)]
            result["train"] = [train_run(m, n, work, args.epochs) for m, n in settings]
        if not args.json:
            print()
            print(f"{'recording':>9} {'bank':>8} {'train':>8} {'peak RSS':>9} "
                  f"{'windows':>8} {'sound SAE':>9} {'mapping':>8} {'metrics':>8}")
            for r in result["train"]:
                t = r["timings"]
                print(f"{r['minutes']:>6g} min {r['sounds']:>8,} {r['train_s']:>7.1f}s "
                      f"{r['train_peak_mb']:>7.0f}MB {t.get('gesture windows', 0):>7.1f}s "
                      f"{t.get('sound SAE', 0):>8.1f}s {t.get('mapping', 0):>7.1f}s "
                      f"{t.get('metrics', 0):>7.1f}s")
            for r in result["train"]:
                if r["bank_build_s"] is not None:
                    print(f"bank build {r['sounds']:,} FM sounds: {r['bank_build_s']:.1f} s, "
                          f"peak RSS {r['bank_build_peak_mb']:.0f} MB")
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
