"""threads.py: numpy's BLAS on one thread for training (or $INSTRUMENT_TORCH_THREADS), restored."""

import pytest

from instrument.errors import BadInput
from instrument.learn import threads


def _blas_threads():
    from threadpoolctl import threadpool_info

    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def test_blas_threads_limits_and_restores(monkeypatch):
    pytest.importorskip("threadpoolctl")
    import numpy  # noqa: F401 - its BLAS must be loaded to be limited

    before = _blas_threads()
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    with threads.blas_threads():
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


def test_env_threads(monkeypatch):
    monkeypatch.setenv(threads.THREADS_ENV, "3")
    assert threads.env_threads() == 3
    monkeypatch.setenv(threads.THREADS_ENV, "")
    assert threads.env_threads() is None
    monkeypatch.setenv(threads.THREADS_ENV, "two")
    with pytest.raises(BadInput, match="integer >= 1"):
        threads.env_threads()


def test_torch_settings_switch_determinism_without_the_compiler():
    """The deterministic switch is on inside the block and off after, and torch's compiler
    (1.7 s to import) is not imported for it."""
    import subprocess
    import sys

    code = ("import sys, torch\n"
            "from instrument.learn.autoencoder import torch_settings\n"
            "with torch_settings():\n"
            "    assert torch.are_deterministic_algorithms_enabled()\n"
            "assert not torch.are_deterministic_algorithms_enabled()\n"
            "assert 'torch._inductor' not in sys.modules and 'torch._dynamo' not in sys.modules\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
