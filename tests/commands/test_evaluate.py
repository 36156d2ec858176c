"""instrument evaluate: which part of which recording it scores."""

import json

import pytest


@pytest.mark.slow
def test_holdout_without_gestures_scores_that_share_of_the_training_recording(run_cli):
    res = run_cli("evaluate", "--model", "models/default", "--holdout", "0.05", "--families", "0",
                  "--json")
    assert res.code == 0, res.err
    report = json.loads(res.out)
    assert report["holdout"] == 0.05 and "the last 5%" in report["scored"]
    # 5% of the demo's 420 s at 100 windows a second: about 2100 windows, not the 20% (8394)
    assert 1900 < report["descriptor_space"]["held_out_tail"]["n_windows"] < 2300
