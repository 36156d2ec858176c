"""Every command follows the one output rule: inputs are never outputs, --force to replace."""

from __future__ import annotations

import pytest
from tiny_model import tiny_parts, write_strokes

from instrument.formats.bundle import save_bundle


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    config, arrays, _ = tiny_parts()
    path = tmp_path_factory.mktemp("models") / "tiny"
    save_bundle(path, config, arrays)
    return path


def _one_line_refusal(res, *words):
    assert res.code == 2, res.err
    assert res.err.count("\n") == 1 and "Traceback" not in res.err, res.err
    for word in words:
        assert word in res.err, res.err


def test_render_never_overwrites_its_inputs(run_cli, model, tmp_path):
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=1, seed=1)
    before = open(gestures, "rb").read()
    base = ["render", "--model", str(model), "--gestures", gestures]
    _one_line_refusal(run_cli(*base, "--out", gestures, "--force"), "same file as --gestures")
    _one_line_refusal(run_cli(*base, "--out", str(tmp_path / "o.wav"), "--controls", gestures),
                      "--controls", "same file as --gestures")
    _one_line_refusal(run_cli(*base, "--out", str(tmp_path / "o.wav"),
                              "--controls", str(tmp_path / "o.wav")), "same file as --out")
    _one_line_refusal(run_cli(*base, "--out", str(model / "o.wav")), "inside the model")
    assert open(gestures, "rb").read() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.jsonl"]
    assert not (model / "o.wav").exists()


def test_gestures_synth_and_plot_replace_only_with_force(run_cli, tmp_path):
    out = tmp_path / "s.jsonl"
    out.write_text("precious")
    args = ["gestures", "synth", "--seconds", "2", "--out", str(out)]
    _one_line_refusal(run_cli(*args), "already exists", "--force")
    assert out.read_text() == "precious"
    res = run_cli(*args, "--force", "--quiet")
    assert res.code == 0, res.err
    assert out.read_text().startswith('{"format": "instrument-gestures"')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl"]  # no .part left
    # the plot of a recording must not replace the recording
    _one_line_refusal(run_cli("gestures", "plot", str(out), "--out", str(out), "--force"),
                      "same file as recording")
    png = tmp_path / "p.png"
    png.write_text("old")
    _one_line_refusal(run_cli("gestures", "plot", str(out), "--out", str(png)), "already exists")
    assert png.read_text() == "old"


def test_synth_and_sounds_build_replace_only_with_force(run_cli, tmp_path):
    for args in (["synth", "--seconds", "0.1", "--rate", "8000"],
                 ["sounds", "build", "--n", "20", "--seconds", "0.05", "--rate", "8000",
                  "--quiet"]):
        out = tmp_path / "exists"
        out.write_text("precious")
        _one_line_refusal(run_cli(*args, "--out", str(out)), "already exists")
        assert out.read_text() == "precious"
        res = run_cli(*args, "--out", str(out), "--force")
        assert res.code == 0, res.err
        assert out.read_bytes()[:4] in (b"RIFF", b"PK\x03\x04")
        out.unlink()


def test_perform_controls_follow_the_rule(run_cli, model, tmp_path):
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=1, seed=1)
    base = ["perform", "--model", str(model), "--replay", gestures, "--fast", "--audio", "none",
            "--no-osc"]
    _one_line_refusal(run_cli(*base, "--controls", gestures, "--force"), "same file as --replay")
    csv = tmp_path / "live.csv"
    csv.write_text("precious")
    _one_line_refusal(run_cli(*base, "--controls", str(csv)), "already exists", "--force")
    assert csv.read_text() == "precious"
