"""`gestures info` and `gestures plot` for streams that are not a pointer (OSC, MIDI, gamepad)."""

from __future__ import annotations

import numpy as np

from instrument.config import GestureConfig


def summarize_stream(rec, cfg: GestureConfig | None = None) -> dict:
    """What `gestures info` says of an N-channel recording, as a dict.

    ``still_share`` is the share of control frames (the frame rule of
    :mod:`instrument.gesture.stream`) in which no channel moved.
    """
    from instrument.gesture.stream import StreamSpec, accepted_stream_samples, stream_frames

    cfg = cfg or GestureConfig()
    values = rec.channel_values()
    keep = accepted_stream_samples(rec.t, values)
    one_step = GestureConfig(rate_hz=cfg.rate_hz, window_steps=1,
                             rest_after_s=cfg.rest_after_s)
    spec = StreamSpec.identity(rec.channel_list())
    _, frames = stream_frames(rec, one_step, spec)
    c = spec.width
    still = (frames[:, c:] == 0).all(axis=1) if len(frames) else np.ones(0, bool)
    good = values[keep]
    duration = rec.duration
    return {
        "file": rec.path, "source": rec.source, "channels": c,
        "channel_names": [ch.name for ch in rec.channel_list()],
        "duration_s": round(duration, 4), "samples": len(rec),
        "rejected_samples": int(len(rec) - keep.sum()),
        "effective_rate_hz": round((len(rec) - 1) / duration, 2) if duration > 0 else 0.0,
        "ranges": ([[round(float(lo), 6), round(float(hi), 6)] for lo, hi in
                    zip(good.min(0), good.max(0))] if len(good) else []),
        "still_share": round(float(still.mean()), 4) if len(still) else 1.0,
        "truncated": rec.truncated,
    }


def stream_info_line(s: dict) -> str:
    """The one line `gestures info` prints for :func:`summarize_stream`."""
    names = s["channel_names"]
    shown = ", ".join(names) if len(names) <= 4 else f"{names[0]}..{names[-1]}"
    extra = ", cut last line dropped" if s["truncated"] else ""
    rejected = f", {s['rejected_samples']} rejected" if s["rejected_samples"] else ""
    return (f"{s['file']}: {s['duration_s']:.1f} s, {s['samples']} samples{rejected}, "
            f"{s['effective_rate_hz']:.1f} Hz effective, {s['channels']} channels ({shown}), "
            f"still {100 * s['still_share']:.1f}%, source {s['source'] or 'unknown'}{extra}")


def plot_stream(rec, out: str, cfg: GestureConfig | None = None) -> None:
    """Save a PNG: every channel over time (each scaled to its own range), as a heat map,
    and the first channels as lines."""
    from instrument.extras import pyplot
    from instrument.formats.safe_io import save_png
    from instrument.gesture.stream import accepted_stream_samples

    plt = pyplot("gestures plot")
    cfg = cfg or GestureConfig()
    values = rec.channel_values()
    keep = accepted_stream_samples(rec.t, values)
    t, v = rec.t[keep], values[keep]
    grid = np.arange(t[0], t[-1], 1.0 / cfg.rate_hz) if len(t) > 1 else t[:1]
    held = v[np.maximum(np.searchsorted(t, grid, side="right") - 1, 0)]   # sample and hold
    lo, hi = v.min(0), v.max(0)
    scaled = (held - lo) / np.where(hi > lo, hi - lo, 1.0)
    names = [ch.name for ch in rec.channel_list()]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(14, 7), sharex=True,
                                      gridspec_kw={"height_ratios": [2, 1]})
    top.imshow(scaled.T, aspect="auto", interpolation="nearest", cmap="viridis",
               extent=(grid[0], grid[-1] if len(grid) > 1 else grid[0] + 1, len(names) - 0.5,
                       -0.5))
    step = max(1, len(names) // 24)
    top.set_yticks(range(0, len(names), step), names[::step])
    top.set_title(f"{len(names)} channels, each scaled to its own range")
    for i in range(min(4, len(names))):
        bottom.plot(grid, held[:, i], lw=0.8, label=names[i])
    bottom.legend(loc="upper right", fontsize=8)
    bottom.set_xlabel("time (s)")
    fig.suptitle(f"{rec.path or 'recording'}  ({rec.duration:.0f} s, {len(rec)} samples, "
                 f"source {rec.source or 'unknown'})")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    try:
        save_png(fig, out, what="gesture plot", dpi=100)
    finally:
        plt.close(fig)
