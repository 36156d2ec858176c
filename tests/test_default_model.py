"""The shipped models/default: loads without torch, is small, and meets the issue's targets."""

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT

MODEL = os.path.join(ROOT, "models", "default")


def test_shipped_model_meets_targets_and_is_small():
    config = json.load(open(os.path.join(MODEL, "config.json")))
    assert config["configs"]["train"]["pairing"] == "descriptors"
    assert config["configs"]["sound"]["n_sounds"] == 5000
    m, r = config["metrics"]["model"], config["metrics"]["random"]
    # The model's own space (gesture SAE features vs the descriptor search space), held-out
    # tail: the issue asks it to stay >= 0.9. With the gesture features fine-tuned to keep the
    # descriptors' distances (learn/gesture_keeping.py) the shipped model has 0.914 / 0.935
    # (0.79 / 0.86 before the fine-tuning, 0.89 / 0.93 with its first settings).
    assert m["trustworthiness"] >= 0.9 and m["continuity"] >= 0.9
    assert r["trustworthiness"] < 0.6
    assert m["coverage"] >= 0.6 and m["stability"] >= 0.99
    size = sum(os.path.getsize(os.path.join(MODEL, f)) for f in os.listdir(MODEL))
    assert size < 5e6


def test_shipped_model_plays_without_torch():
    code = ("import sys, numpy as np\n"
            "from instrument.runtime import Runtime\n"
            f"rt = Runtime.from_bundle({MODEL!r})\n"
            "sound, params = rt.frame(np.full(rt.window_dim, 0.1, np.float32))\n"
            "assert 0 <= sound < 5000 and params.shape == (4,)\n"
            "assert 'torch' not in sys.modules\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_evaluate_reproduces_the_stored_metrics(run_cli):
    res = run_cli("evaluate", "--model", "models/default", "--json")
    assert res.code == 0, res.err
    report = json.loads(res.out)
    figures = report["model_figures"]
    stored = json.load(open(os.path.join(MODEL, "config.json")))["metrics"]["model"]
    # Not an exact comparison: which sound is nearest can flip for a few windows between CPUs
    # (float summation order in the matrix products differs), and a few flipped windows move
    # the neighbourhood figures by up to ~0.005 (0.9237 vs 0.9214 seen on two machines). The
    # bound is four times that; the targets themselves must hold on every machine.
    for key, value in figures.items():
        assert value == pytest.approx(stored[key], abs=0.02), key
    assert figures["coverage"] >= 0.6 and figures["stability"] >= 0.99
    # The issue's targets, measured independently: gesture descriptors vs the played sounds'
    # descriptors on stroke families no training generator makes (0.89 / 0.91 / 0.60 / 0.78
    # on the machine that trained it; the margins allow for a few flipped nearest sounds).
    families = report["descriptor_space"]["held_out_families"]
    model, paper = families["model"], families["paper_pairing"]
    assert model["trustworthiness"] >= 0.85 and model["continuity"] >= 0.85
    assert model["spearman"] >= 0.5 and model["coverage"] >= 0.6
    # and well above the paper's pairing (random pairs + the network) in the same run
    assert model["trustworthiness"] > paper["trustworthiness"] + 0.2
    assert model["continuity"] > paper["continuity"] + 0.2
    tail = report["descriptor_space"]["held_out_tail"]["model"]
    assert tail["trustworthiness"] >= 0.85 and tail["continuity"] >= 0.85
    # What is heard as played (learn/heard.py: the frames through the frame path, in time
    # order): one bank sound as it is, so its stored descriptors (0.88 / 0.90 on the
    # families, 0.90 / 0.93 on the tail here); a blend of 48 (the policy before) was heard
    # at 0.80 / 0.79 and 0.78 / 0.81 by the model trained before.
    for where in ("held_out_families", "held_out_tail"):
        heard = report["descriptor_space"][where]["as_heard"]
        assert heard["blend_k"] == 1 and heard["model"]["to_sound_played"] == 0.0
        assert heard["model"]["trustworthiness"] >= 0.85
        assert heard["model"]["continuity"] >= 0.85
        assert heard["model"]["trustworthiness"] > heard["paper_pairing"]["trustworthiness"] + 0.2
    # and the sound does not leap (issue: at most 2% of moving frames an octave of carrier)
    assert report["continuity_in_time"]["played"]["octave_jumps"] <= 0.02
