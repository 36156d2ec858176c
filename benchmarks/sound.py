"""Sound engine benchmark: corpus build time and memory, FM realtime factors, pyo vs numpy.

    .venv/bin/python benchmarks/sound.py            # the table
    .venv/bin/python benchmarks/sound.py --json     # one JSON object

Targets (issue 4): the 5000 x 1 s corpus at 22050 Hz in <= 2 s on 2 cores, with bounded
memory (compare the peak with the 441 MB that holding all the audio would take). Issue 12
rows: a bank from 1 hour of audio (wall time, peak memory), the sampler voice's realtime
factor (numpy: loop and grain; the live pyo sampler on a manual server), the example Pd
patch's 1000 x 1 s corpus in pd -batch.
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
    from instrument.sound.params import PARAM_TABLE, carson_bandwidth

    # Random frames: a sixth of them have an FM band over Nyquist, so both engines' cap counts.
    params = PARAM_TABLE.to_physical(rng.random((len(times), 4)))
    numpy_s = best_of(3, lambda: render_controls(times, params, seconds, rate, 0.01, "numpy"))
    pyo_s = best_of(3, lambda: render_controls(times, params, seconds, rate, 0.01, "pyo"))
    a = render_controls(times, params, seconds, rate, 0.01, "numpy")
    b = render_controls(times, params, seconds, rate, 0.01, "pyo")
    return {"audio_s": seconds, "frames": len(times), "numpy_s": numpy_s, "pyo_s": pyo_s,
            "rms_difference": float(np.sqrt(np.mean((a - b) ** 2))),
            "over_nyquist_share": float(np.mean(carson_bandwidth(params) > rate / 2))}


def audio_bank(minutes: float = 60.0, rate: int = 44100) -> dict:
    """Bank build from one long file of tone and noise hits (a FLAC written here)."""
    import tempfile

    import soundfile as sf

    from instrument.sound.audio_bank import build_audio_bank

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="instrument-bench-") as work:
        path = os.path.join(work, "hour.flac")
        with sf.SoundFile(path, "w", rate, 1, "PCM_16") as fh:
            t = np.arange(rate) / rate
            for _ in range(int(minutes * 60)):  # one hit per second, varied
                hz = 80 * 2 ** (rng.random() * 5)
                env = np.exp(-t * (4 + 20 * rng.random()))
                hit = np.sin(2 * np.pi * hz * t) + rng.standard_normal(rate) * rng.random() ** 2
                fh.write((0.25 * hit * env).astype(np.float32))
        tracemalloc.start()
        start = time.perf_counter()
        bank, report = build_audio_bank([path], os.path.join(work, "bank.npz"),
                                        SoundConfig(rate=22050), log=lambda line: None)
        wall = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {"minutes": minutes, "rate": rate, "slices": len(bank), "build_s": wall,
            "peak_mb": peak / 1e6, "all_audio_mb": minutes * 60 * rate * 4 / 1e6}


def _bench_slices(rate: int) -> list:
    rng = np.random.default_rng(0)
    return [(rng.standard_normal(int(rate * d)) * 0.2).astype(np.float32)
            for d in rng.uniform(0.1, 2.0, 100)]


def sampler(rate: int = 44100, block: int = 256, seconds: float = 10.0,
            mode: str = "loop") -> dict:
    """The sampler voice's numpy core in live-sized blocks, a new slice every 20 blocks."""
    from instrument.sound.sampler import Sampler

    rng = np.random.default_rng(0)
    slices = _bench_slices(rate)
    buf = np.zeros(block, np.float32)
    blocks = int(seconds * rate / block)

    def run():
        voice = Sampler(slices, rate, mode)
        for i in range(blocks):
            if i % 20 == 0:
                voice.set_slice(int(rng.integers(0, len(slices))))
            voice.render(buf)

    spent = best_of(3, run)
    return {"rate": rate, "block": block, "mode": mode, "rtf": blocks * block / rate / spent,
            "per_block_us": spent / blocks * 1e6}


