"""--midi-file follows the one output rule (formats/outputs.check_output), for perform,
render and serve alike."""

from __future__ import annotations

import argparse
import os

import pytest
from tiny_model import tiny_parts, write_strokes

from instrument.commands.midi_options import check_midi_file
from instrument.errors import BadInput
from instrument.formats.bundle import save_bundle


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    config, arrays, _ = tiny_parts()
    path = tmp_path_factory.mktemp("models") / "tiny"
    save_bundle(path, config, arrays)
    return path


def _args(midi_file, **flags):
    return argparse.Namespace(midi_file=str(midi_file), **flags)


def test_inputs_outputs_and_odd_files_are_refused(model, tmp_path):
    gestures = write_strokes(tmp_path / "g.mid", seconds=1, seed=1)  # a recording named .mid
    cases = [
        (_args(gestures, gestures=gestures, force=True), "same file as --gestures"),
        (_args(gestures, replay=gestures, force=True), "same file as --replay"),
        (_args(model / "x.mid", model=str(model)), "inside the model"),
        (_args(tmp_path / "o.mid", out=str(tmp_path / "o.mid")), "same file as --out"),
        (_args(tmp_path / "c.mid", controls=str(tmp_path / "c.mid")), "same file as --controls"),
    ]
    (tmp_path / "folder.mid").mkdir()
    cases.append((_args(tmp_path / "folder.mid", force=True), "is a directory"))
    os.mkfifo(tmp_path / "pipe.mid")
    cases.append((_args(tmp_path / "pipe.mid", force=True), "not a regular file"))
    (tmp_path / "file").write_text("x")
    cases.append((_args(tmp_path / "file" / "m.mid"), "is a file, not a folder"))
    for args, words in cases:
        with pytest.raises(BadInput, match=words) as err:
            check_midi_file(args)
        assert "\n" not in str(err.value)
    assert not (model / "x.mid").exists()


def test_an_existing_file_is_replaced_only_with_force(tmp_path):
    mid = tmp_path / "take.mid"
    mid.write_text("precious")
    with pytest.raises(BadInput, match="already exists") as err:
        check_midi_file(_args(mid))                   # serve has no --force: refused too
    assert "--force" in err.value.fix
    check_midi_file(_args(mid, force=True))
    check_midi_file(_args(tmp_path / "new" / "take.mid"))  # a missing folder is made later
    check_midi_file(argparse.Namespace(midi_file=None))
    with pytest.raises(BadInput, match="does not end in .mid"):
        check_midi_file(_args(tmp_path / "take.wav"))


def test_perform_refuses_a_midi_file_that_is_its_controls_csv(run_cli, model, tmp_path):
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=1, seed=1)
    res = run_cli("perform", "--model", str(model), "--replay", gestures, "--fast", "--audio",
                  "none", "--no-osc", "--controls", str(tmp_path / "x.mid"),
                  "--midi-file", str(tmp_path / "x.mid"))
    assert res.code == 2 and res.err.count("\n") == 1, res.err
    assert "same file as --controls" in res.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.jsonl"]
