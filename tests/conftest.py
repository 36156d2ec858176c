"""Shared fixtures. Environment is set before anything imports pyo or pygame."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass

import pytest

os.environ.setdefault("PYO_GUI_WX", "0")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_sigint():
    """``preexec_fn`` for a CLI child that a test stops with Ctrl-C (SIGINT).

    A test run started in the background inherits SIGINT ignored, and so would the child;
    a user's Ctrl-C in a terminal is what the tests mean, so the child gets the default.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def rng():
    """A seeded numpy Generator, the same in every test."""
    import numpy as np

    return np.random.default_rng(1234)


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def free_port() -> int:
    """A UDP port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli_process(*args: str, timeout: float = 300, env: dict | None = None,
                    cwd: str | None = None) -> CliResult:
    """Run ``python -m instrument ARGS`` in a fresh process, as a user would."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "instrument", *args], capture_output=True,
                          text=True, timeout=timeout, env=full_env, cwd=cwd or ROOT)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def run_cli():
    """Fixture form of :func:`run_cli_process`."""
    return run_cli_process


@pytest.fixture(scope="session")
def audio_model(tmp_path_factory):
    """(samples folder, gestures file, model dir): an instrument of 2 generated takes' slices,
    built and trained through the CLI as a user does (``sounds build --from-audio``, ``train
    --sound-bank``). Built once: the sampler tests only read it (each build + train is ~7 s).
    """
    from audio_samples import write_samples
    from tiny_model import write_strokes

    root = tmp_path_factory.mktemp("audio_model")
    samples = write_samples(root / "s", files=2, hits=12)
    bank = str(root / "bank.npz")
    res = run_cli_process("sounds", "build", "--from-audio", samples, "--out", bank, "--quiet")
    assert res.code == 0, res.err
    gestures = write_strokes(root / "g.jsonl", seconds=12, seed=3)
    model = str(root / "m")
    res = run_cli_process("train", "--gestures", gestures, "--sound-bank", bank, "--out", model,
                          "--epochs", "1", "--quiet")
    assert res.code == 0, res.err
    return samples, gestures, model
