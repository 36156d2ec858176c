"""The training report: one PNG that shows what the instrument learned.

Panels: training curves (each autoencoder layer, the mapping network); the sound bank and the
gesture windows in 2-D (principal axes), coloured so that a gesture and the sound it plays share
a colour (colour = position on the sound map), which shows whether neighbouring gestures play
neighbouring sounds; and a few example strokes, redrawn from their windows, with the parameters
of the sound each gets.
"""

from __future__ import annotations

import os

import numpy as np


def _map_colours(points: np.ndarray) -> np.ndarray:
    """RGB colours from 2-D positions: x -> red, y -> green, blue falls across the diagonal."""
    lo, hi = np.percentile(points, 2, axis=0), np.percentile(points, 98, axis=0)
    u = np.clip((points - lo) / np.maximum(hi - lo, 1e-12), 0, 1)
    return np.column_stack([u[:, 0], u[:, 1], 1 - 0.5 * (u[:, 0] + u[:, 1])]) * 0.85 + 0.1


def _plain_ticks(minor: bool = False):
    """Log-axis tick labels in plain decimals (0.06, not 6x10^-2); minor ticks only at 2 and 5."""
    from matplotlib.ticker import FuncFormatter

    def label(v, _):
        if v <= 0:
            return ""
        lead = round(v / 10 ** np.floor(np.log10(v)), 6)
        return f"{v:.3g}" if not minor or lead in (2.0, 5.0) else ""

    return FuncFormatter(label)


def _plain_log_axis(ax) -> None:
    ax.yaxis.set_major_formatter(_plain_ticks())
    ax.yaxis.set_minor_formatter(_plain_ticks(minor=True))


def _colour_key(fig, ax) -> None:
    """A small inset: the colour of each place on the sound map (the colour legend)."""
    key = ax.inset_axes([0.78, 0.78, 0.2, 0.2])
    u = np.linspace(0, 1, 32)
    xx, yy = np.meshgrid(u, u)
    rgb = np.stack([xx, yy, 1 - 0.5 * (xx + yy)], axis=-1) * 0.85 + 0.1
    key.imshow(rgb, origin="lower", extent=(0, 1, 0, 1))
    key.set_xticks([])
    key.set_yticks([])
    key.set_title("colour key", fontsize=6)


def stroke_from_window(window: np.ndarray, steps: int) -> np.ndarray:
    """(steps + 1, 2) pointer path (y up) redrawn from a sin/cos/rho or theta/rho window."""
    per = window.shape[0] // steps
    w = window.reshape(steps, per).astype(np.float64)
    if per == 3:
        sin, cos, rho = w[:, 0], w[:, 1], w[:, 2]
    else:
        sin, cos, rho = np.sin(w[:, 0]), np.cos(w[:, 0]), w[:, 1]
    return np.vstack([[0.0, 0.0], np.cumsum(np.column_stack([rho * cos, rho * sin]), axis=0)])


