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
