"""--stillness fade: the level follows the motion (a bowed string); hold keeps it."""

import numpy as np
import pytest
from tiny_model import tiny_parts

from instrument.formats.bundle import Bundle
from instrument.runtime import Runtime
from instrument.stillness import ATTACK, FULL_SPEED, RECENT_STEPS, RELEASE, MotionFade

STEPS, PER = 8, 3      # tiny_parts' windows: 8 steps of (sin, cos, rho) at 100 Hz


def moving(rho):
    w = np.zeros(STEPS * PER, np.float32)
    w[1::3], w[2::3] = 1.0, rho        # rightwards, rho diagonals per step
    return w


def runtime(stillness):
    config, arrays, _ = tiny_parts()
    config["runtime"]["stillness"] = stillness
    return Runtime(Bundle("(test)", config, arrays))


def test_the_envelope_rises_fast_and_dies_away():
    fade = MotionFade(STEPS, PER, 100.0, amplitude_column=3)
    params = np.array([440, 2, 3, 0.8], np.float32)
    full = moving(2 * FULL_SPEED / 100)        # twice the full-level speed: target 1
    out = fade.apply(full, params)
    assert out[3] == pytest.approx(0.8 * ATTACK)
    for _ in range(20):
        out = fade.apply(full, params)
    assert out[3] == pytest.approx(0.8, rel=1e-4)
    out = fade.apply(np.zeros_like(full), params)      # still: the level falls by RELEASE
    assert out[3] == pytest.approx(0.8 * (1 - RELEASE), rel=1e-4)
    assert params[3] == pytest.approx(0.8)             # the caller's array is untouched
    half = moving(0.5 * FULL_SPEED / 100)
    assert fade.target(half) == pytest.approx(0.5, rel=1e-5)
    assert RECENT_STEPS <= STEPS


def test_fade_runtime_falls_silent_when_still_and_hold_does_not():
    still = np.zeros(STEPS * PER, np.float32)
    levels = {}
    for mode in ("hold", "fade"):
        rt = runtime(mode)
        for _ in range(30):
            rt.frame(moving(0.01))
        sound, params = rt.frame(moving(0.01))
        loud = float(params[3])
        for _ in range(100):                             # one second still
            held, params = rt.frame(still)
        assert held == sound                             # the sound is held either way
        levels[mode] = (loud, float(params[3]))
    assert levels["hold"][1] == pytest.approx(levels["hold"][0])
    assert levels["fade"][1] < 0.01 * levels["fade"][0]


def test_a_bad_stillness_in_a_model_is_one_line():
    from instrument.errors import ModelFileError

    with pytest.raises(ModelFileError, match="stillness"):
        runtime("sometimes")
