"""Reading a folder into a collection: bounded, sorted, bad files skipped with a line each."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from instrument.errors import BadInput
from instrument.matching import audio_files
from instrument.matching.collection import find_files, read_collection


def tone_files(folder, n, rate=8000):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        t = np.arange(rate // 2) / rate
        sf.write(folder / f"t{i}.wav", (0.3 * np.sin(2 * np.pi * (200 + 50 * i) * t)).astype(np.float32),
                 rate)


def test_files_are_found_sorted_in_subfolders_without_hidden_ones(tmp_path):
    tone_files(tmp_path / "b", 2)
    tone_files(tmp_path / "a", 1)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.wav").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not audio")
    assert find_files(str(tmp_path), audio_files.AUDIO_EXTENSIONS, "audio") == [
        "a/t0.wav", "b/t0.wav", "b/t1.wav"]
    with pytest.raises(BadInput, match="more than 2 .wav"):
        find_files(str(tmp_path), (".wav",), "audio", max_files=2)


def test_bad_files_are_skipped_named_and_counted(tmp_path):
    tone_files(tmp_path, 4)
    (tmp_path / "broken.wav").write_bytes(b"RIFF nonsense")
    (tmp_path / "empty.flac").write_bytes(b"")
    lines = []
    coll = read_collection("audio", str(tmp_path), audio_files.AUDIO_EXTENSIONS,
                           audio_files.file_features, say=lines.append)
    assert coll.paths == ["t0.wav", "t1.wav", "t2.wav", "t3.wav"]
    assert coll.features.shape == (4, audio_files.feature_width())
    assert [p for p, _ in coll.skipped] == ["broken.wav", "empty.flac"]
    assert len(lines) == 3 and "broken.wav" in lines[0] and "empty.flac" in lines[1]
    assert lines[2] == "audio: 4 files read, 2 skipped"


def test_too_few_readable_files_is_one_line(tmp_path):
    tone_files(tmp_path, 2)
    with pytest.raises(BadInput, match=r"has 2 readable .* files \(0 skipped\); give at least 4"):
        read_collection("audio", str(tmp_path), audio_files.AUDIO_EXTENSIONS,
                        audio_files.file_features, quiet=True)
