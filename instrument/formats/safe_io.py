"""Safe, atomic writing of every file, and safe loading of model files (safetensors, JSON). No pickle.

Model files come from outside (a user's disk, a download, a colleague), so reading one must
never run code from it. Arrays are stored as safetensors (a JSON header plus raw little-endian
buffers) through ``safetensors.numpy``; configs as plain JSON. Both are written to a temporary
file in the same directory and moved into place with :func:`os.replace`, so a crash never
leaves a half-written file under the real name. Every problem on reading becomes one
:class:`~instrument.errors.ModelFileError` line naming the file, what is wrong and the fix.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import tempfile
from typing import Any, Callable, Iterator

import numpy as np

from instrument.errors import DataFileError, InstrumentError, ModelFileError
from instrument.formats import bounded_json
from instrument.formats.filecheck import MAX_CONFIG_BYTES, check_format, read_regular_bytes

# Dtypes a model file may hold; anything else (object arrays, structured dtypes) is refused.
_ALLOWED_KINDS = "biuf"


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of the file at ``path`` (read in chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _cleanup(tmp: str | None) -> None:
    if tmp is not None:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _write_error(path: str, err: OSError, what: str, error: type,
                 verb: str = "write") -> InstrumentError:
    if err.errno == errno.ENOSPC:
        fix = "free some disk space and try again"
    elif err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        fix = "write to a folder you can write to (this one is read-only or not yours)"
    else:
        fix = "check that the folder exists and is writable and the disk not full"
    return error(f"cannot {verb} {what} {path} ({err.strerror or err})", fix)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, binary: bool = False, what: str = "file",
                 error: type = DataFileError) -> Iterator[Any]:
    """Write a file so that it is either complete under its name or not there at all.

    Yields a handle on a temporary file in the same directory; when the block ends without an
    error the file is flushed, fsynced and moved over ``path`` with :func:`os.replace` (the
    parent directory is created if missing). On any error, Ctrl-C included, the temporary
    file is removed and ``path`` is left as it was. Every file the project writes goes
    through here (or :class:`AppendingFile` for files written while they grow).

    Raises:
        error (DataFileError by default): one line naming the file and the fix, when the
            directory cannot be created or written or the disk is full.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                                   dir=directory)
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes it private; an output is a normal file
        mode = {"mode": "wb"} if binary else {"mode": "w", "encoding": "utf-8", "newline": "\n"}
        with os.fdopen(fd, **mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as err:
        _cleanup(tmp)
        raise _write_error(path, err, what, error) from None
    except BaseException:
        _cleanup(tmp)
        raise


def save_png(fig, path: str | os.PathLike, what: str = "image", **savefig_args) -> str:
    """Save a matplotlib figure as a PNG through :func:`atomic_write` (no half-written image).

    Args:
        fig: A matplotlib Figure.
        path: The PNG to write.
        what: How an error names the file (e.g. "report").
        **savefig_args: Passed to ``Figure.savefig`` (e.g. ``dpi=100``).

    Returns:
        ``path`` as a str.

    Raises:
        DataFileError: One line naming the file, when it cannot be written (read-only
            folder, full disk); nothing is left behind.
    """
    path = os.fspath(path)
    with atomic_write(path, binary=True, what=what) as handle:
        fig.savefig(handle, format="png", **savefig_args)
    return path


def _write_atomic(path: str | os.PathLike, write: Callable[[Any], None], binary: bool) -> None:
    """Model files: :func:`atomic_write` with ModelFileError."""
    with atomic_write(path, binary=binary, what="model file", error=ModelFileError) as handle:
        write(handle)


class AppendingFile:
    """A text file written line by line while it grows (a recording, a live control stream).

    Lines go to ``PATH.part``, each flushed at once, so a crash or kill -9 loses at most the
    line in flight and what was written stays in ``PATH.part``. :meth:`close` fsyncs and moves
    the file to ``PATH`` atomically; ``PATH`` never holds a half-written file.

    Raises:
        DataFileError: One line naming the file and the fix, on open or on any write
            (disk full, read-only); what was written so far stays in ``PATH.part``.
    """

    def __init__(self, path: str | os.PathLike, what: str = "file", flush_each_line: bool = True):
        self.path = os.fspath(path)
        self.part = self.path + ".part"
        self.what = what
        self.flush_each_line = flush_each_line
        try:
            self._file = open(self.part, "w", encoding="utf-8", newline="\n")
        except OSError as err:
            raise _write_error(self.part, err, what, DataFileError, verb="create") from None

    def write_line(self, line: str) -> None:
        try:
            self._file.write(line + "\n")
            if self.flush_each_line:
                self._file.flush()
        except OSError as err:
            raise DataFileError(f"cannot write {self.what} {self.path} ({err.strerror or err})",
                                f"what was written so far is kept in {self.part}; free some "
                                "disk space") from None

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        """Flush, fsync and move ``PATH.part`` to ``PATH`` (safe to call twice)."""
        if self._file.closed:
            return
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self.part, self.path)
        except OSError as err:
            try:
                self._file.close()
            except OSError:
                pass
            raise DataFileError(f"cannot finish {self.what} {self.path} ({err.strerror or err})",
                                f"what was written is kept in {self.part}; free some disk "
                                "space and rename it") from None

    def discard(self) -> None:
        """Close and remove the ``.part`` file (nothing worth keeping was written)."""
        if not self._file.closed:
            try:
                self._file.close()
            except OSError:
                pass
        _cleanup(self.part)


