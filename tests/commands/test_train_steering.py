"""`instrument train --steer/--pin/--from/--stillness/--blend` and `evaluate`'s descriptor figures,
as a user runs them, and their one-line errors."""

import json

import numpy as np
import pytest
from tiny_model import write_strokes


def test_bad_steering_and_pins_are_one_line(run_cli, tmp_path):
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=5, seed=1)
    base = ["train", "--gestures", gestures, "--out", str(tmp_path / "m"), "--quiet"]
    res = run_cli(*base, "--steer", "wobble=loudness")
    assert res.code == 2 and "--steer 'wobble=loudness'" in res.err and "speed" in res.err
    res = run_cli(*base, "--steer", "speed=loudness,extent=loudness")
    assert res.code == 2 and "twice" in res.err
    res = run_cli(*base, "--steer", "speed=loudness", "--pairing", "random")
    assert res.code == 2 and "descriptors pairing" in res.err
    res = run_cli(*base, "--blend", "0")
    assert res.code == 2 and "--blend" in res.err and "1..256" in res.err
    res = run_cli(*base, "--pin", "g.jsonl@3-2=#4")
    assert res.code == 2 and "RECORDING@T0-T1=SOUND" in res.err
    res = run_cli(*base, "--pin", "other.jsonl@1-2=#4", "--sounds", "30")
    assert res.code == 2 and "not one of the --gestures files" in res.err
    assert not (tmp_path / "m").exists()
    assert all("Traceback" not in r for r in (res.err, res.out))


def test_held_out_families_are_never_trained_on(run_cli, tmp_path):
    from instrument.formats.recording import write_recording
    from instrument.gesture.heldout import heldout_strokes

    path = tmp_path / "families.jsonl"
    write_recording(path, heldout_strokes(10))
    res = run_cli("train", "--gestures", str(path), "--out", str(tmp_path / "m"), "--quiet")
    assert res.code == 2 and "held-out stroke families" in res.err


@pytest.mark.slow
def test_from_steer_fade_and_evaluate_in_descriptor_space(run_cli, tmp_path):
    from instrument.formats.bundle import load_bundle

    gestures = write_strokes(tmp_path / "g.jsonl", seconds=40, seed=2)
    first, second = tmp_path / "first", tmp_path / "second"
    res = run_cli("train", "--gestures", gestures, "--out", str(first), "--sounds", "300",
                  "--epochs", "2", "--quiet")
    assert res.code == 0, res.err
    res = run_cli("train", "--gestures", gestures, "--from", str(first), "--out", str(second),
                  "--steer", "speed=loudness", "--stillness", "fade", "--pin",
                  "g.jsonl@5-7=carrier_hz:220,index:1", "--blend", "8", "--quiet")
    assert res.code == 0, res.err
    a, b = load_bundle(first), load_bundle(second)
    for part in ("gesture_sae", "sound_sae"):
        for name, array in a.arrays[part].items():
            np.testing.assert_array_equal(b.arrays[part][name], array)
    assert b.config["runtime"]["stillness"] == "fade"
    # descriptors pairing: one sound as it is by default; --blend 8 blends, refit in seconds
    assert a.config["runtime"]["blend_k"] == 1 and a.config["runtime"]["like_tolerance"] == 2.0
    assert b.config["runtime"]["blend_k"] == 8
    assert b.config["configs"]["train"]["steer"] == "speed=loudness"
    assert "autoencoders reused" in b.config["timings"]

    held_out = write_strokes(tmp_path / "h.jsonl", seconds=8, seed=9)
    res = run_cli("evaluate", "--model", str(second), "--gestures", held_out, "--families", "5",
                  "--json")
    assert res.code == 0, res.err
    report = json.loads(res.out)
    spaces = report["descriptor_space"]
    assert set(spaces) == {"held_out_tail", "held_out_families"}
    for figures in spaces.values():
        assert {"model", "random", "correlations", "n_windows"} <= set(figures)
        assert set(figures["model"]) == {"trustworthiness", "continuity", "spearman", "coverage"}
        assert "loudness_db" in figures["correlations"]["model"]["speed"]
        # a blend of 8 FM sounds, faded: rendered, and heard apart from the sound reported
        heard = figures["as_heard"]
        assert heard["blend_k"] == 8 and heard["model"]["n_frames"] > 22
        assert heard["model"]["to_sound_played"] > 0.0
        assert 0.0 <= heard["model"]["trustworthiness"] <= 1.0
    assert set(report["model_space_families"]) >= {"model", "random", "n_windows"}
    # the training recording is where training saw it: the paper's pairing is measured too
    assert "random bank sounds" in report["paper_pairing"]
    for figures in spaces.values():
        assert set(figures["paper_pairing"]) == set(figures["model"])
    assert report["held_out_families"]["seed"] == 7919
    assert report["held_out_families"]["seconds"] == 5


def test_from_refits_without_torch_sklearn_or_scipy_stats(tmp_path):
    """The performer's command (`train --from models/default --steer ...`) never imports
    torch (1.5 s), sklearn (1.3 s) or scipy.stats (1 s): what keeps it under 2 s. Its
    autoencoders are the base model's, unchanged, and it reports its figures."""
    import os
    import subprocess
    import sys

    from instrument.formats.bundle import load_bundle

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = tmp_path / "steered"
    code = ("import sys\n"
            "from instrument.cli import main\n"
            f"rc = main(['train', '--gestures', 'recordings/demo.jsonl', '--from', "
            f"'models/default', '--steer', 'speed=loudness', '--out', {str(out)!r}, '--quiet'])\n"
            "loaded = [m for m in ('torch', 'sklearn', 'scipy.stats') if m in sys.modules]\n"
            "assert rc == 0 and not loaded, (rc, loaded)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "trustworthiness" in proc.stdout
    base, new = load_bundle(os.path.join(root, "models", "default")), load_bundle(out)
    for part in ("gesture_sae", "sound_sae"):
        for name, array in base.arrays[part].items():
            np.testing.assert_array_equal(new.arrays[part][name], array)
    assert new.config["gesture_sae"] == base.config["gesture_sae"]
    assert not np.array_equal(new.arrays["mapping"]["w1"], base.arrays["mapping"]["w1"])
    assert len(new.config["mapping"]["history"]["losses"]) == 8
