"""Sound engine benchmark: corpus build time and memory, FM realtime factors, pyo vs numpy.

    .venv/bin/python benchmarks/sound.py            # the table
    .venv/bin/python benchmarks/sound.py --json     # one JSON object

Targets (issue 4): the 5000 x 1 s corpus at 22050 Hz in <= 2 s on 2 cores, with bounded
memory (compare the peak with the 441 MB that holding all the audio would take).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("PYO_GUI_WX", "0")

from timing import best_of  # noqa: E402  (benchmarks/ is sys.path[0])

from instrument.config import FeatureConfig, SoundConfig  # noqa: E402
from instrument.live.render import render_controls  # noqa: E402
from instrument.sound.bank import build_sound_bank  # noqa: E402
from instrument.sound.fm import default_workers, render_fm  # noqa: E402
from instrument.sound.smoothed_fm import SmoothedFM  # noqa: E402


def corpus(n: int, seconds: float, rate: int, workers: int, repeats: int) -> dict:
    cfg = SoundConfig(n_sounds=n, seconds=seconds, rate=rate, seed=0)
    build_sound_bank(SoundConfig(n_sounds=50, seconds=seconds, rate=rate), FeatureConfig(),
                     workers=workers)  # warm up (imports, FFT plans)
    wall = best_of(repeats, lambda: build_sound_bank(cfg, FeatureConfig(), workers=workers))
    cpu_start = time.process_time()
    build_sound_bank(cfg, FeatureConfig(), workers=workers)
    cpu = time.process_time() - cpu_start
    tracemalloc.start()
    build_sound_bank(cfg, FeatureConfig(), workers=workers)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"sounds": n, "seconds_each": seconds, "rate": rate, "workers": workers,
            "build_s": wall, "build_cpu_s": cpu, "peak_mb": peak / 1e6,
            "all_audio_mb": n * int(round(seconds * rate)) * 4 / 1e6}


def realtime(rate: int = 44100, block: int = 256, seconds: float = 10.0) -> dict:
    voice = SmoothedFM(rate, 0.01, max_block=block)
    buf = np.zeros(block, dtype=np.float32)
    blocks = int(seconds * rate / block)
    params = np.array([[200 + i % 700, 1 + (i % 5) / 2, i % 10, 0.5] for i in range(blocks)])

    def run_voice():
        for i in range(blocks):
            voice.set_target(params[i])
            voice.render(buf)

    voice_s = best_of(3, run_voice)
    n = int(seconds * rate)
    static_s = best_of(3, lambda: render_fm(440, 2, 3, 0.5, n, rate))
    return {"rate": rate, "block": block, "audio_s": blocks * block / rate,
            "smoothed_voice_rtf": blocks * block / rate / voice_s,
            "per_block_us": voice_s / blocks * 1e6,
            "render_fm_rtf": n / rate / static_s}


def engines(rate: int = 44100, seconds: float = 10.0, frame_hz: float = 100.0) -> dict:
    times = np.arange(0, seconds, 1 / frame_hz)
    rng = np.random.default_rng(0)
    from instrument.sound.params import PARAM_TABLE

    params = PARAM_TABLE.to_physical(rng.random((len(times), 4)))
    numpy_s = best_of(3, lambda: render_controls(times, params, seconds, rate, 0.01, "numpy"))
    pyo_s = best_of(3, lambda: render_controls(times, params, seconds, rate, 0.01, "pyo"))
    a = render_controls(times, params, seconds, rate, 0.01, "numpy")
    b = render_controls(times, params, seconds, rate, 0.01, "pyo")
    return {"audio_s": seconds, "frames": len(times), "numpy_s": numpy_s, "pyo_s": pyo_s,
            "rms_difference": float(np.sqrt(np.mean((a - b) ** 2)))}


def table(result: dict) -> str:
    c, r, e = result["corpus"], result["realtime"], result["engines"]
    rows = [
        ("corpus build", f"{c['sounds']} x {c['seconds_each']:g} s @ {c['rate']} Hz, "
                         f"{c['workers']} threads", f"{c['build_s']:.2f} s wall "
                         f"({c['build_cpu_s']:.2f} s CPU)", "<= 2 s"),
        ("corpus peak memory", "tracemalloc peak during the build",
         f"{c['peak_mb']:.0f} MB", f"bounded (all audio: {c['all_audio_mb']:.0f} MB)"),
        ("SmoothedFM (live voice)", f"{r['block']}-sample blocks @ {r['rate']} Hz",
         f"{r['smoothed_voice_rtf']:.0f}x realtime ({r['per_block_us']:.0f} us/block)", "> 1x"),
        ("render_fm (one tone)", f"{r['audio_s']:.0f} s @ {r['rate']} Hz",
         f"{r['render_fm_rtf']:.0f}x realtime", ""),
        ("control render, numpy", f"{e['audio_s']:.0f} s, {e['frames']} frames",
         f"{e['numpy_s']:.3f} s", ""),
        ("control render, pyo offline", f"{e['audio_s']:.0f} s, {e['frames']} frames",
         f"{e['pyo_s']:.3f} s", f"rms diff vs numpy {e['rms_difference']:.4f}"),
    ]
    widths = [max(len(row[i]) for row in rows + [("measure", "setting", "result", "target")])
              for i in range(4)]
    line = "| " + " | ".join("{:<%d}" % w for w in widths) + " |"
    out = [line.format("measure", "setting", "result", "target"),
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line.format(*row) for row in rows]
    out.append(f"\n{result['cpus']} CPUs, load average {result['load_before']:.1f} before / "
               f"{result['load_after']:.1f} after the run (wall times grow with other jobs; "
               "CPU time does not)")
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--n", type=int, default=5000, help="corpus size (default 5000)")
    parser.add_argument("--workers", type=int, default=default_workers(),
                        help="corpus threads (default: available CPUs, at most 4)")
    parser.add_argument("--repeats", type=int, default=3, help="best of N corpus builds")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    result = {"cpus": os.cpu_count(), "load_before": load_before,
              "corpus": corpus(args.n, 1.0, 22050, args.workers, args.repeats),
              "realtime": realtime(), "engines": engines(),
              "load_after": os.getloadavg()[0]}
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