def write_report(path: str | os.PathLike, model_dir: str | os.PathLike, summary: dict,
                 n_examples: int = 4, seed: int = 0) -> str:
    """Draw the report PNG for a trained model.

    Args:
        path: PNG to write.
        model_dir: The model bundle directory (read back, so the report shows what was saved).
        summary: ``train_instrument``'s summary (histories, windows, held-out windows).
        n_examples: Example strokes drawn.
        seed: Picks the examples.

    Returns:
        The PNG path.
    """
    from instrument.extras import pyplot

    plt = pyplot("the training report")

    from instrument.learn.mapping import whitened_axes
    from instrument.learn.report_continuity import draw_continuity_view, param_text
    from instrument.runtime import Runtime

    runtime = Runtime.from_bundle(model_dir)
    windows = summary["held_out"] if len(summary["held_out"]) > 50 else summary["windows"]
    rng = np.random.default_rng(seed)
    if len(windows) > 3000:
        windows = windows[np.sort(rng.choice(len(windows), 3000, replace=False))]
    played = runtime.nearest_batch(windows)
    bank_colours = _map_colours(runtime.bank_map)
    gesture_2d = whitened_axes(runtime.features_batch(windows), 2)

    fig = plt.figure(figsize=(15, 19.5), dpi=90)
    grid = fig.add_gridspec(4, max(4, n_examples), hspace=0.6, wspace=0.45)
    ax = fig.add_subplot(grid[0, 0])
    hist = summary["histories"]
    colour = 0
    for name, label in (("gesture_sae", "gesture"), ("sound_sae", "sound")):
        record = hist.get(name) or {}
        held = record.get("held_out_losses") or []
        for k, losses in enumerate(record.get("layer_losses", [])):
            epochs = np.arange(1, len(losses) + 1)
            ax.plot(epochs, losses, "-", color=f"C{colour}", label=f"{label} layer {k + 1}")
            if k < len(held) and held[k]:
                ax.plot(epochs, held[k], ":", color=f"C{colour}", lw=2,
                        label=f"{label} layer {k + 1}, held-out")
            colour += 1
    ax.set_yscale("log")
    _plain_log_axis(ax)
    ax.set_xlabel("epoch")
    ax.set_ylabel("reconstruction error")
    ax.set_title("autoencoder pretraining loss\n(solid: training, dotted: held-out)")
    ax.legend(fontsize=6)
    ax = fig.add_subplot(grid[0, 1])
    if hist.get("mapping"):
        losses = hist["mapping"]["losses"]
        ax.plot(np.arange(1, len(losses) + 1), losses, color="k", label="training pairs")
        ax.set_ylim(bottom=0)  # linear: plain decimals, and the fall is seen against zero
        ax.legend(fontsize=7, title="held-out strokes have\nno paired sound", title_fontsize=7)
    ax.set_xlabel("epoch")
    ax.set_ylabel("squared error (standardised)")
    ax.set_title("mapping network loss")
    ax = fig.add_subplot(grid[0, 2])
    ax.scatter(runtime.bank_map[:, 0], runtime.bank_map[:, 1], s=3, c=bank_colours)
    ax.set_title(f"the sound bank ({runtime.n_sounds} sounds)")
    ax.set_xlabel("sound map axis 1")
    ax.set_ylabel("sound map axis 2")
    _colour_key(fig, ax)
    ax = fig.add_subplot(grid[0, 3])
    ax.scatter(gesture_2d[:, 0], gesture_2d[:, 1], s=3, c=bank_colours[played])
    ax.set_title("held-out gestures, coloured by\nthe sound they play")
    ax.set_xlabel("gesture feature axis 1\n(colour: the played sound's place on the sound map)")
    ax.set_ylabel("gesture feature axis 2")

    moving = np.flatnonzero(np.abs(windows).sum(axis=1) > 0)
    picks = rng.choice(moving if len(moving) >= n_examples else np.arange(len(windows)),
                       size=min(n_examples, len(windows)), replace=False)
    steps = runtime.gesture_config.window_steps
    for i, j in enumerate(picks):
        ax = fig.add_subplot(grid[1, i])
        path_xy = stroke_from_window(windows[j], steps)
        ax.plot(path_xy[:, 0], path_xy[:, 1], color=bank_colours[played[j]], lw=2)
        ax.plot(*path_xy[-1], "o", color="k", ms=4)
        ax.set_aspect("equal", adjustable="datalim")
        ax.tick_params(labelsize=7)
        p = runtime.bank_params[played[j]]
        ax.set_title("\n".join(param_text(q.name, v, q.unit) for q, v in zip(runtime.table, p)),
                     fontsize=8)
        ax.set_xlabel(f"stroke {i + 1} (window diagonals; dot = now)\nplays sound "
                      f"#{played[j]}, line in its colour", fontsize=8)
    # third row: the descriptor view (report_descriptors.py), on the held-out windows in order
    from instrument.formats.bundle import load_bundle
    from instrument.learn.report_descriptors import draw_descriptor_view

    ordered = summary["held_out"] if len(summary["held_out"]) > 50 else summary["windows"]
    draw_descriptor_view(fig, [grid[2, 0:2], grid[2, 2], grid[2, 3]], load_bundle(model_dir),
                         runtime, ordered)
    metrics = summary.get("metrics", {})
    # fourth row: continuity in time (report_continuity.py)
    draw_continuity_view(fig, [grid[3, 0:2], grid[3, 2:4]], runtime, ordered,
                         metrics.get("continuity_in_time"), runtime.gesture_config.rate_hz)
    title = [f"{os.fspath(model_dir)}: {summary.get('gesture_seconds', float('nan')):.0f} s of "
             f"gestures, {len(summary['windows'])} training windows, "
             f"{len(summary['held_out'])} held-out, {runtime.n_sounds} sounds"]
    if metrics:
        m, r = metrics["model"], metrics["random"]
        title.append("trustworthiness {:.3f} (random {:.3f}), continuity {:.3f} ({:.3f}), "
                     "coverage {:.2f}, stability {:.3f}".format(
                         m["trustworthiness"], r["trustworthiness"], m["continuity"],
                         r["continuity"], m["coverage"], m.get("stability", float("nan"))))
    fig.suptitle("\n".join(title), y=0.995)
    from instrument.formats.safe_io import save_png

    try:
        return save_png(fig, path, what="report")
    finally:
        plt.close(fig)
