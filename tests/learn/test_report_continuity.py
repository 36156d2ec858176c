"""The report's continuity row and plain parameter text (learn/report_continuity.py)."""

import numpy as np
import pytest
from tiny_model import tiny_parts

from instrument.formats.bundle import Bundle
from instrument.learn.report_continuity import draw_continuity_view, param_text
from instrument.runtime import Runtime


def test_param_text_is_plain_decimals_with_units():
    assert param_text("carrier_hz", 1070.2, "Hz") == "carrier_hz 1070 Hz"
    assert param_text("ratio", 2.254, "") == "ratio 2.25"


def test_continuity_view_draws_both_panels_with_axes_and_legends():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    config, arrays, models = tiny_parts(seed=6)
    runtime = Runtime(Bundle("(test)", config, arrays))
    glide = runtime.glide
    figures = {"octave_jumps": 0.2, "param_jumps": 0.4, "changes_per_s": 40.0,
               "median_run_ms": 16.0, "moving_frames": 500, "param_jump": 0.1}
    continuity = {"played": {**figures, "octave_jumps": 0.01}, "closest_sound": figures}
    fig = plt.figure()
    grid = fig.add_gridspec(1, 2)
    draw_continuity_view(fig, [grid[0, 0], grid[0, 1]], runtime, models["windows"], continuity,
                         100.0)
    stretch, bars = fig.axes
    assert stretch.get_ylabel() == "carrier (Hz)" and "s" in stretch.get_xlabel()
    assert [t.get_text() for t in stretch.get_legend().get_texts()] == [
        "closest sound (no glide)", f"played (glide + blend of {runtime.blend_k})"]
    assert bars.get_ylabel() == "% of moving frames"
    assert "16 changes/s" not in bars.get_legend().get_texts()[0].get_text()
    assert "40 changes/s" in bars.get_legend().get_texts()[0].get_text()
    heights = sorted(round(p.get_height(), 3) for p in bars.patches)
    assert heights == [1.0, 20.0, 40.0, 40.0]
    assert runtime.glide == glide  # the plain replay put the policy back
    plt.close(fig)
    assert np.isfinite(runtime.bank_params).all()
