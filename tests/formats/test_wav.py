"""WAV files."""

import numpy as np

from instrument.formats.wav import read_wav, write_wav
from instrument.sound.fm import render_fm

RATE = 44100


def test_wav_round_trip(tmp_path):
    audio = render_fm(440, 2, 3, 0.5, 1000, RATE)
    write_wav(str(tmp_path / "x.wav"), audio, RATE)
    back, rate = read_wav(str(tmp_path / "x.wav"))
    assert rate == RATE and np.abs(back - audio).max() < 1 / 32767 + 1e-6
