"""The one output rule (formats/outputs.py): nothing the user did not name as output is lost."""

from __future__ import annotations

import os

import pytest
from tiny_model import tiny_parts, write_strokes

from instrument.errors import BadInput, ModelFileError
from instrument.formats.bundle import is_model_dir, save_bundle
from instrument.formats.outputs import check_model_output, check_output, check_output_folder


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    config, arrays, _ = tiny_parts()
    path = tmp_path_factory.mktemp("models") / "tiny"
    save_bundle(path, config, arrays)
    return path, config, arrays


def _refused(call, message) -> str:
    with pytest.raises(BadInput, match=message) as err:
        call()
    assert "\n" not in str(err.value)
    return str(err.value)


def test_an_existing_file_needs_force(tmp_path):
    out = tmp_path / "a.wav"
    assert check_output(out, force=False) == str(out)  # new: fine, nothing touched
    out.write_text("precious")
    text = _refused(lambda: check_output(out, force=False), "already exists")
    assert "--force" in text
    assert check_output(out, force=True) == str(out)
    assert out.read_text() == "precious"  # checking never writes


def test_an_input_is_never_an_output(tmp_path, bundle):
    gestures = tmp_path / "g.jsonl"
    gestures.write_text("x")
    inputs = [("--gestures", gestures), ("--model", bundle[0])]
    _refused(lambda: check_output(gestures, True, inputs), "same file as --gestures")
    # the same file by another name (a symlink, a relative path) is the same file
    os.symlink(gestures, tmp_path / "link.jsonl")
    _refused(lambda: check_output(tmp_path / "link.jsonl", True, inputs), "same file")
    _refused(lambda: check_output(bundle[0] / "o.wav", True, inputs), "inside the model --model")
    _refused(lambda: check_output(tmp_path / "c.csv", True, [("--out", tmp_path / "c.csv")],
                                  flag="--controls"), "--controls .* same file as --out")


@pytest.mark.parametrize("make, message", [
    (lambda p: os.makedirs(p), "is a directory"),
    (lambda p: os.symlink("/dev/null", p), "not a regular file"),
    (lambda p: os.mkfifo(p), "not a regular file"),
])
def test_outputs_that_are_not_files_are_refused_even_with_force(tmp_path, make, message):
    out = tmp_path / "out"
    make(out)
    _refused(lambda: check_output(out, True), message)


def test_a_parent_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    _refused(lambda: check_output(tmp_path / "f" / "o.wav", True), "is a file, not a folder")


def test_model_output_replaces_only_an_earlier_model_with_force(tmp_path, bundle):
    path, config, arrays = bundle
    assert check_model_output(tmp_path / "new" / "m", False) == str(tmp_path / "new" / "m")
    (tmp_path / "empty").mkdir()
    assert check_model_output(tmp_path / "empty", False)  # nothing to lose
    assert is_model_dir(path)
    _refused(lambda: check_model_output(path, False), "already holds a model")
    assert check_model_output(path, True) == str(path)


def test_model_output_never_replaces_a_users_folder(tmp_path, bundle, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    for force in (False, True):
        _refused(lambda: check_model_output(folder, force), "not an instrument model")
    monkeypatch.chdir(folder)
    _refused(lambda: check_model_output(".", True), "not an instrument model")
    (tmp_path / "file").write_text("x")
    _refused(lambda: check_model_output(tmp_path / "file", True), "is a file")
    # a model with something else in it (a recording, a report) is not only a model
    import shutil

    extra = tmp_path / "model_plus"
    shutil.copytree(bundle[0], extra)
    gestures = write_strokes(extra / "g.jsonl", seconds=1)
    assert not is_model_dir(extra)
    _refused(lambda: check_model_output(extra, True), "not an instrument model")
    _refused(lambda: check_model_output(extra, True, [("--gestures", gestures)]),
             "holds the input --gestures")
    assert (folder / "notes.txt").read_text() == "keep me"


def test_save_bundle_itself_refuses_a_users_folder(tmp_path, bundle):
    _, config, arrays = bundle
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(ModelFileError, match="not a model directory"):
        save_bundle(folder, config, arrays)
    assert os.listdir(folder) == ["notes.txt"]
    assert sorted(os.listdir(tmp_path)) == ["mine"]  # no temporary directory left


# --- a folder of outputs (match --out, match --generate-demo) ----------------------------------

FILES = ("matches.json", "contact_sheet.png")
EARLIER = '{\n "format": "instrument-matches",\n "version": 1\n}\n'


def _folder(path, force=False, **extra):
    return lambda: check_output_folder(path, FILES, "matches.json", "instrument-matches",
                                       force, **extra)


def test_an_output_folder_is_new_empty_earlier_or_forced(tmp_path):
    assert _folder(tmp_path / "new")() == str(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    _folder(tmp_path / "empty")()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    assert "--force" in _refused(_folder(mine), "not empty and holds no earlier matches.json")
    _folder(mine, force=True)()
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "matches.json").write_text(EARLIER)
    (earlier / "contact_sheet.png").write_bytes(b"png")
    _folder(earlier)()                                   # the same kind: no --force needed
    (tmp_path / "file").write_text("x")
    _refused(_folder(tmp_path / "file", force=True), "is a file, not a folder")


def test_an_output_folder_never_holds_or_sits_in_an_input(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    inputs = (("--images", images),)
    _refused(_folder(images / "out", inputs=inputs), "inside, or holds, --images")
    _refused(_folder(tmp_path, force=True, inputs=inputs), "inside, or holds, --images")
    # a labels CSV may sit in the folder, but is never one of its files
    out = tmp_path / "out"
    out.mkdir()
    (out / "labels.csv").write_text("a,b\n")
    (out / "contact_sheet.png").write_text("a,b\n")
    _folder(out, force=True, file_inputs=(("--labels", out / "labels.csv"),))()
    _refused(_folder(out, force=True, file_inputs=(("--labels", out / "contact_sheet.png"),)),
             "same file as --labels")


@pytest.mark.parametrize("make, message", [
    (lambda p: os.makedirs(p), "is a directory"),
    (lambda p: os.mkfifo(p), "not a regular file"),
])
def test_a_file_of_the_folder_that_is_not_a_file_is_refused(tmp_path, make, message):
    out = tmp_path / "out"
    out.mkdir()
    (out / "matches.json").write_text(EARLIER)
    make(out / "contact_sheet.png")
    _refused(_folder(out), message)
    _refused(_folder(out, force=True), message)


def test_a_fifo_as_the_marker_is_no_earlier_output_and_does_not_block(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "matches.json")                 # opening it to read would block for ever
    _refused(_folder(out), "not empty and holds no earlier")
    _refused(_folder(out, force=True), "matches.json is not a regular file")
