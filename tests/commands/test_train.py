"""`instrument train`, `instrument evaluate`: end to end as a user runs them, and their errors."""

import json
import os

import pytest
from tiny_model import write_strokes


@pytest.mark.slow
def test_train_evaluate_report_end_to_end(run_cli, tmp_path):
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=30, seed=2)
    held_out = write_strokes(tmp_path / "h.jsonl", seconds=8, seed=9)
    out = tmp_path / "models" / "mine"  # its parent folder does not exist yet: made
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

    # 5 s of held-out stroke families, not the default 120: the same figures and code path at
    # a fifth of the cost (the metrics are O(N^2) in the windows; the default length is
    # measured in tests/test_default_model.py)
    res = run_cli("evaluate", "--model", str(out), "--gestures", held_out, "--json",
                  "--families", "5")
    assert res.code == 0, res.err
    report = json.loads(res.out)
    assert report["held_out_families"]["seconds"] == 5
    assert set(report["descriptor_space"]) == {"held_out_tail", "held_out_families"}
    keys = {"trustworthiness", "continuity", "spearman", "coverage", "coverage_exact", "stability",
            "stability_no_hold"}
    assert set(report["model_figures"]) == keys == set(report["random_baseline"])
    assert {"model", "gestures", "holdout", "n_windows", "n_sounds", "k", "pairing",
            "mapping"} <= set(report)
    assert report["n_sounds"] == 300 and report["k"] == 10
    full = report["full_sound_features"]  # the same map, in the whole sound feature space
    assert full["dims"] == 2 * config["configs"]["train"]["layer_size"]
    assert set(full["model"]) == {"trustworthiness", "continuity", "spearman"} == set(full["random"])
    assert full["model"]["trustworthiness"] > full["random"]["trustworthiness"]
    # The plain-text report, of the held-out tail: the training file is not in recordings/,
    # but the bundle keeps where it was (one run for both: each evaluate costs ~7 s)
    res = run_cli("evaluate", "--model", str(out), "--families", "5")
    assert res.code == 0 and "held-out tail of its training recording" in res.out, res.err
    assert "random" in res.out and "trustworthiness" in res.out
    assert "full" in res.out and "held out families" in res.out

    # An earlier model (and report) is replaced only with --force, and then as a whole.
    before = (out / "config.json").read_bytes()
    again = ["train", "--gestures", gestures, "--out", str(out), "--sounds", "300", "--epochs",
             "1", "--quiet", "--seed", "3", "--report", str(tmp_path / "r.png")]
    res = run_cli(*again)
    assert res.code == 2 and "already holds a model" in res.err and "--force" in res.err
    assert (out / "config.json").read_bytes() == before
    res = run_cli(*again, "--force")
    assert res.code == 0, res.err
    assert json.loads((out / "config.json").read_text())["seed"] == 3
    assert sorted(os.listdir(out.parent)) == ["mine"]  # no temporary or old directory left


@pytest.mark.slow
def test_train_with_a_sound_bank_file_and_l2(run_cli, tmp_path):
    from instrument.config import FeatureConfig, SoundConfig
    from instrument.sound.bank import build_sound_bank

    bank = build_sound_bank(SoundConfig(n_sounds=250, seconds=0.1), FeatureConfig(n_bands=32),
                            workers=1)
    bank.save(str(tmp_path / "bank.npz"))
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=20, seed=2)
    res = run_cli("train", "--gestures", gestures, "--out", str(tmp_path / "m"), "--sound-bank",
                  str(tmp_path / "bank.npz"), "--epochs", "2", "--mapping", "l2", "--quiet")
    assert res.code == 0, res.err
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["configs"]["sound"]["n_sounds"] == 250
    assert config["configs"]["features"]["n_bands"] == 32
    assert "mapping" not in config["files"]


@pytest.mark.slow
def test_train_with_labels_from_the_command_line(run_cli, tmp_path):
    free = write_strokes(tmp_path / "free.jsonl", seconds=15, seed=1)
    circles = write_strokes(tmp_path / "circles.jsonl", seconds=15, seed=2, kinds=(0,))
    lines = write_strokes(tmp_path / "lines.jsonl", seconds=15, seed=3, kinds=(1,))
    res = run_cli("train", "--gestures", free, "--out", str(tmp_path / "m"), "--sounds", "300",
                  "--epochs", "2", "--pairing", "labels", "--quiet",
                  "--gesture-labels", f"circles={circles}", f"lines={lines}",
                  "--sound-labels", "low=carrier_hz:50-300", "high=carrier_hz:300-2000",
                  "--match", "circles=high", "lines=low")
    assert res.code == 0, res.err
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["labels"] == {"gesture": ["circles", "lines"], "sound": ["low", "high"],
                                "match": {"circles": "high", "lines": "low"},
                                "free_gestures": True}
    assert config["runtime"]["match"] == [1, 0, -1]  # -1: the free-gesture class reaches every sound
    assert config["gesture_files"] == ["free.jsonl", "circles.jsonl", "lines.jsonl"]


@pytest.mark.parametrize("extra, message", [
    (["--sound-labels", "low=carrier_hz:300-50"], "LOW <= HIGH"),
    (["--sound-labels", "low"], "NAME=VALUE"),
    (["--match", "a=b"], "--pairing labels"),
    (["--pairing", "labels"], "--gesture-labels"),
    (["--report", "r.jpg"], ".png"),
    (["--sounds", "0"], "0 is out of range; use a whole number in 20..200000"),
    (["--sounds", "5"], "5 is out of range; use a whole number in 20..200000"),
])
def test_train_argument_errors(run_cli, tmp_path, extra, message):
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=1, seed=2)
    res = run_cli("train", "--gestures", gestures, "--out", str(tmp_path / "m"), *extra)
    assert res.code == 2, res.err
    assert message in res.err and res.err.count("\n") == 1


def test_train_refuses_missing_files_and_a_folder_that_is_not_a_model(run_cli, tmp_path):
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=1, seed=2)
    res = run_cli("train", "--gestures", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "m"))
    assert res.code == 2 and "does not exist" in res.err
    # the folder holding the recording: refused before any work, even with --force
    res = run_cli("train", "--gestures", gestures, "--out", str(tmp_path), "--force")
    assert res.code == 2 and res.err.count("\n") == 1 and "holds the input" in res.err
    assert sorted(os.listdir(tmp_path)) == ["g.jsonl"]


def test_evaluate_errors(run_cli, tmp_path):
    res = run_cli("evaluate", "--model", str(tmp_path))
    assert res.code == 2 and res.err.count("\n") == 1


def test_ctrl_c_leaves_no_half_written_model(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT, default_sigint

    gestures = write_strokes(tmp_path / "g.jsonl", seconds=30, seed=2)
    out = tmp_path / "models" / "mine"
    os.makedirs(out.parent)
    proc = subprocess.Popen([sys.executable, "-m", "instrument", "train", "--gestures", gestures,
                             "--out", str(out), "--sounds", "300", "--epochs", "1000"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)
    for line in proc.stderr:  # stage lines: interrupt while the gesture SAE trains
        if "sound bank:" in line:
            break
    time.sleep(0.5)
    assert proc.poll() is None, "training ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert os.listdir(out.parent) == []  # no model, no temporary directory
