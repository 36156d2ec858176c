"""`instrument train`, `instrument evaluate`: end to end as a user runs them, and their errors."""

import json
import os

import pytest

from tiny_model import write_strokes


@pytest.mark.slow
def test_train_evaluate_report_end_to_end(run_cli, tmp_path):
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=30, seed=2)
    held_out = write_strokes(tmp_path / "h.jsonl", seconds=8, seed=9)
    out = tmp_path / "models" / "mine"
    os.makedirs(out.parent)
    res = run_cli("train", "--gestures", gestures, "--out", str(out), "--sounds", "300",
                  "--epochs", "2", "--quiet", "--report", str(tmp_path / "r.png"))
    assert res.code == 0, res.err
    assert res.err == ""  # --quiet: no bars, no stage lines
    for word in ("trained", "trustworthiness", "continuity", "coverage", "stability", "report"):
        assert word in res.out
    assert sorted(os.listdir(out)) == ["config.json", "gesture_sae.safetensors",
                                       "mapping.safetensors", "sound_bank.safetensors",
                                       "sound_sae.safetensors"]
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    config = json.loads((out / "config.json").read_text())
    assert config["seed"] == 0 and config["training_seconds"] > 0
    assert config["configs"]["sound"]["n_sounds"] == 300
    assert config["metrics"]["model"]["trustworthiness"] > config["metrics"]["random"]["trustworthiness"]

    res = run_cli("evaluate", "--model", str(out), "--gestures", held_out, "--json")
    assert res.code == 0, res.err
    report = json.loads(res.out)
    keys = {"trustworthiness", "continuity", "spearman", "coverage", "coverage_exact", "stability"}
    assert set(report["model_figures"]) == keys == set(report["random_baseline"])
    assert {"model", "gestures", "holdout", "n_windows", "n_sounds", "k", "pairing",
            "mapping"} <= set(report)
    assert report["n_sounds"] == 300 and report["k"] == 10
    res = run_cli("evaluate", "--model", str(out), "--gestures", held_out)
    assert res.code == 0 and "random" in res.out and "trustworthiness" in res.out
    res = run_cli("evaluate", "--model", str(out))  # its training file is not in recordings/
    assert res.code == 2 and "--gestures" in res.err


@pytest.mark.parametrize("extra, message", [
    (["--sound-labels", "low=carrier_hz:300-50"], "LOW <= HIGH"),
    (["--sound-labels", "low"], "NAME=VALUE"),
    (["--match", "a=b"], "--pairing labels"),
    (["--pairing", "labels"], "--gesture-labels"),
    (["--report", "r.jpg"], ".png"),
    (["--sounds", "0"], "must be >= 1"),
])
def test_train_argument_errors(run_cli, tmp_path, extra, message):
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=1, seed=2)
    res = run_cli("train", "--gestures", gestures, "--out", str(tmp_path / "m"), *extra)
    assert res.code == 2, res.err
    assert message in res.err and res.err.count("\n") == 1


def test_train_refuses_missing_out_dir_and_files(run_cli, tmp_path):
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=1, seed=2)
    res = run_cli("train", "--gestures", gestures, "--out", str(tmp_path / "no" / "m"))
    assert res.code == 2 and "does not exist" in res.err
    res = run_cli("train", "--gestures", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "m"))
    assert res.code == 2 and "does not exist" in res.err


def test_evaluate_errors(run_cli, tmp_path):
    res = run_cli("evaluate", "--model", str(tmp_path))
    assert res.code == 2 and res.err.count("\n") == 1
