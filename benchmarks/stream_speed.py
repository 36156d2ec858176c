"""Speed of the any-width stream path: live push + window_at per sample (2, 16, 128 and 1024
channels), offline frames and training windows of a 60 s 16-channel recording, and learning
its normalisation.

Usage: python benchmarks/stream_speed.py [--json]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests"))

from stream_helpers import write_stream_file  # noqa: E402
from timing import best_of, print_rows  # noqa: E402  (benchmarks/ is sys.path[0])

from instrument.config import GestureConfig  # noqa: E402
from instrument.formats.recording import read_recording  # noqa: E402
from instrument.gesture.stream import (  # noqa: E402
    fit_stream_spec,
    stream_frames,
    stream_windows,
)
from instrument.gesture.stream_tracker import StreamTracker  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    cfg = GestureConfig()
    rows = []
    # the pointer's tracker in the same run, for scale (the machine's load moves both alike)
    from instrument.gesture.tracker import GestureTracker

    demo = read_recording(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__))), "recordings", "demo.jsonl"))
    pt, px, py = demo.t[:300].tolist(), demo.x[:300].tolist(), demo.y[:300].tolist()

    def pointer():
        tracker = GestureTracker(cfg, demo.width, demo.height)
        for t, x, y in zip(pt, px, py):
            tracker.push(t, x, y)
            tracker.window_at(t)
    rows.append(("push + window_at, the pointer (per sample)", best_of(3, pointer) / 300 * 1e6,
                 "us"))
    with tempfile.TemporaryDirectory() as folder:
        for width in (2, 16, 128, 1024):
            rec = read_recording(write_stream_file(os.path.join(folder, f"s{width}.jsonl"),
                                                   width, seconds=6 if width < 1024 else 2))
            spec = fit_stream_spec([rec], cfg)
            t, values = rec.t.tolist(), rec.values
            n = min(len(t), 300)

            def push_and_window():
                tracker = StreamTracker(cfg, spec)
                for i in range(n):
                    tracker.push(t[i], values[i])
                    tracker.window_at(t[i])
            seconds = best_of(3, push_and_window)
            rows.append((f"push + window_at, {width} channels (per sample)", seconds / n * 1e6,
                         "us"))
        rec = read_recording(write_stream_file(os.path.join(folder, "long.jsonl"), 16,
                                               seconds=60))
        holder = {}
        seconds = best_of(3, lambda: holder.update(spec=fit_stream_spec([rec], cfg)))
        rows.append(("fit_stream_spec (60 s, 16 channels)", seconds, "s"))
        spec = holder["spec"]
        seconds = best_of(3, lambda: holder.update(f=stream_frames(rec, cfg, spec)))
        rows.append((f"stream_frames (60 s, 16 channels, {len(holder['f'][0])} frames)",
                     seconds, "s"))
        seconds = best_of(3, lambda: stream_windows(rec, cfg, spec))
        rows.append(("stream_windows (60 s, 16 channels, training hop)", seconds, "s"))
    print_rows(rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
