"""A collection: the audio files or images under a folder, each read into one feature vector.

Files are found by extension under the folder and its subfolders (sorted, so runs repeat),
symbolic links to folders are not followed (no loops), hidden files and folders are left out.
At most ``MAX_FILES`` files per collection are taken, so a mistyped folder (a whole disk) is
refused before anything is read. A file that cannot be read, is empty or is not what its
name says is skipped with a line naming it; a collection needs at least ``MIN_FILES`` good files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from instrument.errors import BadInput, DataFileError
from instrument.progress import progress

MAX_FILES = 20_000
MIN_FILES = 4


@dataclass
class Collection:
    """The readable files of one folder and their feature vectors.

    Attributes:
        kind: "audio" or "images".
        root: The folder.
        paths: Paths of the files read, relative to ``root`` (forward slashes).
        features: float32 (len(paths), F), one row per file.
        skipped: (relative path, reason) of every file that could not be used.
    """

    kind: str
    root: str
    paths: list[str]
    features: np.ndarray
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def absolute(self, relative: str) -> str:
        """The absolute path of one of :attr:`paths`."""
        return os.path.abspath(os.path.join(self.root, relative))


def find_files(root: str, extensions: tuple[str, ...], what: str,
               max_files: int = MAX_FILES) -> list[str]:
    """Sorted paths (relative to ``root``, forward slashes) of files ending in ``extensions``.

    Raises:
        BadInput: ``root`` is not a folder, or holds more than ``max_files`` such files.
    """
    if not os.path.isdir(root):
        raise BadInput(f"{what} folder {root} does not exist", "give a folder of files")
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or not name.lower().endswith(extensions):
                continue
            found.append(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/"))
            if len(found) > max_files:
                raise BadInput(f"{what} folder {root} holds more than {max_files} "
                               f"{'/'.join(extensions)} files",
                               f"match at most {max_files} files at a time (use a subfolder)")
    return sorted(found)


def read_collection(kind: str, root: str, extensions: tuple[str, ...],
                    read: Callable[[str], np.ndarray], quiet: bool = False,
                    say: Callable[[str], None] | None = None) -> Collection:
    """Read every file of a folder into a feature row, skipping the bad ones.

    Args:
        kind: "audio" or "images" (for messages).
        root: The folder.
        extensions: Lower-case file name endings to take.
        read: Path -> float32 feature vector; raises DataFileError for a bad file.
        quiet: No progress bar and no skip lines.
        say: Where skip lines go (default: stderr).

    Raises:
        BadInput: Fewer than ``MIN_FILES`` readable files.
    """
    import sys

    say = say or (lambda line: print(line, file=sys.stderr))
    names = find_files(root, extensions, kind)
    paths, rows, skipped = [], [], []
    for name in progress(names, desc=f"reading {kind}", quiet=quiet, unit="file"):
        try:
            row = read(os.path.join(root, name))
        except DataFileError as err:
            skipped.append((name, str(err)))
            if not quiet:
                say(f"skipped {err}")
            continue
        if rows and row.shape != rows[0].shape or not np.isfinite(row).all():
            skipped.append((name, "its features are not finite"))
            continue
        paths.append(name)
        rows.append(row)
    if skipped and not quiet:
        say(f"{kind}: {len(paths)} files read, {len(skipped)} skipped")
    if len(paths) < MIN_FILES:
        raise BadInput(f"{kind} folder {root} has {len(paths)} readable "
                       f"{'/'.join(extensions)} files ({len(skipped)} skipped)",
                       f"give at least {MIN_FILES}")
    return Collection(kind, os.path.abspath(root), paths, np.stack(rows).astype(np.float32), skipped)
