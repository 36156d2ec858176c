"""pyo's offline server, booted for one render and always shut down: one place for the rules.

Three offline renders use it: a control stream through the FM graph
(:func:`instrument.live.render.render_controls`), the sampler's lanes
(:func:`instrument.output.pyo_sampler.render_slices_pyo`) and a user's pyo synth
(:mod:`instrument.sound.user_synth`). The rules they share:

- pyo's offline server must record to a file: it writes into a scratch directory, deleted
  afterwards; the renders read their audio from a ``TableRec`` instead (exact samples,
  without the 5 ms fade-in the server puts on its own file).
- pyo keeps one server per process: it is shut down whatever happens, so the next render
  (or a live voice) can boot.
- Every pyo object of the graph must be gone before the server shuts down (a survivor makes
  the next boot in this process crash): build and run the graph in a function of its own,
  called inside the ``with`` block, so its objects die when it returns.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

import numpy as np


@contextlib.contextmanager
def offline_server(rate: int, seconds: float, buffersize: int = 64):
    """Yield ``(pyo, server)``: an offline server booted at ``rate``, set to run ``seconds``.

    ``server.start()`` then computes the whole duration at once (it returns when done).
    """
    from instrument.output.pyo_voice import import_pyo

    pyo = import_pyo()
    server = pyo.Server(sr=int(rate), nchnls=1, buffersize=buffersize, duplex=0,
                        audio="offline")
    server.deactivateMidi()
    server.setVerbosity(1)
    server.boot()
    scratch = tempfile.TemporaryDirectory(prefix="instrument-pyo-")
    try:
        server.recordOptions(dur=float(seconds), filename=os.path.join(scratch.name, "out.wav"),
                             fileformat=0, sampletype=0)
        yield pyo, server
    finally:
        server.shutdown()
        scratch.cleanup()


def table_audio(table, n: int) -> np.ndarray:
    """float32[n]: the first ``n`` samples of a pyo table (zeros where it is shorter)."""
    out = np.zeros(n, np.float32)
    got = np.array(table.getBuffer(), dtype=np.float32)
    out[:min(n, len(got))] = got[:n]
    return out
