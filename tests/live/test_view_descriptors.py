"""The live view's descriptor line: the last window's motion in a performer's words."""

import re

import numpy as np
import pytest
from tiny_model import tiny_parts

from instrument.formats.bundle import Bundle
from instrument.runtime import Runtime


@pytest.fixture
def view():
    from instrument.live.view import LiveView

    config, arrays, _ = tiny_parts()
    config["runtime"]["stillness"] = "fade"
    v = LiveView(Runtime(Bundle("(test)", config, arrays)), allow_dummy=True)
    yield v
    v.close()


def test_a_rightwards_stroke_reads_its_speed_and_direction(view):
    assert view.descriptor_line() == "stillness fade"        # nothing played yet
    width, height = view.size
    diagonal = float(np.hypot(width, height))
    for i in range(40):                                       # 0.1 diagonals per second
        view._recent.append((i / 100, 100 + i * 0.001 * diagonal, 200.0))
    line = view.descriptor_line()
    speed = float(re.search(r"speed ([0-9.]+)", line).group(1))
    assert speed == pytest.approx(0.1, abs=0.01)
    assert "direction 0 deg" in line and line.endswith("stillness fade")
