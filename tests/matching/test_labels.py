"""The labels CSV and the --pairs category matching."""

from __future__ import annotations

import os

import numpy as np
import pytest

from instrument.errors import BadInput, DataFileError
from instrument.matching.labels import assign_labels, parse_pairs, read_label_rows


@pytest.fixture
def files(tmp_path):
    audio = [str(tmp_path / "audio" / f"a{i}.wav") for i in range(4)]
    images = [str(tmp_path / "images" / f"i{i}.png") for i in range(4)]
    return tmp_path, audio, images


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_rows_relative_to_the_csv_header_comments_and_blanks(files):
    root, audio, images = files
    csv = write(root / "labels.csv", "path,category\n# a comment\n\naudio/a0.wav,blues\n"
                " audio/a2.wav , rock \nimages/i1.png,cars\nimages/i3.png,cats\n"
                f"{images[0]},cars\n")
    labels = assign_labels(csv, audio, images)
    assert labels.audio_names == ["blues", "rock"] and labels.image_names == ["cars", "cats"]
    np.testing.assert_array_equal(labels.audio, [0, -1, 1, -1])
    np.testing.assert_array_equal(labels.images, [0, 0, -1, 1])
    assert read_label_rows(csv)[0] == (4, os.path.abspath(audio[0]), "blues")


@pytest.mark.parametrize("text,words", [
    ("audio/a0.wav\n", "line 1 is not path,category"),
    ("audio/a0.wav,blues,extra\n", "line 1 is not path,category (3 cells)"),
    ("audio/zz.wav,blues\n", "line 1: "),
    ("audio/a0.wav,blues\naudio/a0.wav,rock\n", "labelled both 'blues' and 'rock'"),
    ("path,category\n", "has no path,category rows"),
    ("audio/a0.wav," + "x" * 101 + "\n", "longer than 100 characters"),
])
def test_bad_labels_files_are_one_line(files, text, words):
    root, audio, images = files
    csv = write(root / "labels.csv", text)
    with pytest.raises(DataFileError) as err:
        assign_labels(csv, audio, images)
    assert words in str(err.value) and "labels.csv" in str(err.value)


def test_labels_of_skipped_files_are_ignored(files):
    root, audio, images = files
    csv = write(root / "labels.csv", "audio/gone.wav,blues\naudio/a1.wav,rock\n")
    labels = assign_labels(csv, audio, images, skipped={str(root / "audio" / "gone.wav")})
    assert labels.audio_names == ["rock"]


def test_not_utf8_is_refused(files):
    root, audio, images = files
    (root / "labels.csv").write_bytes(b"audio/a0.wav,\xff\xfe\n")
    with pytest.raises(DataFileError, match="not UTF-8"):
        assign_labels(str(root / "labels.csv"), audio, images)


@pytest.fixture
def labels(files):
    root, audio, images = files
    csv = write(root / "labels.csv", "audio/a0.wav,blues\naudio/a1.wav,rock\naudio/a2.wav,cats\n"
                "images/i0.png,cars\nimages/i1.png,party\nimages/i2.png,cats\n")
    return assign_labels(csv, audio, images)


def test_pairs_by_text_and_by_same_name(labels):
    pairs = parse_pairs("blues=cars, rock = party", labels)
    assert [(labels.audio_names[a], labels.image_names[i]) for a, i in pairs] == [
        ("blues", "cars"), ("rock", "party")]
    with pytest.raises(BadInput, match="share 1 names"):  # only "cats" is on both sides
        parse_pairs(None, labels)


@pytest.mark.parametrize("text,words", [
    ("blues", "is not audio_category=image_category"),
    ("blues=cars,jazz=party", "'jazz' is not an audio category"),
    ("blues=cars,rock=dogs", "'dogs' is not an image category"),
    ("blues=cars,rock=cars", "'cars' is matched twice"),
    ("blues=cars", "only one pair"),
])
def test_bad_pairs(labels, text, words):
    with pytest.raises(BadInput) as err:
        parse_pairs(text, labels)
    assert words in str(err.value)
