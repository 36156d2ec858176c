"""The rendered demo does not fold energy back from above Nyquist.

The demo's first seconds through models/default are rendered at 4 x 44.1 kHz (Nyquist 88.2
kHz): the energy that render has above 22.05 kHz is what a 44.1 kHz render folds back.
Measured: 8.5e-8 of the energy for the stream as played (one bank sound at a time, each
alias-free: params.alias_free), 6e-13 for the same model blending 48 sounds, 1e-12 for pure
sines (index 0), and 40% with the cap removed and the index raised.

(An earlier form compared the 44.1 kHz render's spectrum with the decimated 4x render's. That
difference also counts the two renders' sample-timing of each change of sound, which a
stream of discrete changes has more of: 18% "folded" for this stream, 1-8 kHz where the
sounds' own energy is, while nothing lay above Nyquist to fold.)
"""

import numpy as np
import pytest
from conftest import ROOT

SECONDS = 3.0


@pytest.fixture(scope="module")
def stream():
    from instrument.formats.recording import read_recording
    from instrument.gesture.steps import frames_from_recording
    from instrument.runtime import Runtime

    rt = Runtime.from_bundle(f"{ROOT}/models/default")
    times, frames = frames_from_recording(read_recording(f"{ROOT}/recordings/demo.jsonl"),
                                          rt.gesture_config)
    keep = times < SECONDS
    _, params = rt.play(frames[keep])
    return times[keep], params.astype(np.float64), rt


def _above_nyquist(times, params) -> float:
    """Share of the 4x-oversampled render's energy above 22.05 kHz (what a 44.1 kHz render
    would fold back)."""
    from instrument.live.render import render_controls

    over = render_controls(times, params, SECONDS, rate=176400).astype(np.float64)
    power = np.abs(np.fft.rfft(over * np.hanning(len(over)))) ** 2
    freq = np.fft.rfftfreq(len(over), 1 / 176400)
    return float(power[freq > 22050].sum() / power.sum())


@pytest.mark.slow
def test_the_rendered_demo_folds_almost_nothing_back(stream, monkeypatch):
    from instrument.sound.params import carson_bandwidth

    times, params, rt = stream
    assert carson_bandwidth(params, rt.table).max() <= 22050 * 1.0001  # every frame fits
    capped = _above_nyquist(times, params)
    sines = params.copy()
    sines[:, 2] = 0.0
    floor = _above_nyquist(times, sines)
    # the check can fail: the same stream with the cap removed and the index raised
    import instrument.sound.smoothed_fm as smoothed_fm

    monkeypatch.setattr(smoothed_fm, "alias_free", lambda values, table, rate: values)
    hot = params.copy()
    hot[:, 2] = 10.0
    hot[:, 1] = np.maximum(hot[:, 1], 4.0)
    uncapped = _above_nyquist(times, hot)
    assert floor < 1e-6 and capped < 1e-4 and uncapped > 0.2, (floor, capped, uncapped)
