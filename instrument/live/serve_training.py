"""Training in the background for ``instrument serve``: ``instrument train`` in a child process.

A child process, not a thread: training imports torch and takes both cores for seconds,
while the service is on the live path (which never imports torch) and must keep answering
``/wek/inputs`` every few milliseconds. ``cancelTrain`` interrupts the child with SIGINT,
which ``train`` handles like Ctrl-C: the model is written atomically, so a cancelled
training leaves nothing behind.

Small defaults for a live session (``--train-sounds 1000 --train-epochs 10``): a bank of 1000
FM sounds instead of 5000 and 10 pretraining epochs per layer instead of 30, so a minute of
examples trains in a few seconds; ``instrument train`` with its defaults gives the paper's
full-size model.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from typing import Callable

from instrument.errors import InstrumentError

DEFAULT_TRAIN_SOUNDS = 1000
DEFAULT_TRAIN_EPOCHS = 10
METRIC_KEYS = ("trustworthiness", "continuity", "spearman", "coverage", "stability")
_TAIL_LINES = 20


def model_metrics(model_dir: str) -> dict:
    """The model's figures from its config.json (flat name -> float; empty when absent)."""
    from instrument.formats.safe_io import read_json

    try:
        config = read_json(os.path.join(model_dir, "config.json"))
    except InstrumentError:
        return {}
    metrics = config.get("metrics") if isinstance(config, dict) else None
    figures = metrics.get("model") if isinstance(metrics, dict) else None
    if not isinstance(figures, dict):
        return {}
    return {key: float(figures[key]) for key in METRIC_KEYS
            if isinstance(figures.get(key), (int, float)) and not isinstance(figures[key], bool)}


def _default_sigint() -> None:
    # A service started in the background inherits SIGINT ignored; cancelTrain needs it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Trainer:
    """Runs one ``instrument train`` at a time and reports back from a waiting thread.

    Args:
        on_done: ``callback(model_dir, seconds)`` after a successful training (from the
            waiting thread; it loads and swaps the model).
        on_failed: ``callback(reason)`` when training failed or was cancelled.
        sounds, epochs: The training size (see the module doc).
        python: The interpreter to run (tests and benchmarks use this one).
    """

    def __init__(self, on_done: Callable[[str, float], None], on_failed: Callable[[str], None],
                 sounds: int = DEFAULT_TRAIN_SOUNDS, epochs: int = DEFAULT_TRAIN_EPOCHS,
                 python: str = sys.executable):
        self.on_done, self.on_failed = on_done, on_failed
        self.sounds, self.epochs, self.python = int(sounds), int(epochs), python
        self._proc: subprocess.Popen | None = None
        self._cancelled = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.started_at: float | None = None
        self.trainings = self.failures = self.cancels = 0

    @property
    def busy(self) -> bool:
        """True while a training runs."""
        with self._lock:
            return self._proc is not None

    def command(self, recordings: list[str], out: str) -> list[str]:
        """The ``instrument train`` command line for these examples."""
        return [self.python, "-m", "instrument", "train", "--gestures", *recordings,
                "--out", out, "--sounds", str(self.sounds), "--epochs", str(self.epochs),
                "--quiet"]

    def start(self, recordings: list[str], out: str) -> bool:
        """Start training on ``recordings`` into ``out``; False when one already runs."""
        with self._lock:
            if self._proc is not None:
                return False
            self._cancelled = False
            self.started_at = time.perf_counter()
            env = dict(os.environ, INSTRUMENT_TORCH_THREADS=os.environ.get(
                "INSTRUMENT_TORCH_THREADS", "1"))   # leave a core to the live service
            self._proc = subprocess.Popen(self.command(recordings, out),
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, text=True, env=env,
                                          start_new_session=True, preexec_fn=_default_sigint)
            self.trainings += 1
            self._thread = threading.Thread(target=self._wait, args=(self._proc, out),
                                            name="serve-train", daemon=True)
            self._thread.start()
        return True

    def _wait(self, proc: subprocess.Popen, out: str) -> None:
        tail: deque[str] = deque(maxlen=_TAIL_LINES)   # bounded, whatever train prints
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line.rstrip()[:300])
        code = proc.wait()
        seconds = time.perf_counter() - (self.started_at or time.perf_counter())
        with self._lock:
            cancelled, self._proc = self._cancelled, None
        if cancelled:
            self.cancels += 1
            self.on_failed("training cancelled")
        elif code != 0 or not os.path.isdir(out):
            self.failures += 1
            errors = [line for line in tail if "error" in line.lower()]
            self.on_failed((errors or list(tail) or [f"train exited with code {code}"])[-1])
        else:
            self.on_done(out, seconds)

    def cancel(self) -> bool:
        """Interrupt the training (as Ctrl-C would); False when none runs."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return False
            self._cancelled = True
        try:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        except OSError:
            pass
        return True

    def join(self, timeout: float | None = None) -> None:
        """Wait for the waiting thread (after :meth:`cancel` or a finished training)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