def pyo_sampler(rate: int = 44100, block: int = 256, seconds: float = 10.0,
                mode: str = "loop") -> dict | None:
    """The live pyo sampler voice on a manual server: wall and CPU time per block computed
    (its Python block callback and pyo's graph), a new slice every 20 blocks."""
    try:
        from instrument.output.pyo_sampler import PyoSamplerVoice
    except ImportError:
        return None
    rng = np.random.default_rng(0)
    slices = _bench_slices(rate)
    blocks = int(seconds * rate / block)
    best_wall = best_cpu = float("inf")
    for _ in range(3):
        voice = PyoSamplerVoice(slices, "manual", rate, block, mode).start()
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(blocks):
                if i % 20 == 0:
                    voice.set_params([int(rng.integers(0, len(slices)))])
                voice.process(1)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        finally:
            voice.stop()
        best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
    audio_s = blocks * block / rate
    return {"rate": rate, "block": block, "mode": mode, "rtf": audio_s / best_wall,
            "cpu_rtf": audio_s / best_cpu, "per_block_us": best_wall / blocks * 1e6}


def pd_corpus(n: int = 1000, seconds: float = 1.0, rate: int = 22050) -> dict | None:
    """The example Pd patch's corpus in pd -batch (None when Pd is not installed)."""
    import shutil

    if not (shutil.which("pd") or shutil.which("puredata")):
        return None
    from instrument.sound.pd_synth import build_pd_bank

    patch = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "examples", "subtractive.pd")
    start = time.perf_counter()
    build_pd_bank(patch, SoundConfig(n_sounds=n, seconds=seconds, rate=rate))
    return {"sounds": n, "seconds_each": seconds, "rate": rate,
            "build_s": time.perf_counter() - start}


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
    a, sp, pdc = result.get("audio_bank"), result.get("sampler"), result.get("pd_corpus")
    if a:
        rows += [("audio bank build", f"{a['minutes']:g} min of audio @ {a['rate']} Hz (FLAC), "
                                      "onsets", f"{a['build_s']:.1f} s wall, {a['slices']} slices",
                  ""),
                 ("audio bank peak memory", "tracemalloc peak during the build",
                  f"{a['peak_mb']:.0f} MB", f"bounded (all audio: {a['all_audio_mb']:.0f} MB)")]
    if sp:
        rows.append(("sampler voice (numpy)", f"{sp['block']}-sample blocks @ {sp['rate']} Hz, "
                     "switch every 20", f"{sp['rtf']:.0f}x realtime "
                     f"({sp['per_block_us']:.0f} us/block)", "> 1x"))
    for key, name in (("sampler_grain", "sampler voice (numpy), grain"),
                      ("pyo_sampler", "pyo sampler voice (manual server)"),
                      ("pyo_sampler_grain", "pyo sampler voice, grain")):
        row = result.get(key)
        if row:
            cpu = f", {row['cpu_rtf']:.0f}x in CPU time" if "cpu_rtf" in row else ""
            rows.append((name, f"{row['block']}-sample blocks @ {row['rate']} Hz, "
                         f"{row['mode']}, switch every 20", f"{row['rtf']:.0f}x realtime "
                         f"({row['per_block_us']:.0f} us/block{cpu})", "> 1x"))
    if pdc:
        rows.append(("Pd batch corpus", f"{pdc['sounds']} x {pdc['seconds_each']:g} s @ "
                     f"{pdc['rate']} Hz, examples/subtractive.pd",
                     f"{pdc['build_s']:.1f} s wall (with features)", ""))
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
    parser.add_argument("--quick", action="store_true",
                        help="leave out the audio bank build from 1 hour of audio")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    result = {"cpus": os.cpu_count(), "load_before": load_before,
              "corpus": corpus(args.n, 1.0, 22050, args.workers, args.repeats),
              "realtime": realtime(), "engines": engines(),
              "sampler": sampler(), "sampler_grain": sampler(mode="grain"),
              "pyo_sampler": pyo_sampler(), "pyo_sampler_grain": pyo_sampler(mode="grain"),
              "pd_corpus": pd_corpus(),
              "audio_bank": None if args.quick else audio_bank(),
              "load_after": os.getloadavg()[0]}
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
