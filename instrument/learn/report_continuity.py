"""The training report's continuity view: does the sound glide while the hand moves?

Two panels in a row of the report's grid (learn/report.py):

- the carrier along a stretch of held-out strokes, played frame by frame as on stage, once
  with the model's frame policy (glide, and a blend or the most alike sound) and once with
  the plain closest sound, so a leap of an octave is seen where it happens;
- the continuity-in-time figures measured at training (learn/continuity.py): the share of
  moving frames whose carrier leaps more than an octave or whose parameters jump, for both.
"""

from __future__ import annotations

import numpy as np

STRETCH_WINDOWS = 600        # 6 s of consecutive held-out windows at 100 Hz


def _play_stretch(runtime, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Carrier (Hz) of each window played in order: (model's policy, plain closest sound)."""
    from instrument.frame_policy import plain_rule

    col = runtime.param_names.index("carrier_hz")
    try:
        played = runtime.play(windows)[1][:, col].copy()
    finally:
        runtime.reset()
    with plain_rule(runtime):
        plain = runtime.play(windows)[1][:, col].copy()
    return played, plain


def draw_continuity_view(fig, cells, runtime, windows: np.ndarray, continuity: dict | None,
                         rate_hz: float) -> None:
    """Draw the continuity view into two grid cells.

    Args:
        fig: The matplotlib figure.
        cells: Two grid cells: the carrier stretch, then the figures.
        runtime: The model's Runtime.
        windows: Held-out gesture windows in time order (consecutive control steps).
        continuity: ``metrics["continuity_in_time"]`` from training ({"played", "closest_sound"})
            or None.
        rate_hz: The control rate (seconds on the stretch's axis).
    """
    ax = fig.add_subplot(cells[0])
    if "carrier_hz" in runtime.param_names and len(windows) >= 20:
        stretch = np.asarray(windows[:STRETCH_WINDOWS], np.float32)
        played, plain = _play_stretch(runtime, stretch)
        seconds = np.arange(len(stretch)) / rate_hz
        ax.plot(seconds, plain, color="0.6", lw=0.8, label="closest sound (no glide)")
        policy = f"glide + blend of {runtime.blend_k}" if runtime.blend_k > 1 else \
            "glide + one sound, most alike on a change" if runtime.like_tolerance > 0 else \
            "glide + one sound"
        ax.plot(seconds, played, color="C3", lw=1.6, label=f"played ({policy})")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_hz_formatter())
        ax.set_xlabel("time along held-out strokes (s)")
        ax.set_ylabel("carrier (Hz)")
        ax.legend(fontsize=7, loc="upper right")
    else:
        ax.text(0.5, 0.5, "no carrier to follow", ha="center", transform=ax.transAxes)
    ax.set_title("carrier along held-out strokes, frame by frame")

    ax = fig.add_subplot(cells[1])
    if continuity:
        played, plain = continuity["played"], continuity["closest_sound"]
        keys = (("octave_jumps", "carrier leaps\n> 1 octave"),
                ("param_jumps", f"parameters move\n> {played['param_jump']:.0%} of a range"))
        x = np.arange(len(keys))
        for offset, side, colour, label in ((-0.2, plain, "0.6", "closest sound"),
                                            (0.2, played, "C3", "played")):
            values = [100 * side[k] for k, _ in keys]
            bars = ax.bar(x + offset, values, 0.38, color=colour,
                          label=f"{label}: {side['changes_per_s']:.0f} changes/s, "
                                f"median run {side['median_run_ms']:.0f} ms")
            for bar, value in zip(bars, values):
                ax.annotate(f"{value:.1f}%", (bar.get_x() + bar.get_width() / 2, value),
                            ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x)
        ax.set_xticklabels([label for _, label in keys], fontsize=8)
        ax.set_ylabel("% of moving frames")
        ax.legend(fontsize=7, loc="upper right")
        ax.set_ylim(0, max(5.0, 1.25 * 100 * max(plain[k] for k, _ in keys)))
        ax.set_title(f"continuity in time ({played['moving_frames']} held-out moving frames)")
    else:
        ax.text(0.5, 0.5, "no held-out frames measured", ha="center", transform=ax.transAxes)
        ax.axis("off")


def _hz_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{v:.0f}")


def param_text(name: str, value: float, unit: str) -> str:
    """A parameter as a musician reads it: its name and plain decimals with the unit."""
    from instrument.sound.params import format_value

    return f"{name} {format_value(value, unit)}"
