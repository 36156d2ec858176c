"""Speed of the gesture path: live window_at (the performance hot path), offline frames of
the 7-minute demo recording, and one PointerWindow draw (dummy video driver).

Usage: python benchmarks/gestures_speed.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import numpy as np  # noqa: E402
from timing import best_of  # noqa: E402  (benchmarks/ is sys.path[0])

from instrument.config import GestureConfig  # noqa: E402
from instrument.formats.recording import read_recording  # noqa: E402
from instrument.gesture.steps import GestureTracker, frames_from_recording, windows_from_recording  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
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

    if args.json:
        print(json.dumps({name: value for name, value, _ in rows}))
    else:
        width = max(len(r[0]) for r in rows)
        print(f"{'what':<{width}}  {'time':>10}")
        for name, value, unit in rows:
            print(f"{name:<{width}}  {value:>10.3f} {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
