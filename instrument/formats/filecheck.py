"""Checks for files that come from outside: regular files of a bounded size, known formats.

A model bundle, a sound bank or a recording may come from anyone. Reading one must never hang
(a FIFO), never read without end (a symlink to /dev/zero) and never trust its format name or
version: :func:`read_regular_bytes` and :func:`check_format` are the one place for both, used
by every reader (bundle config and weights, SAE configs, recording headers, sound banks).
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from instrument.errors import InstrumentError, ModelFileError

# A config file is small; anything bigger is not one (and must not be read whole).
MAX_CONFIG_BYTES = 16 << 20


_NOT_REGULAR_FIX = "give the file written by instrument, not a link to a device or a pipe"


def regular_file_size(path: str | os.PathLike, what: str, error: type = ModelFileError,
                      fix: str = _NOT_REGULAR_FIX, missing_fix: str = "check the path") -> int:
    """The size of ``path``, which must be a regular file (checked with ``os.stat``, no open).

    For readers that hand a path to a library (soundfile, Pillow): a FIFO would block its
    open for ever and a device would read without end, so they are refused here first.

    Raises:
        error: Missing, a directory, not a regular file, or not stat-able; one line.
    """
    path = os.fspath(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist", missing_fix) from None
    except OSError as err:
        raise error(f"{what} {path} cannot be read ({err.strerror or err})",
                    "check the file's permissions") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{what} {path} is a directory, not a file", "give the file's path")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{what} {path} is not a regular file (a device, pipe or socket)", fix)
    return info.st_size


def open_regular(path: str | os.PathLike, what: str, error: type = ModelFileError,
                 fix: str = _NOT_REGULAR_FIX, missing_fix: str = "check the path",
                 max_bytes: int | None = None) -> BinaryIO:
    """Open a regular file for binary reading, never a FIFO or a device (and never block).

    :func:`regular_file_size` first; then the file is opened with ``O_NONBLOCK`` (a FIFO
    swapped in meanwhile cannot hang the open) and checked again on the open descriptor.

    Args:
        max_bytes: The largest size the file may have (None: any).

    Raises:
        error: As :func:`regular_file_size`, or larger than ``max_bytes``; one line.
    """
    path = os.fspath(path)
    size = regular_file_size(path, what, error, fix, missing_fix)
    if max_bytes is not None:
        _check_size(path, what, size, max_bytes, error)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise error(f"{what} {path} cannot be read ({err.strerror or err})",
                    "check the file's permissions") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # swapped for a device/FIFO since the stat
            raise error(f"{what} {path} is not a regular file (a device, pipe or socket)", fix)
        if max_bytes is not None:
            _check_size(path, what, opened.st_size, max_bytes, error)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_bytes(path: str | os.PathLike, what: str, max_bytes: int,
                       error: type = ModelFileError, fix: str = _NOT_REGULAR_FIX) -> bytes:
    """Read a whole file that must be a regular file of at most ``max_bytes`` bytes.

    A file from outside may be a symlink to /dev/zero (endless), a FIFO (blocks for ever) or
    a device: it is opened by :func:`open_regular` (type checked before and after a
    non-blocking open), and at most ``max_bytes + 1`` bytes are ever read.

    Args:
        path: The file.
        what: How the message names it (e.g. "model config").
        max_bytes: The largest size it may have (e.g. computed from declared shapes).
        error: The error class raised.
        fix: The fix for a file that is not a regular file.

    Raises:
        error: Missing, a directory, not a regular file, larger than ``max_bytes``, or
            unreadable; one line naming the file.
    """
    path = os.fspath(path)
    with open_regular(path, what, error, fix, "check the path, or save/train the model first",
                      max_bytes) as handle:
        chunks, left = [], max_bytes + 1
        try:  # in chunks: read(n) would allocate n bytes at once, however small the file
            while left > 0:
                chunk = handle.read(min(left, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
        except OSError as err:
            raise error(f"{what} {path} cannot be read ({err.strerror or err})",
                        "check the file's permissions") from None
    data = b"".join(chunks)
    _check_size(path, what, len(data), max_bytes, error)  # it grew while being read
    return data


def _check_size(path: str, what: str, size: int, max_bytes: int, error: type) -> None:
    if size > max_bytes:
        raise error(f"{what} {path} is {size} bytes, more than the {max_bytes} it may have",
                    "it is not the file instrument wrote; save the model again or restore "
                    "the file from a backup")



def check_format(found: dict, fmt: str, newest: int, where: str, what: str, fix: str,
                 error: type = ModelFileError, upgrade: str = "upgrade instrument to load it") -> int:
    """Check that a versioned file names format ``fmt`` and a version this program reads.

    Every versioned file (model and SAE configs, recording headers, sound banks, parameter
    tables) carries ``"format"`` and ``"version"``; this is the one check of both.

    Args:
        found: The file's header/config object (anything: it is checked to be a dict).
        fmt: The format name it must carry (e.g. "instrument-model").
        newest: The newest version this program reads.
        where: How messages name the file (its path, or "path:1" for a header line).
        what: What the file should be (e.g. "instrument model").
        fix: The fix for a file of another format or with a malformed version.
        error: The error class raised (ModelFileError, DataFileError, ...).
        upgrade: The fix for a version newer than ``newest``.

    Returns:
        The file's version (1..newest).

    Raises:
        error: One line naming the file and what is wrong.
    """
    if not isinstance(found, dict) or found.get("format") != fmt:
        got = found.get("format") if isinstance(found, dict) else type(found).__name__
        got_text = repr(got) if isinstance(got, str) and len(got) <= 60 else "missing or not a name"
        article = "an" if what[:1].lower() in "aeiou" else "a"
        raise error(f"{where} is not {article} {what} (format {got_text}, expected {fmt!r})", fix)
    version = found.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        shown = repr(version) if len(repr(version)) <= 40 else repr(version)[:40] + "..."
        raise error(f"{where} has an invalid format version {shown} (not a positive integer)", fix)
    if version > newest:
        shown = str(version) if version < 10 ** 12 else "too large"
        raise error(f"{where} is {what} format version {shown}, newer than this program "
                    f"reads (up to {newest})", upgrade)
    return version


# The most an .npz from outside may unpack to (a million-sound bank is a few hundred MB).
MAX_NPZ_BYTES = 8 << 30
_MAX_NPZ_MEMBERS = 10_000


def check_npz_members(path: str | os.PathLike, what: str, error: type = ModelFileError,
                      max_bytes: int = MAX_NPZ_BYTES) -> None:
    """Check an .npz's declared sizes before numpy allocates anything for it.

    numpy allocates an array of the shape a member's header declares before reading its
    bytes, so a crafted header (shape 10^12) is a MemoryError, and a zip member may declare
    any unpacked size. Here every ``.npy`` header is read (headers only, capped by numpy)
    and each array must fit in its own member, and all members together in ``max_bytes``.

    Raises:
        error: One line naming the file and the entry that does not fit.
    """
    import math
    import zipfile

    import numpy.lib.format as npy

    path = os.fspath(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > _MAX_NPZ_MEMBERS:
                raise error(f"{what} {path} has {len(members)} entries, more than any instrument "
                            "file", "it is not a file instrument wrote")
            total = sum(info.file_size for info in members)
            if total > max_bytes:
                raise error(f"{what} {path} declares {total} bytes unpacked, more than the "
                            f"{max_bytes} it may have", "it is not a file instrument wrote")
            for info in members:
                if not info.filename.endswith(".npy"):
                    continue
                with archive.open(info) as member:
                    version = npy.read_magic(member)
                    read = npy.read_array_header_1_0 if version == (1, 0) \
                        else npy.read_array_header_2_0
                    shape, _, dtype = read(member)
                need = math.prod(shape) * dtype.itemsize
                if need > info.file_size:
                    raise error(f"{what} {path}: entry {info.filename[:-4]} declares shape "
                                f"{list(shape)[:6]} ({need} bytes) but holds {info.file_size}",
                                "the file is truncated or crafted; rebuild it")
    except InstrumentError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        text = str(err).splitlines()[0] if str(err) else ""
        raise error(f"{what} {path} is not a readable .npz file ({type(err).__name__}: "
                    f"{text[:120]})", "rebuild it") from None
