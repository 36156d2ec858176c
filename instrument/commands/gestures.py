"""`instrument gestures synth|info|plot`: make, inspect and plot gesture recordings."""

from __future__ import annotations

import argparse

from instrument.commands.argtypes import (
    SEED,
    WINDOW_PX,
    existing_file,
    float_in,
)

NAME = "gestures"
HELP = "synthesize, inspect and plot gesture recordings"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="gestures_command", metavar="ACTION", required=True)
    synth = sub.add_parser("synth", help="write a synthetic (human-like) gesture recording",
                           description="Write a synthetic gesture recording: strokes, arcs, "
                           "circles, spirals, zig-zags, scribbles and pauses, sampled like a "
                           "mouse. The same seed gives the same file.")
    synth.add_argument("--seconds", type=float_in(0, 36_000, "s", low_open=True), default=420.0,
                       help="length in seconds (420 = the paper's 7 minutes)")
    synth.add_argument("--seed", type=SEED, default=0, help="random seed (0)")
    synth.add_argument("--width", type=WINDOW_PX, default=1280,
                       help="window width in pixels (1280)")
    synth.add_argument("--height", type=WINDOW_PX, default=800,
                       help="window height in pixels (800)")
    synth.add_argument("--out", required=True, metavar="FILE", help="recording to write (.jsonl)")
    synth.add_argument("--force", action="store_true", help="replace an existing --out file")
    synth.add_argument("--quiet", action="store_true", help="print nothing but errors")

    info = sub.add_parser("info", help="duration, samples, rate, path length, stillness",
                          description="Summarise a recording in one line (or JSON).")
    info.add_argument("file", type=existing_file, help="a gesture recording (.jsonl)")
    info.add_argument("--json", action="store_true", help="print one JSON object")

    plot = sub.add_parser("plot", help="PNG of the path coloured by speed and θ/ρ histograms",
                          description="Plot a recording: the path coloured by speed, and "
                          "histograms of the relative polar steps θ and ρ.")
    plot.add_argument("file", type=existing_file, help="a gesture recording (.jsonl)")
    plot.add_argument("--out", required=True, metavar="PNG", help="image to write")
    plot.add_argument("--force", action="store_true", help="replace an existing --out file")


def run(args: argparse.Namespace) -> int:
    return {"synth": _synth, "info": _info, "plot": _plot}[args.gestures_command](args)


def _synth(args) -> int:
    from instrument.formats.outputs import check_output
    from instrument.formats.recording import write_recording
    from instrument.gesture.synthetic import synthesize

    check_output(args.out, args.force)
    rec = synthesize(args.seconds, args.seed, args.width, args.height)
    write_recording(args.out, rec, t_decimals=4, xy_decimals=1)
    if not args.quiet:
        print(f"wrote {len(rec)} samples ({args.seconds:g} s, seed {args.seed}) to {args.out}")
    return 0


def summarize(rec, cfg=None) -> dict:
    """The numbers `gestures info` prints, as a dict."""
    import math

    import numpy as np

    from instrument.config import GestureConfig
    from instrument.gesture.steps import accepted_samples, polar_steps, resample

    if not rec.is_pointer:                 # OSC, MIDI, gamepad: channels, not a path
        from instrument.gesture.stream_info import summarize_stream

        return summarize_stream(rec, cfg)
    cfg = cfg or GestureConfig()
    diagonal = math.hypot(rec.width, rec.height)
    keep = accepted_samples(rec.t, rec.x, rec.y, rec.width, rec.height)
    step = np.hypot(np.diff(rec.x[keep]), np.diff(rec.y[keep]))
    step = step[step <= cfg.jump_rho * diagonal]          # jumps are not travelled path
    grid = resample(rec, cfg)
    theta, _ = polar_steps(grid.x, grid.y, rec.width, rec.height, cfg.still_rho, grid.jumps)
    duration = rec.duration
    return {
        "file": rec.path, "source": rec.source, "width": rec.width, "height": rec.height,
        "duration_s": round(duration, 4), "samples": len(rec),
        "rejected_samples": int(len(rec) - keep.sum()),
        "effective_rate_hz": round((len(rec) - 1) / duration, 2) if duration > 0 else 0.0,
        "path_px": round(float(step.sum()), 1),
        "path_diagonals": round(float(step.sum()) / diagonal, 2),
        "still_share": round(float(np.isnan(theta).mean()), 4) if len(theta) else 1.0,
        "truncated": rec.truncated,
    }


