"""The rendered demo does not fold energy back from above Nyquist.

The demo's first seconds through models/default are rendered at 44.1 kHz and at 4 x 44.1 kHz
(Nyquist 88.2 kHz, then decimated with a proper low-pass): energy the 44.1 kHz render has
where the oversampled one has none is what folded back. The comparison's own floor (pure
sines, index 0: nothing can fold) is 0.6%; the capped stream shows 7% (Carson's band holds
98% of each tone's power, so the last sidebands and gliding transitions still fold a little);
with the cap removed and the index raised it is 44%. Tolerances sit between those.
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


def _folded(times, params):
    from scipy.signal import resample_poly

    from instrument.live.render import render_controls

    plain = render_controls(times, params, SECONDS, rate=44100).astype(np.float64)
    over = resample_poly(render_controls(times, params, SECONDS, rate=176400).astype(np.float64),
                         1, 4)
    n = min(len(plain), len(over))
    window = np.hanning(n)
    p_plain = np.abs(np.fft.rfft(plain[:n] * window)) ** 2
    p_over = np.abs(np.fft.rfft(over[:n] * window)) ** 2
    band = np.fft.rfftfreq(n, 1 / 44100) < 20000  # the decimation filter rolls off above
    return float(np.maximum(p_plain[band] - p_over[band], 0).sum() / p_plain[band].sum())


@pytest.mark.slow
def test_the_rendered_demo_folds_almost_nothing_back(stream, monkeypatch):
    from instrument.sound.params import carson_bandwidth

    times, params, rt = stream
    assert carson_bandwidth(params, rt.table).max() <= 22050 * 1.0001  # every frame fits
    capped = _folded(times, params)
    sines = params.copy()
    sines[:, 2] = 0.0
    floor = _folded(times, sines)
    # the check can fail: the same stream with the cap removed and the index raised
    import instrument.sound.smoothed_fm as smoothed_fm

    monkeypatch.setattr(smoothed_fm, "alias_free", lambda values, table, rate: values)
    hot = params.copy()
    hot[:, 2] = 10.0
    hot[:, 1] = np.maximum(hot[:, 1], 4.0)
    uncapped = _folded(times, hot)
    assert floor < 0.02 and capped < 0.12 and uncapped > 0.3 and uncapped > 4 * capped, \
        (floor, capped, uncapped)
