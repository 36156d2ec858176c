"""Labels (a CSV of ``path,category``) and the category matching (``--pairs "blues=cars,..."``).

The labels file is UTF-8 CSV, one ``path,category`` row per labelled file; a first row
``path,category`` is a header and is skipped, as are empty rows and rows starting with ``#``.
A relative path is taken from the labels file's own folder, so a labels file next to the
``audio/`` and ``images/`` folders reads ``audio/blues/a.wav,blues``. Audio files and images
share the file; which collection a path lies in says which side its category belongs to.
Only a few files need labels (paper §3.2); the rest are matched all the same.

The matching pairs an audio category with an image category (paper §4.1 step 2). Without
``--pairs``, categories with the same name on both sides are matched.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass

import numpy as np

from instrument.errors import BadInput, DataFileError
from instrument.formats.filecheck import open_regular, regular_file_size

MAX_BYTES = 16 << 20          # 16 MB of CSV: far more rows than MAX_FILES of each side
MAX_CATEGORIES = 256
MAX_NAME = 100                # characters in a category name


@dataclass
class Labels:
    """Labels of both collections, as category indices (-1 = unlabelled).

    Attributes:
        audio_names, image_names: Category names of each side, sorted.
        audio, images: int64 per file of each collection, an index into the names or -1.
    """

    audio_names: list[str]
    image_names: list[str]
    audio: np.ndarray
    images: np.ndarray


def read_label_rows(path: str) -> list[tuple[int, str, str]]:
    """(line number, absolute path, category) of every row of a labels CSV.

    Raises:
        DataFileError: Missing, too big, not UTF-8, or a row that is not ``path,category``.
    """
    # Never a FIFO (its open would block for ever) or a device (endless): a regular file only.
    size = regular_file_size(path, "labels file", DataFileError,
                             "give a CSV file, not a pipe or a device")
    if size > MAX_BYTES:
        raise DataFileError(f"labels file {path} is {size >> 20} MB, over the "
                            f"{MAX_BYTES >> 20} MB limit", "give one path,category row per file")
    try:
        with open_regular(path, "labels file", DataFileError,
                          "give a CSV file, not a pipe or a device") as handle:
            text = handle.read(MAX_BYTES + 1).decode("utf-8-sig")
    except OSError as err:
        raise DataFileError(f"labels file {path} cannot be read ({err.strerror})",
                            "check the path") from None
    except UnicodeDecodeError:
        raise DataFileError(f"labels file {path} is not UTF-8 text",
                            "save it as UTF-8 CSV with path,category rows") from None
    base = os.path.dirname(os.path.abspath(path))
    rows = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        cells = [cell.strip() for cell in row]
        if number == 1 and [c.lower() for c in cells] == ["path", "category"]:
            continue
        if len(cells) != 2 or not cells[0] or not cells[1]:
            raise DataFileError(f"labels file {path} line {number} is not path,category "
                                f"({len(cells)} cells)", "write one path,category row per file")
        if len(cells[1]) > MAX_NAME:
            raise DataFileError(f"labels file {path} line {number}: category name longer than "
                                f"{MAX_NAME} characters", "use short category names")
        rows.append((number, os.path.abspath(os.path.join(base, cells[0])), cells[1]))
    if not rows:
        raise DataFileError(f"labels file {path} has no path,category rows",
                            "label a few files of each category")
    return rows


def assign_labels(path: str, audio_files: list[str], image_files: list[str],
                  skipped: set[str] = frozenset()) -> Labels:
    """Read the labels file and give each file of the two collections its category index.

    Args:
        path: The labels CSV.
        audio_files, image_files: Absolute paths of the files of each collection, in order.
        skipped: Absolute paths of files that could not be read (their labels are ignored).

    Raises:
        DataFileError: A row names a file in neither collection, or a file twice with
            different categories, or there are too many categories.
    """
    rows = read_label_rows(path)
    index = {os.path.realpath(p): ("audio", i) for i, p in enumerate(audio_files)}
    index.update({os.path.realpath(p): ("images", i) for i, p in enumerate(image_files)})
    ignored = {os.path.realpath(p) for p in skipped}
    found: dict[str, dict[int, str]] = {"audio": {}, "images": {}}
    for number, file, category in rows:
        real = os.path.realpath(file)
        if real in ignored:
            continue
        if real not in index:
            raise DataFileError(f"labels file {path} line {number}: {file} is not one of the audio "
                                f"files or images being matched",
                                "check the path (relative paths start at the labels file's folder)")
        side, i = index[real]
        if found[side].get(i, category) != category:
            raise DataFileError(f"labels file {path} line {number}: {file} is labelled both "
                                f"{found[side][i]!r} and {category!r}", "give each file one category")
        found[side][i] = category
    names = {side: sorted(set(found[side].values())) for side in found}
    for side, side_names in names.items():
        if len(side_names) > MAX_CATEGORIES:
            raise DataFileError(f"labels file {path} has {len(side_names)} {side} categories",
                                f"use at most {MAX_CATEGORIES}")
    arrays = {}
    for side, count in (("audio", len(audio_files)), ("images", len(image_files))):
        codes = {name: k for k, name in enumerate(names[side])}
        labels = np.full(count, -1, dtype=np.int64)
        for i, category in found[side].items():
            labels[i] = codes[category]
        arrays[side] = labels
    return Labels(names["audio"], names["images"], arrays["audio"], arrays["images"])


def parse_pairs(text: str | None, labels: Labels) -> list[tuple[int, int]]:
    """The category matching as (audio category index, image category index) pairs.

    Args:
        text: ``"classical=cats,blues=outdoor"`` (audio category = image category), or None
            to match the categories that have the same name on both sides.
        labels: The labels read by :func:`assign_labels`.

    Raises:
        BadInput: Malformed text, an unknown category, a category used twice, or fewer
            than 2 matched pairs (one pair cannot tell anything apart).
    """
    audio_codes = {name: k for k, name in enumerate(labels.audio_names)}
    image_codes = {name: k for k, name in enumerate(labels.image_names)}
    if text is None:
        pairs = [(audio_codes[n], image_codes[n]) for n in labels.audio_names if n in image_codes]
        if len(pairs) < 2:
            raise BadInput(f"the audio categories ({', '.join(labels.audio_names) or 'none'}) and "
                           f"image categories ({', '.join(labels.image_names) or 'none'}) share "
                           f"{len(pairs)} names", 'say which go together: --pairs "tones=circles,..."')
        return pairs
    pairs, used_audio, used_images = [], set(), set()
    for item in text.split(","):
        audio, sep, image = (part.strip() for part in item.partition("="))
        if not sep or not audio or not image:
            raise BadInput(f"--pairs item {item.strip()!r} is not audio_category=image_category",
                           'write --pairs "blues=cars,classical=cats"')
        if audio not in audio_codes:
            raise BadInput(f"--pairs: {audio!r} is not an audio category of the labels file",
                           f"audio categories: {', '.join(labels.audio_names) or 'none'}")
        if image not in image_codes:
            raise BadInput(f"--pairs: {image!r} is not an image category of the labels file",
                           f"image categories: {', '.join(labels.image_names) or 'none'}")
        if audio in used_audio or image in used_images:
            raise BadInput(f"--pairs: {audio if audio in used_audio else image!r} is matched twice",
                           "match each category at most once")
        used_audio.add(audio)
        used_images.add(image)
        pairs.append((audio_codes[audio], image_codes[image]))
    if len(pairs) < 2:
        raise BadInput("--pairs matches only one pair of categories", "match at least 2 pairs")
    return pairs
