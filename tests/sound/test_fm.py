"""Numpy FM: pyo's definition, golden arrays, Bessel sidebands, pyo itself."""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy.special import jv

from instrument.errors import BadInput
from instrument.sound.fm import render_fm, render_many

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "golden")
RATE = 44100


def golden(name):
    return np.load(os.path.join(GOLDEN, name), allow_pickle=False)


def reference_pyo_loop(car, ratio, index, amp, n, rate):
    """pyo's Fm_readframes, transcribed sample by sample (with exact sines)."""
    pm = pc = 0.0
    out = np.empty(n)
    for i in range(n):
        mod_freq = car[i] * ratio[i]
        mod_val = mod_freq * index[i] * np.sin(2 * np.pi * pm)
        pm += mod_freq / rate
        out[i] = np.sin(2 * np.pi * pc) * amp[i]
        pc += (car[i] + mod_val) / rate
    return out


# --- the definition ------------------------------------------------------------------------

def test_matches_pyo_recurrence_sample_by_sample():
    n = 600
    ramp = np.linspace(0, 1, n)
    params = (200 + 500 * ramp, 0.5 + 2 * ramp, 4 * ramp, 0.3 + 0.5 * ramp)
    ours = render_fm(*params, n, RATE)
    ref = reference_pyo_loop(*params, n, RATE)
    assert ours[0] == 0.0  # the first sample uses the phase before any increment, like pyo
    np.testing.assert_allclose(ours, ref, atol=2e-6)


def test_golden_arrays():
    from golden.make_golden import CONTROL_PARAMS, CONTROL_TIMES, MANY, RAMP, STATIC, N

    from instrument.live.render import render_controls

    np.testing.assert_allclose(render_fm(*STATIC, N, RATE), golden("fm_static.npy"), atol=1e-6)
    np.testing.assert_allclose(render_fm(*RAMP, N, RATE), golden("fm_ramp.npy"), atol=1e-6)
    np.testing.assert_allclose(render_many(MANY, N, RATE), golden("fm_many.npy"), atol=2e-5)
    np.testing.assert_allclose(render_controls(CONTROL_TIMES, CONTROL_PARAMS, 0.05, RATE, 0.005),
                               golden("fm_controls.npy"), atol=1e-6)


def test_render_many_equals_render_fm_per_row(rng):
    from instrument.sound.params import PARAM_TABLE

    params = PARAM_TABLE.to_physical(rng.random((40, 4)))
    many = render_many(params, 22050, 22050, workers=2)
    one_by_one = np.stack([render_fm(*row, 22050, 22050) for row in params])
    assert many.dtype == np.float32 and many.shape == (40, 22050)
    # float32 fixed-point phases vs float64 cumulative sums
    np.testing.assert_allclose(many, one_by_one, atol=5e-4)
    np.testing.assert_array_equal(render_many(params, 22050, 22050, workers=1), many)


def test_phase_continuous_across_calls():
    phase = np.zeros(2)
    parts = [render_fm(440, 2, 3, 0.5, size, RATE, phase) for size in (100, 1, 999, 3000)]
    np.testing.assert_allclose(np.concatenate(parts), render_fm(440, 2, 3, 0.5, 4100, RATE),
                               atol=1e-9)
    assert 0 <= phase[0] < 1 and 0 <= phase[1] < 1


@pytest.mark.parametrize("index", [0.5, 1.5, 3.0])
def test_sidebands_follow_bessel_functions(index):
    # carrier 2000 Hz, modulator 250 Hz: sidebands at 2000 + n*250 have amplitude |J_n(index)|
    # (1 s at 44.1 kHz, whole-Hz frequencies: every sideband sits exactly on an FFT bin)
    carrier, ratio, amp = 2000.0, 0.125, 0.8
    audio = render_fm(carrier, ratio, index, amp, RATE, RATE).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(audio)) * 2 / len(audio)
    for n in range(-6, 7):
        freq = int(carrier + n * carrier * ratio)
        assert spectrum[freq] == pytest.approx(amp * abs(jv(n, index)), abs=2e-3), n
    sidebands = [int(carrier + n * 250) for n in range(-7, 8)]
    assert np.delete(spectrum, sidebands).max() < 2e-3  # nothing anywhere else


