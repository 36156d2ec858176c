"""sound/pd_synth.py: the example Pd patch rendered by real `pd -batch`: pitch follows the
parameter, a control stream changes it at its frame times, a broken patch is named."""

import os
import shutil

import numpy as np
import pytest
from conftest import ROOT

from instrument.config import SoundConfig
from instrument.errors import DataFileError
from instrument.sound.pd_synth import build_pd_bank, load_pd_synth, render_pd_controls, render_pd_sounds

pytestmark = pytest.mark.skipif(not (shutil.which("pd") or shutil.which("puredata")),
                                reason="Pure Data is not installed (CI installs puredata-core)")
EXAMPLE = os.path.join(ROOT, "examples", "subtractive.pd")
RATE = 22050


def peak_hz(x, rate=RATE):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    k = int(np.argmax(spec[5:])) + 5  # above DC
    return k * rate / len(x)


def test_pitch_follows_the_parameter():
    patch, table, identity = load_pd_synth(EXAMPLE)
    assert table.names == ("pitch_hz", "cutoff_hz", "resonance", "drive", "amplitude")
    pitches = [110.0, 220.0, 440.0, 880.0]
    physical = np.array([[p, 4000.0, 0.0, 0.0, 0.5] for p in pitches])
    audio = render_pd_sounds(patch, table, physical, 0.5, RATE)
    assert audio.shape == (4, RATE // 2)
    for p, x in zip(pitches, audio):
        assert np.abs(x).max() > 0.02
        # a sawtooth's strongest partial is its fundamental; 2 Hz bins over 0.5 s
        assert peak_hz(x) == pytest.approx(p, abs=3)


def test_a_control_stream_changes_the_pitch_at_its_frames():
    patch, table, _ = load_pd_synth(EXAMPLE)
    audio = render_pd_controls(patch, table, np.array([0.0, 0.5]),
                               np.array([[220, 4000, 0, 0, 0.5], [660, 4000, 0, 0, 0.5]]),
                               1.0, RATE)
    assert peak_hz(audio[2000:11000]) == pytest.approx(220, abs=4)
    assert peak_hz(audio[13000:22000]) == pytest.approx(660, abs=4)


def test_a_bank_records_the_patch(tmp_path):
    bank = build_pd_bank(EXAMPLE, SoundConfig(n_sounds=30, seconds=0.25, rate=RATE))
    assert bank.kind == "pd" and bank.synth["path"] == EXAMPLE
    assert bank.features.shape == (30, 64) and np.isfinite(bank.features).all()
    assert bank.features.std(0).max() > 0.05  # the sounds differ
    bank.save(str(tmp_path / "b.npz"))
    from instrument.sound.bank import SoundBank

    assert SoundBank.load(str(tmp_path / "b.npz")).synth == bank.synth


def test_broken_patches_are_named(tmp_path):
    bad = tmp_path / "broken.pd"
    bad.write_text("#N canvas 0 0 100 100 12;\n#X obj 10 10 no_such_object~;\n"
                   "#X obj 10 40 outlet~;\n")
    shutil.copy(EXAMPLE + ".json", str(bad) + ".json")
    patch, table, _ = load_pd_synth(str(bad))
    with pytest.raises(DataFileError, match="Pd could not render"):
        render_pd_sounds(patch, table, np.array([[220, 1000, 1, 0, 0.5]]), 0.1, RATE)
    (tmp_path / "alone.pd").write_text("#N canvas 0 0 100 100 12;\n")
    with pytest.raises(DataFileError, match="has no parameter table"):
        load_pd_synth(str(tmp_path / "alone.pd"))
    (tmp_path / "text.pd").write_text("hello")
    with pytest.raises(DataFileError, match="not a Pd patch"):
        load_pd_synth(str(tmp_path / "text.pd"))
