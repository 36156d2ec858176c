"""What `train` and `evaluate` say: labelled losses, a short-recording warning, the held-out
tail found from the bundle (and a clear line when it moved), continuity in time."""

import json
import os

import pytest
from tiny_model import write_strokes

from instrument.commands.train import loss_lines, short_recording_warning


def test_loss_lines_label_every_layer_training_and_held_out():
    lines = loss_lines({"gesture_sae": [0.5, 0.25], "gesture_sae_held_out": [0.625, 0.375],
                        "sound_sae": [0.125, 0.0625], "mapping": 0.75})
    text = "\n".join(lines)
    assert "training / held-out" in lines[0]
    assert "gesture autoencoder, layer 1: 0.5000 / 0.6250" in text
    assert "gesture autoencoder, layer 2: 0.2500 / 0.3750" in text
    assert "sound autoencoder, layer 2:   0.0625 / -" in text and "mapping network" in text
    assert "e-0" not in text and "[" not in text  # plain decimals, no Python lists


def test_short_recording_warning_is_one_line_under_a_minute():
    assert short_recording_warning(420.0) is None and short_recording_warning(60.0) is None
    line = short_recording_warning(30.4)
    assert "\n" not in line and "30 s" in line and "7 minutes" in line and "64%" in line


@pytest.mark.slow
def test_evaluate_finds_the_training_recording_and_says_which_part(run_cli, tmp_path):
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=30, seed=2)
    out = tmp_path / "m"
    res = run_cli("train", "--gestures", gestures, "--out", str(out), "--sounds", "300",
                  "--epochs", "2")
    assert res.code == 0, res.err
    warnings = [line for line in res.err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "7 minutes" in warnings[0]
    assert "gesture autoencoder, layer 1:" in res.out and "continuity in time" in res.out
    config = json.loads((out / "config.json").read_text())
    assert config["gesture_paths"] == [os.path.abspath(gestures)]
    # the descriptors pairing plays one sound as it is, with less glide (frame_policy.py)
    assert config["runtime"]["glide"] == pytest.approx(0.5)
    assert config["runtime"]["blend_k"] == 1 and config["runtime"]["like_tolerance"] == 2.0

    res = run_cli("evaluate", "--model", str(out), "--json", "--families", "0")
    assert res.code == 0, res.err
    report = json.loads(res.out)
    assert report["gestures"] == os.path.abspath(gestures) and report["holdout"] == 0.2
    assert "held-out tail of its training recording" in report["scored"]
    assert "the last 20%" in report["scored"]
    played, plain = (report["continuity_in_time"][k] for k in ("played", "closest_sound"))
    assert played["moving_frames"] > 100
    assert played["octave_jumps"] <= plain["octave_jumps"]
    assert played["changes_per_s"] < plain["changes_per_s"]
    # --holdout without --gestures scores that share of the training recording
    res = run_cli("evaluate", "--model", str(out), "--json", "--families", "0",
                  "--holdout", "0.5")
    assert res.code == 0, res.err
    half = json.loads(res.out)
    assert half["holdout"] == 0.5 and "the last 50%" in half["scored"]
    tail_windows = report["descriptor_space"]["held_out_tail"]["n_windows"]
    assert half["descriptor_space"]["held_out_tail"]["n_windows"] > 2 * tail_windows

    os.rename(gestures, tmp_path / "moved.jsonl")
    res = run_cli("evaluate", "--model", str(out), "--families", "0")
    assert res.code == 2 and res.err.count("\n") == 1
    assert os.path.abspath(gestures) in res.err and "not there any more" in res.err
    assert "--gestures" in res.err