def test_bad_arguments():
    with pytest.raises(BadInput, match="n_samples"):
        render_fm(440, 2, 3, 0.5, -1, RATE)
    with pytest.raises(BadInput, match="NaN"):
        render_fm(np.full(4, np.nan), 2, 3, 0.5, 4, RATE)
    with pytest.raises(BadInput, match="shape"):
        render_fm(np.ones(3), 2, 3, 0.5, 4, RATE)
    with pytest.raises(BadInput, match="rate"):
        render_fm(440, 2, 3, 0.5, 4, 0)
    with pytest.raises(BadInput, match="phase"):
        render_fm(440, 2, 3, 0.5, 4, RATE, phase=[0, 0])
    with pytest.raises(BadInput, match="index = 11"):
        render_many([[440, 2, 11, 0.5]], 10, RATE)


# --- against pyo itself ------------------------------------------------------------------------

def pyo_render_file(path, per_sample, n, rate):
    """Render pyo's FM with per-sample parameter arrays through the offline server to a file."""
    os.environ.setdefault("PYO_GUI_WX", "0")
    import pyo

    server = pyo.Server(sr=rate, nchnls=1, buffersize=64, duplex=0, audio="offline")
    server.deactivateMidi()
    server.setVerbosity(1)
    server.boot()
    try:
        server.recordOptions(dur=n / rate, filename=path, fileformat=0, sampletype=3)
        counter = pyo.Count(pyo.Trig(), min=0, max=0)
        sources, tables = [], []
        for values in per_sample:
            table = pyo.DataTable(size=n)
            np.asarray(table.getBuffer())[:] = values
            tables.append(table)
            sources.append(pyo.TableIndex(table, counter))
        fm = pyo.FM(carrier=sources[0], ratio=sources[1], index=sources[2], mul=sources[3])
        fm.out()
        server.start()
        del fm, sources, tables, counter
    finally:
        server.shutdown()
    import warnings

    from scipy.io import wavfile

    with warnings.catch_warnings():  # pyo writes a PEAK chunk scipy does not know
        warnings.simplefilter("ignore", wavfile.WavFileWarning)
        got_rate, audio = wavfile.read(path)
    assert got_rate == rate
    return audio.astype(np.float64)[:n]


def compare_with_pyo(ours, theirs, rate):
    skip = int(0.006 * rate)  # pyo's server fades its output in over 5 ms
    a, b = ours[skip:].astype(np.float64), theirs[skip:]
    lags = range(-8, 9)
    errors = [np.abs(a[8:-8] - b[8 + lag:len(b) - 8 + lag]).max() for lag in lags]
    assert lags[int(np.argmin(errors))] == 0  # already aligned: same first sample
    spec_a, spec_b = np.abs(np.fft.rfft(a)), np.abs(np.fft.rfft(b))
    assert np.corrcoef(spec_a, spec_b)[0, 1] > 0.999
    top = np.argsort(spec_a)[-10:]
    np.testing.assert_allclose(spec_b[top], spec_a[top], rtol=0.02)
    return float(np.abs(a - b).max()), float(np.sqrt(np.mean((a - b) ** 2)))


def test_numpy_equals_pyo_static(tmp_path):
    n = RATE // 2
    params = [np.full(n, v) for v in (440.0, 2.0, 3.0, 0.5)]
    theirs = pyo_render_file(str(tmp_path / "static.wav"), params, n, RATE)
    peak, rms = compare_with_pyo(render_fm(*params, n, RATE), theirs, RATE)
    assert peak < 0.01 and rms < 0.003  # pyo: float32 phase drift, 512-point sine table


def test_numpy_equals_pyo_ramped(tmp_path):
    n = RATE // 2
    ramp = np.arange(n) / n
    params = [300 * 2 ** ramp, 1 + ramp, 4 * ramp, 0.2 + 0.6 * ramp]
    theirs = pyo_render_file(str(tmp_path / "ramp.wav"), params, n, RATE)
    peak, rms = compare_with_pyo(render_fm(*params, n, RATE), theirs, RATE)
    assert peak < 0.005 and rms < 0.001
