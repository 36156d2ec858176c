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
    from instrument.runtime import Runtime

    runtime = Runtime.from_bundle(model_dir)
    windows = summary["held_out"] if len(summary["held_out"]) > 50 else summary["windows"]
    rng = np.random.default_rng(seed)
    if len(windows) > 3000:
        windows = windows[np.sort(rng.choice(len(windows), 3000, replace=False))]
    played = runtime.nearest_batch(windows)
    bank_colours = _map_colours(runtime.bank_map)
    gesture_2d = whitened_axes(runtime.features_batch(windows), 2)

    fig = plt.figure(figsize=(15, 15), dpi=90)
    grid = fig.add_gridspec(3, max(4, n_examples), hspace=0.55, wspace=0.3)
    ax = fig.add_subplot(grid[0, 0])
    hist = summary["histories"]
    for name, style in (("gesture_sae", "-"), ("sound_sae", "--")):
        for k, losses in enumerate((hist.get(name) or {}).get("layer_losses", [])):
            ax.plot(np.arange(1, len(losses) + 1), losses, style,
                    label=f"{name.replace('_', ' ')} layer {k + 1}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_title("autoencoder pretraining loss")
    ax.legend(fontsize=7)
    ax = fig.add_subplot(grid[0, 1])
    if hist.get("mapping"):
        losses = hist["mapping"]["losses"]
        ax.plot(np.arange(1, len(losses) + 1), losses, color="k")
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_title("mapping network loss")
    ax = fig.add_subplot(grid[0, 2])
    ax.scatter(runtime.bank_map[:, 0], runtime.bank_map[:, 1], s=3, c=bank_colours)
    ax.set_title(f"the sound bank ({runtime.n_sounds} sounds)")
    ax.set_xticks([])
    ax.set_yticks([])
    ax = fig.add_subplot(grid[0, 3])
    ax.scatter(gesture_2d[:, 0], gesture_2d[:, 1], s=3, c=bank_colours[played])
    ax.set_title("gestures, coloured by\nthe sound they play")
    ax.set_xticks([])
    ax.set_yticks([])

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
        ax.set_xticks([])
        ax.set_yticks([])
        p = runtime.bank_params[played[j]]
        ax.set_title("\n".join(f"{n} {v:.3g}" for n, v in zip(runtime.param_names, p)),
                     fontsize=8)
        ax.set_xlabel(f"stroke {i + 1}: sound #{played[j]}", fontsize=8)
    # third row: the descriptor view (report_descriptors.py), on the held-out windows in order
    from instrument.formats.bundle import load_bundle
    from instrument.learn.report_descriptors import draw_descriptor_view

    ordered = summary["held_out"] if len(summary["held_out"]) > 50 else summary["windows"]
    draw_descriptor_view(fig, [grid[2, 0:2], grid[2, 2], grid[2, 3]], load_bundle(model_dir),
                         runtime, ordered)
    metrics = summary.get("metrics", {})
    if metrics:
        m, r = metrics["model"], metrics["random"]
        fig.suptitle("trustworthiness {:.3f} (random {:.3f}), continuity {:.3f} ({:.3f}), "
                     "coverage {:.2f}, stability {:.3f}".format(
                         m["trustworthiness"], r["trustworthiness"], m["continuity"],
                         r["continuity"], m["coverage"], m.get("stability", float("nan"))))
    from instrument.formats.safe_io import save_png

    try:
        return save_png(fig, path, what="report")
    finally:
        plt.close(fig)
