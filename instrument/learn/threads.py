"""How many threads training's matrix products get: one unless ``$INSTRUMENT_TORCH_THREADS`` says.

The networks here are small: a product of a few million multiply-adds gains little from a
second thread on an idle machine and loses several times over on a busy 2-core one (two
threads that wait for each other while other processes hold the cores). Measured for
``train --from`` on 2 cores at load 4.5: numpy's BLAS on 2 threads 9.7 s wall (5.9 s CPU),
on 1 thread 3.1 s (1.9 s CPU). Torch (learn/autoencoder.py) and numpy follow the same rule.
No torch here: the ``--from`` path uses this without importing it.
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from instrument.errors import BadInput

THREADS_ENV = "INSTRUMENT_TORCH_THREADS"


def env_threads() -> int | None:
    """``$INSTRUMENT_TORCH_THREADS`` as an integer >= 1, or None when it is unset or empty."""
    text = os.environ.get(THREADS_ENV, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise BadInput(f"${THREADS_ENV}={text!r} is not an integer >= 1",
                       f"unset it or set e.g. {THREADS_ENV}=1")
    return value


@contextlib.contextmanager
def blas_threads() -> Iterator[None]:
    """numpy's BLAS on ``env_threads()`` threads (default 1) for a block, restored afterwards.

    Uses threadpoolctl (installed with scikit-learn, 11 ms to import); without it the block
    runs on whatever BLAS was given.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        yield
        return
    with threadpool_limits(limits=env_threads() or 1, user_api="blas"):
        yield
