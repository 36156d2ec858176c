"""The contact sheet (like the paper's Figure 3): one row per query audio file, its best images."""

from __future__ import annotations

import os

import numpy as np

from instrument.errors import DataFileError

THUMB = 64          # thumbnail side in pixels
MAX_ROWS = 8        # rows drawn at most (the JSON has every file)


def pick_rows(categories: np.ndarray, n_files: int, labelled: np.ndarray | None = None,
              max_rows: int = MAX_ROWS) -> list[int]:
    """Which query files get a row: the same number of each category, unlabelled files first
    (they show what the matching found by itself), else files evenly spaced."""
    if (categories >= 0).any():
        kinds = np.unique(categories[categories >= 0])
        per = max(1, max_rows // len(kinds))
        known = np.zeros(n_files, bool) if labelled is None else labelled >= 0
        rows = []
        for c in kinds:
            files = np.flatnonzero(categories == c)
            rows += [int(i) for i in sorted(files, key=lambda i: (known[i], i))[:per]]
        return rows[:max_rows]
    return sorted({int(i) for i in np.linspace(0, n_files - 1, min(max_rows, n_files)).round()})


def draw_contact_sheet(path: str, queries: list[str], query_notes: list[str],
                       matches: list[list[str]], match_notes: list[list[str]],
                       image_files: list[list[str]], title: str) -> None:
    """Write a PNG: row r shows query r (name and note) and its best images left to right.

    Args:
        path: The PNG to write (atomically).
        queries: Name of each row's query file.
        query_notes: A note under each query name (e.g. its category), or "".
        matches: Names of each row's best images (what is printed under them).
        match_notes: A note per image (e.g. its category), or "".
        image_files: Absolute paths of each row's best images.
        title: Figure title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from instrument.formats.safe_io import atomic_write
    from instrument.matching.images import load_thumbnail

    # One mosaic image with text on it draws in a fraction of the time of an axes per tile.
    cols, gap, label_w, text_h = max(len(m) for m in matches), 6, 2 * THUMB, 22
    cell_w, cell_h = THUMB + gap, THUMB + text_h + gap
    mosaic = np.full((len(queries) * cell_h, label_w + cols * cell_w, 3), 255, np.uint8)
    for r in range(len(queries)):
        for c, image_path in enumerate(image_files[r]):
            y, x = r * cell_h, label_w + c * cell_w
            try:
                mosaic[y:y + THUMB, x:x + THUMB] = np.asarray(load_thumbnail(image_path, THUMB))
            except DataFileError:
                mosaic[y:y + THUMB, x:x + THUMB] = 200  # unreadable since it was matched: grey
    dpi = 100
    fig = plt.figure(figsize=(mosaic.shape[1] / dpi, (mosaic.shape[0] + 30) / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, mosaic.shape[0] / (mosaic.shape[0] + 30)))
    ax.imshow(mosaic, interpolation="nearest")
    ax.set_axis_off()
    for r, query in enumerate(queries):
        ax.text(label_w - gap, r * cell_h + THUMB / 2, f"{_short(query, 22)}\n{query_notes[r]}",
                ha="right", va="center", fontsize=6.5)
        for c, name in enumerate(matches[r]):
            ax.text(label_w + c * cell_w + THUMB / 2, r * cell_h + THUMB + 2,
                    f"{_short(name, 16)}\n{match_notes[r][c]}", ha="center", va="top", fontsize=4.5)
    fig.suptitle(title, fontsize=8, y=0.995, va="top")
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    plt.close(fig)
    from PIL import Image

    # 256 colours are plenty for thumbnails and text, and make the file several times smaller.
    sheet = Image.fromarray(np.ascontiguousarray(pixels)).quantize(256, dither=Image.Dither.NONE)
    with atomic_write(path, binary=True, what="contact sheet") as handle:
        sheet.save(handle, format="PNG", optimize=True)


def _short(name: str, width: int) -> str:
    name = os.path.basename(name)
    return name if len(name) <= width else name[:width - 1] + "…"
