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


def test_read_wav_refuses_a_fifo_a_folder_and_a_missing_file_in_one_line(tmp_path):
    import os
    import threading

    import pytest

    from instrument.errors import DataFileError

    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    result = {}

    def read():
        try:
            read_wav(str(fifo))
        except DataFileError as err:
            result["error"] = str(err)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(5.0)
    if reader.is_alive():  # blocked in open(): let it go, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("read_wav blocked on a FIFO")
    assert "not a regular file" in result["error"] and "\n" not in result["error"]
    with pytest.raises(DataFileError, match="is a directory"):
        read_wav(str(tmp_path))
    with pytest.raises(DataFileError, match="does not exist"):
        read_wav(str(tmp_path / "missing.wav"))


def test_read_wav_of_a_truncated_file_is_one_line_or_its_whole_frames(tmp_path):
    import pytest

    from instrument.errors import DataFileError

    path = tmp_path / "x.wav"
    write_wav(str(path), np.full(1001, 0.5), RATE)
    data = path.read_bytes()
    path.write_bytes(data[:-1])  # half of the last sample
    back, _ = read_wav(str(path))
    assert len(back) == 1000 and np.allclose(back, 0.5, atol=1e-4)
    path.write_bytes(data[:20])  # inside the header
    with pytest.raises(DataFileError, match="cannot read WAV"):
        read_wav(str(path))
