"""sound/user_synth.py: the example pyo synth file; corpus == live render; a changed or broken
synth file is refused in one line."""

import json
import os
import shutil

import numpy as np
import pytest
from conftest import ROOT

from instrument.errors import BadInput, DataFileError, ModelFileError
from instrument.sound.bank_kind import synth_file_of
from instrument.sound.user_synth import (
    build_pyo_bank,
    load_pyo_synth,
    render_pyo_sounds,
    render_synth_controls,
)

EXAMPLE = os.path.join(ROOT, "examples", "subtractive.py")
RATE = 22050


def test_the_example_declares_its_table_and_builds():
    synth = load_pyo_synth(EXAMPLE)
    assert synth.table.names == ("pitch_hz", "cutoff_hz", "resonance", "drive", "amplitude")
    assert len(synth.sha256) == 64


def test_corpus_sounds_equal_the_live_graph_holding_them():
    synth = load_pyo_synth(EXAMPLE)
    physical = np.array([[110, 2000, 6, 0.2, 0.5], [440, 300, 1, 0.0, 0.8],
                         [60, 3500, 11, 0.9, 0.3]])
    corpus = render_pyo_sounds(synth, physical, 0.4, RATE)
    for row, audio in zip(physical, corpus):
        live = render_synth_controls(synth, np.array([0.0]), row[None], 0.4, RATE,
                                     fade_in=False)
        # the same pyo objects computing the same float32 samples
        np.testing.assert_array_equal(audio, live)
        assert np.abs(audio).max() > 0.05


def test_pitch_follows_the_parameter():
    synth = load_pyo_synth(EXAMPLE)
    low, high = render_pyo_sounds(synth, np.array([[110, 4000, 0.7, 0, 0.5],
                                                   [440, 4000, 0.7, 0, 0.5]]), 1.0, RATE)
    def f0(x):
        spec = np.abs(np.fft.rfft(x[RATE // 4:] * np.hanning(len(x) - RATE // 4)))
        return np.argmax(spec) * RATE / (len(x) - RATE // 4)
    assert f0(low) == pytest.approx(110, rel=0.02) and f0(high) == pytest.approx(440, rel=0.02)


def test_a_bank_records_the_synth_and_a_changed_file_is_refused(tmp_path):
    path = str(tmp_path / "mine.py")
    shutil.copy(EXAMPLE, path)
    from instrument.config import SoundConfig

    bank = build_pyo_bank(path, SoundConfig(n_sounds=40, seconds=0.25, rate=RATE))
    assert bank.kind == "pyo" and bank.features.shape == (40, 64)
    assert bank.synth["path"] == path and bank.descriptors.shape == (40, 6)
    config = {"sound_source": {"kind": "pyo", "synth": bank.synth}}
    assert synth_file_of(config, "m") == path
    with open(path, "a") as fh:
        fh.write("\n# tweaked\n")
    with pytest.raises(ModelFileError, match="has changed since model m was trained"):
        synth_file_of(config, "m")
    os.remove(path)
    with pytest.raises(ModelFileError, match="has moved or been deleted"):
        synth_file_of(json.loads(json.dumps(config)), "m")


@pytest.mark.parametrize("text,error,message", [
    ("raise RuntimeError('oops')", DataFileError, "failed to import: RuntimeError: oops"),
    ("x = 1", BadInput, "no PARAMS"),
    ("from instrument.sound.params import Param, ParamTable\n"
     "PARAMS = ParamTable((Param('f', 1, 2, 'lin'),))\ndef build(pyo, p): return None",
     BadInput, "'amplitude'"),
])
def test_broken_synth_files_are_named(tmp_path, text, error, message):
    path = tmp_path / "bad.py"
    path.write_text(text)
    with pytest.raises(error, match=message):
        load_pyo_synth(str(path))
