"""One rule for every file or directory a command writes: never lose what the user did not name.

Every command checks its outputs with :func:`check_output` (files) or
:func:`check_model_output` (a model directory) before doing any work, so a refusal costs
nothing and touches nothing:

- an output that is one of the command's inputs (or lies inside an input model directory,
  e.g. a WAV inside the model it plays) is refused: writing it would destroy the input;
- an existing file is replaced only with ``--force`` (and then atomically, by
  :func:`instrument.formats.safe_io.atomic_write`); a directory, a device or a FIFO never;
- a model directory is replaced only when it is an earlier model (nothing else in it) and
  ``--force`` is given; an empty directory is filled; any other folder (``.``, a folder of
  recordings) is refused, with or without ``--force``;
- a folder a command writes several files into (:func:`check_output_folder`) is written only
  when empty, an earlier output of the same kind, or with ``--force``;
- a missing parent folder is created when the output is written; a folder that cannot be
  written (read-only disk, not yours) is said at once, before any work.
"""

from __future__ import annotations

import os
import stat
from typing import Iterable

from instrument.errors import BadInput
from instrument.formats.bundle import is_model_dir

Inputs = Iterable[tuple[str, "str | os.PathLike | None"]]


def _same(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _inside(path: str, directory: str) -> bool:
    real, base = os.path.realpath(path), os.path.realpath(directory)
    return real != base and os.path.commonpath([real, base]) == base


def _check_inputs(path: str, flag: str, inputs: Inputs) -> None:
    for in_flag, in_path in inputs:
        if in_path is None:
            continue
        in_path = os.fspath(in_path)
        if _same(path, in_path):
            raise BadInput(f"{flag} {path} is the same file as {in_flag} {in_path}; writing it "
                           "would destroy the input", f"choose another {flag}")
        if os.path.isdir(in_path) and _inside(path, in_path) and is_model_dir(in_path):
            raise BadInput(f"{flag} {path} is inside the model {in_flag} {in_path}",
                           f"write {flag} somewhere outside {in_path}")
        if os.path.isdir(path) and _inside(in_path, path):
            raise BadInput(f"{flag} {path} holds the input {in_flag} {in_path}",
                           f"choose a new {flag}")


def check_output(path: str | os.PathLike, force: bool, inputs: Inputs = (),
                 flag: str = "--out") -> str:
    """Check that a command may write the file ``path`` (before any work is done).

    Args:
        path: The output file the user named.
        force: The user's ``--force``: replace an existing file.
        inputs: ``(flag, path)`` of every input (files or directories; None is skipped).
        flag: How messages name the output (e.g. "--controls").

    Returns:
        ``path`` as a str.

    Raises:
        BadInput: One line: the output is an input or inside one, is a directory or not a
            regular file, its parent is a file, or it exists and ``force`` is False.
    """
    path = os.fspath(path)
    if not path:
        raise BadInput(f"{flag} is empty", "give a file name")
    _check_inputs(path, flag, inputs)
    if os.path.isdir(path):
        raise BadInput(f"{flag} {path} is a directory", "give a file name")
    if os.path.lexists(path):
        info = os.stat(path) if os.path.exists(path) else None
        if info is not None and not stat.S_ISREG(info.st_mode):
            raise BadInput(f"{flag} {path} is not a regular file (a device or a pipe)",
                           "give the name of a file to write")
        if not force:
            raise BadInput(f"{flag} {path} already exists",
                           f"choose another {flag}, or add --force to replace it")
    _check_parent(path, flag)
    return path


def _check_parent(path: str, flag: str) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if parent and not os.path.isdir(parent):
        raise BadInput(f"{flag} {path}: {parent} is a file, not a folder",
                       f"choose another {flag}")
    # Said now, not after minutes of work (access() also answers EROFS for root).
    if parent and not os.access(parent, os.W_OK | os.X_OK):
        raise BadInput(f"{flag} {path}: cannot write in {parent} (read-only or not yours)",
                       f"choose another {flag} in a folder you can write to")


def check_model_output(path: str | os.PathLike, force: bool, inputs: Inputs = (),
                       flag: str = "--out") -> str:
    """Check that ``train`` may write a model directory at ``path``.

    Args:
        path: The model directory the user named.
        force: The user's ``--force``: replace an earlier model there.
        inputs: ``(flag, path)`` of every input file (recordings, a sound bank).
        flag: How messages name the output.

    Returns:
        ``path`` as a str.

    Raises:
        BadInput: One line: ``path`` is a file, a folder that is not an earlier model (it
            would be emptied), holds an input, or an earlier model without ``force``.
    """
    path = os.fspath(path)
    if not path:
        raise BadInput(f"{flag} is empty", "give a directory name, e.g. models/mine")
    _check_inputs(path, flag, inputs)
    if not os.path.lexists(path):
        _check_parent(path, flag)
        return path
    if not os.path.isdir(path):
        raise BadInput(f"{flag} {path} is a file, not a model directory",
                       "give a new directory name, e.g. models/mine")
    entries = sorted(os.listdir(path))
    if not entries:
        return path
    if not is_model_dir(path):
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise BadInput(f"{flag} {path} is a folder that is not an instrument model (it holds "
                       f"{shown}); training would replace it",
                       "give a new directory name, e.g. models/mine")
    if not force:
        raise BadInput(f"{flag} {path} already holds a model",
                       f"choose another {flag}, or add --force to replace it")
    return path


def check_output_folder(path: str | os.PathLike, files: Iterable[str], marker: str, fmt: str,
                        force: bool, inputs: Inputs = (), flag: str = "--out",
                        file_inputs: Inputs = ()) -> str:
    """Check that a command may write the named ``files`` into the folder ``path``.

    For commands that write several files into one folder (``match --out``: matches.json and
    contact_sheet.png; ``match --generate-demo``). The folder is refused when it is a file,
    is inside or holds an input (a contact sheet inside the images folder would be matched
    next time), cannot be written, or is not empty and neither an earlier output of the same
    kind (its ``marker`` file names format ``fmt``) nor ``force`` is given. Then each of
    ``files`` is checked by :func:`check_output` as a replaceable file (never a directory, a
    FIFO or a device there, never an input).

    Args:
        inputs: ``(flag, path)`` of inputs the folder must neither be in nor hold.
        file_inputs: ``(flag, path)`` of inputs that may sit in the folder (a labels CSV) but
            must not be one of ``files``.

    Returns:
        ``path`` as a str.

    Raises:
        BadInput: One line naming the folder or file and the fix.
    """
    path = os.fspath(path)
    if not path:
        raise BadInput(f"{flag} is empty", "give a folder name")
    if os.path.lexists(path) and not os.path.isdir(path):
        raise BadInput(f"{flag} {path} is a file, not a folder", "give a folder name")
    real = os.path.realpath(path)
    for in_flag, folder in inputs:
        if folder is None:
            continue
        base = os.path.realpath(folder)
        if os.path.commonpath([real, base]) in (real, base):
            raise BadInput(f"{flag} {path} is inside, or holds, {in_flag} {folder}",
                           f"write {flag} to a folder of its own, outside the collections")
    files = list(files)
    _check_parent(os.path.join(path, files[0] if files else marker), flag)
    if os.path.isdir(path) and os.listdir(path) and not force \
            and not _is_earlier_output(os.path.join(path, marker), fmt):
        raise BadInput(f"{flag} {path} is not empty and holds no earlier {marker}",
                       "choose a new folder, or add --force to write into it")
    for name in files:  # replaceable now (an empty, earlier or --force folder): what is there?
        check_output(os.path.join(path, name), True, [*inputs, *file_inputs], flag)
    return path


def _is_earlier_output(marker: str, fmt: str) -> bool:
    """True when ``marker`` is a regular file whose first 4 KB name format ``fmt``."""
    import json

    from instrument.errors import DataFileError
    from instrument.formats.filecheck import open_regular

    try:  # the format is near the top of what we write: read 4 KB, not a whole big file
        with open_regular(marker, "earlier output", DataFileError) as handle:
            head = handle.read(4096).decode("utf-8", "replace")
    except (DataFileError, OSError):
        return False
    return head.lstrip().startswith("{") and f'"format": {json.dumps(fmt)}' in head
