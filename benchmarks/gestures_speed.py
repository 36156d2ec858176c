"""Speed of the gesture path: live window_at (the performance hot path), offline frames of
the 7-minute demo recording, one PointerWindow draw (dummy video driver), and `gestures info`
streaming a generated ~100 MB recording (time and tracemalloc peak).

Usage: python benchmarks/gestures_speed.py [--json] [--big-mb 100]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import numpy as np  # noqa: E402
from timing import best_of, print_rows  # noqa: E402  (benchmarks/ is sys.path[0])

from instrument.config import GestureConfig  # noqa: E402
from instrument.formats.recording import read_recording  # noqa: E402
from instrument.gesture.steps import frames_from_recording, windows_from_recording  # noqa: E402
from instrument.gesture.tracker import GestureTracker  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--big-mb", type=float, default=100.0,
                        help="size of the generated recording for the info rows (0: skip)")
    args = parser.parse_args()
    rec = read_recording(os.path.join(ROOT, "recordings", "demo.jsonl"))
    cfg = GestureConfig()
    rows = []

    tracker = GestureTracker(cfg, rec.width, rec.height)
    for t, x, y in zip(rec.t[:500], rec.x[:500], rec.y[:500]):
        tracker.push(t, x, y)
    t_end = float(rec.t[499])
    n = 20000
    seconds = best_of(3, lambda: [tracker.window_at(t_end) for _ in range(n)])
    rows.append(("window_at (live, per call)", seconds / n * 1e6, "us"))

    def push_and_window():
        tr = GestureTracker(cfg, rec.width, rec.height)
        for t, x, y in zip(rec.t[:5000].tolist(), rec.x[:5000].tolist(), rec.y[:5000].tolist()):
            tr.push(t, x, y)
            tr.window_at(t)
    rows.append(("push + window_at (per sample)", best_of(3, push_and_window) / 5000 * 1e6, "us"))

    holder = {}
    seconds = best_of(3, lambda: holder.update(f=frames_from_recording(rec, cfg)))
    rows.append((f"frames_from_recording (demo, {len(holder['f'][0])} frames)", seconds, "s"))
    seconds = best_of(3, lambda: windows_from_recording(rec, cfg))
    rows.append(("windows_from_recording (demo)", seconds, "s"))

    try:
        from instrument.gesture.capture import PointerWindow

        with PointerWindow(960, 640, allow_dummy=True) as win:
            for i in range(150):
                win.add_trail(i / 100, 100 + 3 * i, 300 + 100 * np.sin(i / 10))
            scatter = np.random.default_rng(0).random((5000, 2))
            win.draw(["x"], scatter=scatter, highlight=1, meter=(1, 10, "1 ms"))  # caches the map
            seconds = best_of(20, lambda: win.draw(["sound 12", "carrier_hz 440", "frames 1"],
                                                   scatter=scatter, highlight=3,
                                                   meter=(1.0, 10.0, "1.00 ms")))
            rows.append(("PointerWindow.draw (dummy driver, 5000-point map)", seconds * 1e3, "ms"))
    except Exception as err:  # noqa: BLE001 - pygame missing or no dummy driver: report, do not fail
        rows.append((f"PointerWindow.draw skipped: {err}", float("nan"), ""))

    if args.big_mb > 0:
        rows.extend(_info_rows(args.big_mb))

    print_rows(rows, args.json)
    return 0


def _write_big_recording(path: str, megabytes: float) -> int:
    """A mouse-like recording of about ``megabytes`` MB (~36 bytes a line); its sample count."""
    from instrument.formats.recording import make_header

    n = int(megabytes * 1e6 / 36)
    rng = np.random.default_rng(0)
    with open(path, "w") as f:
        f.write(json.dumps(make_header(1280, 800, source="benchmark")) + "\n")
        t0 = 0.0
        for start in range(0, n, 100_000):
            m = min(100_000, n - start)
            t = t0 + np.cumsum(rng.uniform(0.008, 0.016, m))
            t0 = float(t[-1])
            x = 640 + 500 * np.sin(t * 0.9) * np.cos(t * 0.13)
            y = 400 + 300 * np.sin(t * 1.7)
            f.writelines(f'{{"t":{a:.6f},"x":{b:.1f},"y":{c:.1f}}}\n' for a, b, c in zip(t, x, y))
    return n


def _info_rows(megabytes: float) -> list:
    import tempfile
    import time
    import tracemalloc

    from instrument.gesture.info import summarize_file

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "big.jsonl")
        n = _write_big_recording(path, megabytes)
        size = os.path.getsize(path) / 1e6
        start = time.perf_counter()
        summarize_file(path)
        seconds = time.perf_counter() - start
        tracemalloc.start()
        summarize_file(path)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    name = f"gestures info, streamed ({size:.0f} MB, {n} samples)"
    return [(name, seconds, "s"), (f"  peak memory (tracemalloc; file {size:.0f} MB)", peak, "MB")]


if __name__ == "__main__":
    sys.exit(main())
