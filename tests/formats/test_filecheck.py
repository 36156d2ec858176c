"""filecheck: readers of files from outside open only regular files, so a FIFO (its open
blocks for ever) or a device (endless) is one line, never a hang."""

from __future__ import annotations

import os
import threading

import pytest

from instrument.errors import DataFileError, ModelFileError
from instrument.formats.filecheck import open_regular, read_regular_bytes, regular_file_size


def _labels(path):
    from instrument.matching.labels import read_label_rows

    return read_label_rows(path)


def _audio(path):
    from instrument.matching.audio_files import file_features

    return file_features(path)


def _image(path):
    from instrument.matching.images import file_features

    return file_features(path, "spectrum")


def _recording(path):
    from instrument.formats.recording import read_recording

    return read_recording(path)


def _controls(path):
    from instrument.formats.controls import read_controls_csv

    return read_controls_csv(path)


def _wav(path):
    from instrument.formats.wav import read_wav

    return read_wav(path)


def _refuses_without_blocking(read, path) -> str:
    """Call ``read(path)`` in a thread; fail (and unblock it) if it hangs."""
    result = {}

    def run():
        try:
            read(str(path))
            result["error"] = None
        except (DataFileError, ModelFileError) as err:
            result["error"] = str(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(10.0)
    if thread.is_alive():  # blocked in open(): a writer end lets it go
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"{read.__name__} blocked on a FIFO")
    assert result["error"] is not None, "a FIFO was read as if it were a file"
    assert "\n" not in result["error"]
    return result["error"]


@pytest.mark.parametrize("read, name", [
    (_recording, "g.jsonl"), (_controls, "c.csv"), (_wav, "a.wav"), (_labels, "labels.csv"),
    (_audio, "a.wav"), (_image, "i.png"),
])
def test_every_reader_refuses_a_fifo_in_one_line(tmp_path, read, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    assert "not a regular file" in _refuses_without_blocking(read, fifo)


def test_the_checks_themselves(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"12345")
    assert regular_file_size(path, "file") == 5
    with open_regular(path, "file", max_bytes=5) as handle:
        assert handle.read() == b"12345"
    with pytest.raises(ModelFileError, match="more than the 4"):
        open_regular(path, "file", max_bytes=4)
    assert read_regular_bytes(path, "file", 5) == b"12345"
    with pytest.raises(DataFileError, match="is a directory"):
        regular_file_size(tmp_path, "file", DataFileError)
    with pytest.raises(DataFileError, match="does not exist") as err:
        regular_file_size(tmp_path / "missing", "file", DataFileError, missing_fix="look again")
    assert err.value.fix == "look again"
    with pytest.raises(ModelFileError, match="not a regular file"):
        read_regular_bytes("/dev/zero", "config", 100)  # endless: never read


def test_render_of_a_fifo_recording_is_one_line_exit_2(tmp_path):
    from conftest import ROOT, run_cli_process

    os.mkfifo(tmp_path / "g.jsonl")
    res = run_cli_process("render", "--model", f"{ROOT}/models/default", "--gestures",
                          str(tmp_path / "g.jsonl"), "--out", str(tmp_path / "o.wav"),
                          timeout=120)
    assert res.code == 2 and res.err.count("\n") == 1, res.err
    assert "not a regular file" in res.err and not (tmp_path / "o.wav").exists()
