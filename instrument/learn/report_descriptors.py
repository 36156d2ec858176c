"""The training report's descriptor view: what a listener hears along the strokes.

Two kinds of panel, drawn into a row of the report's grid (learn/report.py):

- along a stretch of held-out strokes (a few seconds of consecutive windows, played frame
  by frame as on stage): the pointer's speed and the played sounds' loudness, pitch and
  brightness (spectral centroid), so one sees whether the sound moves with the hand;
- for each steered pair (``--steer``; without steering, speed against loudness and height
  against pitch): the gesture descriptor against the played sound's descriptor over the
  held-out windows, with their Spearman correlation.
"""

from __future__ import annotations

import numpy as np

STRETCH_WINDOWS = 600        # 6 s of consecutive held-out windows at 100 Hz
DEFAULT_PAIRS = (("speed", "loudness", 1.0), ("height", "pitch", 1.0))


def _pairs(bundle) -> tuple[list[tuple[str, str, float]], bool]:
    from instrument.learn.descriptor_pairing import parse_steer

    steer = bundle.config.get("configs", {}).get("train", {}).get("steer") or ""
    if not steer:
        return list(DEFAULT_PAIRS), False
    return [(p.gesture, p.sound, p.sign) for p in parse_steer(steer)], True


def draw_descriptor_view(fig, cells, bundle, runtime, windows: np.ndarray) -> None:
    """Draw the descriptor view into ``cells`` (a list of grid cells: the first for the
    stretch, the rest for the pairs; extra pairs are left out).

    Args:
        fig: The matplotlib figure.
        cells: Grid cells (``gridspec[row, col]``), at least two.
        bundle, runtime: The model.
        windows: Held-out gesture windows in time order (consecutive steps).
    """
    from scipy.stats import spearmanr

    from instrument.gesture.descriptors import describe_windows, steer_column
    from instrument.learn.descriptor_pairing import SOUND_NAMES
    from instrument.learn.independent import bank_descriptors

    if getattr(runtime, "stream_spec", None) is not None or len(windows) < 20:
        ax = fig.add_subplot(cells[0])
        ax.text(0.5, 0.5, "no descriptor view\n(not pointer strokes)", ha="center")
        ax.axis("off")
        return
    cfg = runtime.gesture_config
    sounds = bank_descriptors(bundle, runtime)
    stretch = windows[:STRETCH_WINDOWS]
    runtime.reset()
    played = sounds[runtime.play(stretch)[0]]      # through the play-time path (glide, hold)
    runtime.reset()
    speed = describe_windows(stretch, cfg)[:, 0]
    t = np.arange(len(stretch)) / cfg.rate_hz
    ax = fig.add_subplot(cells[0])
    lines = [("speed (diag/s)", speed, "k"), ("loudness (dB)", played[:, 0], "tab:red"),
             ("pitch (octaves re 50 Hz)", np.log2(np.maximum(played[:, 1], 20) / 50), "tab:blue"),
             ("brightness (octaves re 50 Hz)", np.log2(np.maximum(played[:, 2], 20) / 50),
              "tab:orange")]
    for label, values, colour in lines:
        span = np.ptp(values)
        ax.plot(t, (values - values.min()) / (span if span > 0 else 1.0), color=colour, lw=1,
                label=label)
    ax.set_xlabel("seconds of held-out strokes")
    ax.set_yticks([0, 1], ["min", "max"])
    ax.set_ylabel("each line, min..max", fontsize=8)
    ax.set_title("what is heard along the strokes (each line scaled 0..1)", fontsize=9)
    ax.legend(fontsize=6, loc="upper right")

    pairs, steered = _pairs(bundle)
    sample = windows[np.linspace(0, len(windows) - 1, min(len(windows), 2000)).astype(int)]
    desc = describe_windows(sample, cfg)
    heard = sounds[runtime.nearest_batch(sample)]
    for cell, (g_name, s_name, sign) in zip(cells[1:], pairs):
        ax = fig.add_subplot(cell)
        x = steer_column(desc, g_name)
        y = heard[:, SOUND_NAMES[s_name]]
        if s_name in ("pitch", "brightness", "centroid", "spread") or s_name.endswith("_hz"):
            y = np.log2(np.maximum(y, 20))
            s_label = f"{s_name} (log2 Hz)"
        else:
            s_label = s_name
        rho = float(spearmanr(x, y).statistic) if np.ptp(x) > 0 and np.ptp(y) > 0 else 0.0
        ax.scatter(x, y, s=2, alpha=0.4, color="tab:purple" if steered else "tab:gray")
        ax.set_xlabel(g_name, fontsize=8)
        ax.set_ylabel(s_label, fontsize=8)
        what = f"steered {g_name}={'-' if sign < 0 else ''}{s_name}" if steered else \
            f"{g_name} vs {s_name} (not steered)"
        ax.set_title(f"{what}\nSpearman {rho:+.2f}", fontsize=9)