def _info(args) -> int:
    import json

    from instrument.gesture.info import summarize_file

    s = summarize_file(args.file)           # streamed: a 100 MB file in a few MB
    if args.json:
        print(json.dumps(s))
        return 0
    if "channels" in s:
        from instrument.gesture.stream_info import stream_info_line

        print(stream_info_line(s))
        return 0
    extra = ", cut last line dropped" if s["truncated"] else ""
    rejected = f", {s['rejected_samples']} rejected" if s["rejected_samples"] else ""
    print(f"{s['file']}: {s['duration_s']:.1f} s, {s['samples']} samples{rejected}, "
          f"{s['effective_rate_hz']:.1f} Hz effective, path {s['path_px']:.0f} px "
          f"({s['path_diagonals']:.1f} diagonals), still {100 * s['still_share']:.1f}%, "
          f"{s['width']}x{s['height']}, source {s['source'] or 'unknown'}{extra}")
    if s.get("long_pauses"):
        from instrument.gesture.pauses import MAX_PAUSE_S

        print(f"note: {s['long_pauses']} pause(s) longer than {MAX_PAUSE_S:g} s are played as "
              f"{MAX_PAUSE_S:g} s of stillness (render, train, replay)")
    return 0


def _plot(args) -> int:
    from instrument.errors import BadInput
    from instrument.formats.outputs import check_output
    from instrument.formats.recording import read_recording

    check_output(args.out, args.force, [("recording", args.file)])
    rec = read_recording(args.file)
    if len(rec) < 2:
        raise BadInput(f"{args.file} has {len(rec)} samples, too few to plot")
    if rec.is_pointer:
        plot_recording(rec, args.out)
    else:
        from instrument.gesture.stream_info import plot_stream

        plot_stream(rec, args.out)
    print(f"wrote {args.out}")
    return 0


def plot_recording(rec, out: str, cfg=None) -> None:
    """Save a PNG: the path coloured by speed, a polar θ histogram and a ρ histogram."""
    from instrument.extras import pyplot

    plt = pyplot("gestures plot")
    import numpy as np
    from matplotlib.collections import LineCollection

    from instrument.config import GestureConfig
    from instrument.gesture.steps import accepted_samples, polar_steps, resample

    cfg = cfg or GestureConfig()
    keep = accepted_samples(rec.t, rec.x, rec.y, rec.width, rec.height)
    t, x, y = rec.t[keep], rec.x[keep], rec.y[keep]
    points = np.column_stack([x, y])
    segments = np.stack([points[:-1], points[1:]], axis=1)
    speed = np.hypot(np.diff(x), np.diff(y)) / np.diff(t)
    grid = resample(rec, cfg)
    theta, rho = polar_steps(grid.x, grid.y, rec.width, rec.height, cfg.still_rho, grid.jumps)
    moving = ~np.isnan(theta)

    fig = plt.figure(figsize=(15, 5.2))
    ax = fig.add_subplot(1, 3, 1)
    vmax = np.percentile(speed, 98) if len(speed) else 1.0
    lines = LineCollection(segments, array=np.minimum(speed, vmax), cmap="viridis", linewidths=0.6)
    ax.add_collection(lines)
    ax.set_xlim(0, rec.width)
    ax.set_ylim(rec.height, 0)                    # screen coordinates: y down
    ax.set_aspect("equal")
    ax.set_title(f"path ({rec.duration:.0f} s, {len(rec)} samples)")
    fig.colorbar(lines, ax=ax, fraction=0.035, label="speed (px/s)")

    ax = fig.add_subplot(1, 3, 2, projection="polar")
    ax.hist(theta[moving], bins=36, range=(-np.pi, np.pi), color="tab:blue")
    ax.set_title(f"θ of moving steps (y up); still {100 * (1 - moving.mean()):.0f}%", pad=18)

    ax = fig.add_subplot(1, 3, 3)
    if moving.any():
        r = rho[moving]
        bins = np.logspace(np.log10(r.min()), np.log10(r.max()), 50)
        ax.hist(r, bins=bins, color="tab:orange")
        ax.set_xscale("log")
    ax.set_xlabel(f"ρ per {1000 / cfg.rate_hz:g} ms step (window diagonals)")
    ax.set_ylabel("steps")
    ax.set_title("ρ of moving steps")
    name = rec.path or "recording"
    fig.suptitle(f"{name}  ({rec.width}x{rec.height}, source {rec.source or 'unknown'})")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    from instrument.formats.safe_io import save_png

    try:
        save_png(fig, out, what="gesture plot", dpi=100)
    finally:
        plt.close(fig)
