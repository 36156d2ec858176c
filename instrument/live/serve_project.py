"""The folder ``instrument serve --project DIR`` keeps: examples, models, the current model.

::

    DIR/recordings/take-0001.jsonl ...   examples, one file per startRecording..stopRecording
    DIR/models/model-0001/ ...           every model trained here (bundles, never overwritten)
    DIR/current.json                     which model plays, its metrics (written atomically)
    DIR/names.json                       setInputNames / setOutputNames
    DIR/set-aside/20261202-071500/       what deleteAllExamples moved out of recordings/

Nothing is ever deleted: ``deleteAllExamples`` moves the examples aside (move them back into
``recordings/`` to undo it), and a new model gets a new folder. A damaged ``current.json``
or a model that no longer loads is reported in one line and the service starts without a
model instead of not starting at all (an installation must come back after a reboot).
"""

from __future__ import annotations

import datetime as _dt
import glob
import os

from instrument.errors import BadInput, InstrumentError
from instrument.formats.safe_io import read_json, write_json_atomic

CURRENT_FORMAT = "instrument-serve-current"
MAX_NAMES = 4096
MAX_NAME_CHARS = 64


class Project:
    """A serve project folder (created when missing).

    Raises:
        BadInput: ``root`` exists and is not a folder, or cannot be created.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = os.path.abspath(os.fspath(root))
        if os.path.exists(self.root) and not os.path.isdir(self.root):
            raise BadInput(f"--project {self.root} is a file, not a folder",
                           "give a folder (it is created when missing)")
        try:
            for sub in ("recordings", "models"):
                os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        except OSError as err:
            raise BadInput(f"cannot create project folder {self.root} ({err.strerror})",
                           "give a folder you can write to") from None
        self.recordings_dir = os.path.join(self.root, "recordings")
        self.models_dir = os.path.join(self.root, "models")
        self.current_path = os.path.join(self.root, "current.json")
        self.names_path = os.path.join(self.root, "names.json")

    # --- examples ----------------------------------------------------------------------------

    def recordings(self) -> list[str]:
        """Every finished example file, oldest first (``.part`` files are still growing)."""
        return sorted(glob.glob(os.path.join(self.recordings_dir, "*.jsonl")))

    def next_take(self) -> str:
        """The next free ``recordings/take-NNNN.jsonl`` (never an existing name)."""
        return self._next(self.recordings_dir, "take-{:04d}.jsonl", (".part",))

    def next_model(self) -> str:
        """The next free ``models/model-NNNN`` folder name."""
        return self._next(self.models_dir, "model-{:04d}", ())

    @staticmethod
    def _next(folder: str, pattern: str, also: tuple[str, ...]) -> str:
        taken = set(os.listdir(folder))
        number = 1
        while True:
            name = pattern.format(number)
            if name not in taken and not any(name + suffix in taken for suffix in also):
                return os.path.join(folder, name)
            number += 1

    def set_examples_aside(self) -> tuple[int, str | None]:
        """Move every example into ``set-aside/STAMP/`` (deleteAllExamples); (count, folder)."""
        files = self.recordings()
        if not files:
            return 0, None
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = os.path.join(self.root, "set-aside", stamp)
        suffix = 1
        while os.path.exists(folder):
            suffix += 1
            folder = os.path.join(self.root, "set-aside", f"{stamp}-{suffix}")
        os.makedirs(folder)
        for path in files:
            os.replace(path, os.path.join(folder, os.path.basename(path)))
        return len(files), folder

    # --- the current model -------------------------------------------------------------------

    def current_model(self) -> tuple[str | None, str | None]:
        """(model folder, None) of the model to resume, or (None, why not) when there is none."""
        if not os.path.exists(self.current_path):
            return None, None
        try:
            current = read_json(self.current_path, what="serve state")
        except InstrumentError as err:
            return None, f"cannot read {self.current_path} ({err})"
        model = current.get("model") if isinstance(current, dict) else None
        if not isinstance(model, str) or not model or "\0" in model:
            return None, f"{self.current_path} names no model"
        path = model if os.path.isabs(model) else os.path.join(self.root, model)
        if not os.path.isdir(path):
            return None, f"the last model {path} is gone"
        return path, None

    def set_current(self, model: str, metrics: dict) -> None:
        """Remember ``model`` as the one to resume (atomically; relative to the project)."""
        model = os.path.abspath(model)
        inside = os.path.commonpath([model, self.root]) == self.root
        write_json_atomic(self.current_path, {
            "format": CURRENT_FORMAT, "version": 1,
            "model": os.path.relpath(model, self.root) if inside else model,
            "since": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "metrics": metrics})

    # --- names -------------------------------------------------------------------------------

    def names(self) -> dict:
        """{"inputs": [...], "outputs": [...]} as last set (empty lists when never set)."""
        out = {"inputs": [], "outputs": []}
        if os.path.exists(self.names_path):
            try:
                saved = read_json(self.names_path, what="serve names")
            except InstrumentError:
                return out
            if isinstance(saved, dict):
                for key in out:
                    value = saved.get(key)
                    if isinstance(value, list) and all(isinstance(v, str) for v in value):
                        out[key] = value[:MAX_NAMES]
        return out

    def set_names(self, which: str, names: list[str]) -> None:
        """Store setInputNames / setOutputNames (``which`` is "inputs" or "outputs")."""
        current = self.names()
        current[which] = list(names)
        write_json_atomic(self.names_path, current)


def check_names(args: tuple, expected: int | None) -> list[str]:
    """Validate a setInputNames/setOutputNames argument list (strings, unique, bounded).

    Raises:
        BadInput: One line saying what is wrong (logged by the service, never fatal).
    """
    if not args:
        raise BadInput("no names given")
    if len(args) > MAX_NAMES or not all(isinstance(a, str) for a in args):
        raise BadInput("names must be up to 4096 strings")
    names = [a.strip() for a in args]
    if any(not n or len(n) > MAX_NAME_CHARS or not n.isprintable() for n in names):
        raise BadInput(f"names must be 1..{MAX_NAME_CHARS} printable characters")
    if len(set(names)) != len(names):
        raise BadInput("names are not unique")
    if expected is not None and len(names) != expected:
        raise BadInput(f"{len(names)} names for {expected} values")
    return names