def save_arrays(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> str:
    """Atomically write named numpy arrays as a safetensors file.

    Args:
        path: Destination file (conventionally ``*.safetensors``); parent dirs are created.
        arrays: Name -> numeric numpy array (bool/int/uint/float). Arrays are stored C-contiguous.

    Returns:
        The hex sha256 of the written file, to be recorded in the model's JSON config so that
        :func:`load_arrays` can detect tampering.

    Raises:
        TypeError: A name is not a str or an array has a non-numeric dtype (a programming error).
    """
    from safetensors.numpy import save

    clean: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        if not isinstance(name, str):
            raise TypeError(f"array names must be str, got {name!r}")
        array = np.ascontiguousarray(value)
        if array.dtype.kind not in _ALLOWED_KINDS:
            raise TypeError(f"array {name!r} has dtype {array.dtype}, which a model file cannot hold")
        clean[name] = array
    data = save(clean)
    _write_atomic(path, lambda handle: handle.write(data), binary=True)
    return sha256_bytes(data)


# The largest weights file read when no declared shapes bound it (a model is a few MB).
MAX_ARRAYS_BYTES = 1 << 30


def load_arrays(path: str | os.PathLike, expected_sha256: str | None = None,
                what: str = "weights file",
                max_bytes: int = MAX_ARRAYS_BYTES) -> dict[str, np.ndarray]:
    """Read a safetensors file written by :func:`save_arrays` (never executes anything from it).

    Args:
        path: The file.
        expected_sha256: When given, the file's sha256 must match (detects tampering and
            files swapped between models).
        what: How the message names the file (e.g. "SAE weights").
        max_bytes: The largest size the file may have (a bundle computes it from the shapes
            its config declares); only a regular file is read (never a device or a FIFO).

    Returns:
        Name -> writable numpy array (a copy owned by the caller).

    Raises:
        ModelFileError: The file is missing, unreadable, truncated, corrupted or its hash
            does not match.
    """
    from safetensors.numpy import load

    path = os.fspath(path)
    data = _read_bytes(path, what, max_bytes)
    if expected_sha256 is not None and sha256_bytes(data) != expected_sha256:
        raise ModelFileError(
            f"{what} {path} does not match the sha256 recorded in its config (tampered with, "
            f"truncated or swapped with another model's file)",
            "save the model again or restore both files from the same save")
    try:
        loaded = load(data)
    except Exception as err:  # noqa: BLE001 - any parse failure of untrusted bytes means a corrupt file
        raise ModelFileError(f"{what} {path} is truncated or corrupted ({_first_line(err)})",
                             "save the model again or restore the file from a backup") from None
    return {name: np.array(value, copy=True) for name, value in loaded.items()}


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write ``obj`` as indented UTF-8 JSON (NaN/inf refused: they are not JSON).

    Raises:
        ValueError: ``obj`` holds NaN/inf; TypeError: it holds a non-JSON type.
    """
    text = json.dumps(obj, indent=2, allow_nan=False) + "\n"
    _write_atomic(path, lambda handle: handle.write(text), binary=False)


def read_json(path: str | os.PathLike, what: str = "model config") -> Any:
    """Read a JSON file, with one clear error line for every way it can be bad.

    Args:
        path: The file.
        what: How the message names the file (e.g. "model config", "bundle manifest").

    Raises:
        ModelFileError: Missing, unreadable, not UTF-8, or not valid JSON (with line/column).
    """
    path = os.fspath(path)
    data = _read_bytes(path, what)
    try:
        text = data.decode("utf-8-sig")    # a UTF-8 BOM (some editors add one) is fine
    except UnicodeDecodeError:
        raise ModelFileError(f"{what} {path} is not UTF-8 text (corrupted or not a config file)",
                             "save the model again or restore the file from a backup") from None
    try:
        # bounded: a deeply nested or 5000-digit config is one line, not RecursionError
        return bounded_json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as err:
        raise ModelFileError(f"{what} {path} is not valid JSON: {err.msg} at line {err.lineno} "
                             f"column {err.colno} (truncated or edited by hand?)",
                             "save the model again or restore the file from a backup") from None
    except ValueError as err:
        raise ModelFileError(f"{what} {path}: {err}",
                             "save the model again or restore the file from a backup") from None


def read_format_json(path: str | os.PathLike, fmt: str, newest: int, what: str,
                     fix: str) -> dict:
    """Read a JSON config that names its ``format`` and ``version``, and check both.

    Args:
        path: The config file.
        fmt: The format name it must carry (e.g. "instrument-model").
        newest: The newest version this program reads.
        what: How messages name the file (e.g. "instrument model", "instrument SAE config").
        fix: The fix for a file that is not of this format or has a malformed version.

    Raises:
        ModelFileError: Unreadable or invalid JSON, another format, an invalid version, or a
            version newer than ``newest`` (the fix then says to upgrade instrument).
    """
    path = os.fspath(path)
    config = read_json(path, what=f"{what} file")
    check_format(config, fmt, newest, path, what, fix)
    return config


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not allowed in a model file")


def _read_bytes(path: str, what: str, max_bytes: int = MAX_CONFIG_BYTES) -> bytes:
    return read_regular_bytes(path, what, max_bytes)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
