"""What a performer reads: the live window's numbers and the exit summary, in words."""

import numpy as np
import pytest
from tiny_model import tiny_parts

from instrument.config import GestureConfig, config_from_dict
from instrument.formats.bundle import Bundle
from instrument.gesture.tracker import GestureTracker
from instrument.live.loop import ControlLoop
from instrument.live.summary import latency_table, summary
from instrument.runtime import Runtime
from instrument.sound.params import format_value


@pytest.fixture(scope="module")
def parts():
    return tiny_parts(seed=5)


def _loop(parts):
    config, arrays, _ = parts
    runtime = Runtime(Bundle("(test)", config, arrays))
    cfg = config_from_dict(GestureConfig, config["configs"]["gesture"])
    loop = ControlLoop(runtime, GestureTracker(cfg, 800, 600))
    for i in range(30):
        loop.sample(i * 0.01, 100 + 7 * i, 300 + 3 * i, arrival=None)
    return runtime, loop


def test_values_read_in_plain_decimals_with_units():
    assert format_value(1070.4, "Hz") == "1070 Hz" and format_value(82.44, "Hz") == "82.4 Hz"
    assert format_value(2.254) == "2.25" and "e+" not in format_value(12345.0, "Hz")


def test_the_live_window_shows_amplitude_0_when_muted_and_says_what_was_skipped(parts):
    from instrument.live.view import LiveView

    runtime, loop = _loop(parts)
    view = LiveView(runtime, allow_dummy=True)
    try:
        playing = view.lines(loop)
        assert "late still frames skipped 0" in playing[3]
        assert "amplitude" in playing[1] and "(muted)" not in playing[1]
        assert "e+0" not in playing[1] and " Hz" in playing[1]
        loop.set_muted(True)
        muted = view.lines(loop)
        assert muted[0].startswith("MUTED") and "amplitude 0 (muted)" in muted[1]
        assert loop.params[loop.table.names.index("amplitude")] >= 0  # the sound is kept
    finally:
        view.close()


def test_the_exit_summary_explains_its_latency_lines(parts):
    _, loop = _loop(parts)
    loop.latency.add(0.0004)
    loop.latency.add(0.0006)
    text = summary(loop, seconds=1.0)
    assert "still frames skipped because they were late" in text
    assert "from a pointer sample arriving to its control frame sent to every output" in text
    assert "half the frames within" in text and "99 in 100 within" in text
    table = latency_table(loop).splitlines()
    assert table[0].startswith("milliseconds; p50: half the frames")
    assert table[2].startswith("input -> control frame sent")  # benchmarks/latency.py parses it
    assert np.isfinite(loop.params).all()
