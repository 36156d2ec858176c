"""A private JACK server on the dummy driver, for tests that need a real audio stream.

Usage::

    from _jack import jack_server   # tests/ is on sys.path under pytest (rootdir conftest)

    def test_something():
        with jack_server(rate=44100, period=256) as jack:
            ...  # PortAudio (sounddevice) and pyo's jack backend now see jack.name

Each server gets a unique name and ``JACK_DEFAULT_SERVER`` points clients at it for the
duration of the context, so tests running at the same time (or a jackd the developer already
runs) do not collide. Skips the test only when jackd is not installed (CI installs jackd2).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass

import pytest


@dataclass
class JackServer:
    """A running test server: its name, rate, period and log file."""

    name: str
    rate: int
    period: int
    log_path: str
    process: subprocess.Popen


def _running(name: str, env: dict) -> bool:
    if shutil.which("jack_wait"):
        proc = subprocess.run(["jack_wait", "-s", name, "-c"], capture_output=True, text=True,
                              env=env, timeout=10)
        return proc.stdout.strip() == "running"
    return False


@contextlib.contextmanager
def jack_server(rate: int = 44100, period: int = 256, timeout: float = 15.0):
    """Start ``jackd --no-realtime -d dummy -r RATE -p PERIOD``, wait until ready, kill it.

    Yields:
        JackServer. While inside, ``JACK_DEFAULT_SERVER`` is its name and
        ``JACK_NO_START_SERVER=1`` (no client may launch another server).
    """
    jackd = shutil.which("jackd")
    if jackd is None:
        pytest.skip("jackd is not installed (apt-get install jackd2; CI installs it)")
    name = f"instrument-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1", JACK_NO_START_SERVER="1",
               JACK_DEFAULT_SERVER=name)
    log = tempfile.NamedTemporaryFile(prefix="jackd-", suffix=".log", delete=False)
    proc = subprocess.Popen([jackd, "-n", name, "--no-realtime", "-d", "dummy",
                             "-r", str(rate), "-p", str(period)],
                            stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    saved = {key: os.environ.get(key) for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    try:
        deadline = time.monotonic() + timeout
        if not shutil.which("jack_wait"):  # no way to ask: give it a moment
            time.sleep(1.0)
        while shutil.which("jack_wait") and not _running(name, env):
            if proc.poll() is not None:
                with open(log.name) as fh:
                    tail = fh.read()[-600:]
                raise RuntimeError(f"jackd exited with code {proc.returncode}: {tail}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"jackd did not become ready within {timeout} s")
            time.sleep(0.05)
        if proc.poll() is not None:
            raise RuntimeError(f"jackd exited with code {proc.returncode}")
        os.environ["JACK_DEFAULT_SERVER"] = name
        os.environ["JACK_NO_START_SERVER"] = "1"
        yield JackServer(name, rate, period, log.name, proc)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        # PortAudio (sounddevice) asserts and aborts the whole process at exit if its JACK
        # client outlives the server: close it while the server still runs, reopen after.
        sounddevice = sys.modules.get("sounddevice")
        if sounddevice is not None:
            with contextlib.suppress(Exception):
                sounddevice._terminate()
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if sounddevice is not None:
            with contextlib.suppress(Exception):
                sounddevice._initialize()
        log.close()
        with contextlib.suppress(OSError):
            os.unlink(log.name)
