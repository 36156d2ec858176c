"""Regenerate the FM/feature golden arrays in tests/golden/ (fm_*.npy, features_*.npy).

Run ONLY when the FM definition or the feature settings change on purpose, and say why in the
commit:  .venv/bin/python tests/golden/make_golden.py
The tests compare today's output with these files, so an accidental change shows up.
"""

from __future__ import annotations

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from instrument.config import FeatureConfig  # noqa: E402
from instrument.live.render import render_controls  # noqa: E402
from instrument.sound.features import spectral_features  # noqa: E402
from instrument.sound.fm import render_fm, render_many  # noqa: E402

RATE = 44100
N = 2048

# Inputs, shared with tests/test_fm.py and tests/test_features.py.
STATIC = (440.0, 2.0, 3.0, 0.5)
RAMP_N = np.arange(N) / N
RAMP = (300.0 * 2.0 ** RAMP_N, 1.0 + RAMP_N, 5.0 * RAMP_N, 0.2 + 0.6 * RAMP_N)
MANY = np.array([[50.0, 0.25, 0.0, 1.0], [440.0, 2.0, 3.0, 0.5], [2000.0, 8.0, 10.0, 0.1],
                 [123.4, 1.5, 7.5, 0.9]])
CONTROL_TIMES = np.array([0.0, 0.01, 0.02, 0.035])
CONTROL_PARAMS = np.array([[440.0, 2.0, 3.0, 0.5], [880.0, 1.0, 1.0, 0.8],
                           [220.0, 3.0, 5.0, 0.2], [300.0, 0.5, 0.0, 0.6]])


def arrays() -> dict[str, np.ndarray]:
    """Every golden array by file name, computed by today's code."""
    return {
        "fm_static.npy": render_fm(*STATIC, N, RATE),
        "fm_ramp.npy": render_fm(*RAMP, N, RATE),
        "fm_many.npy": render_many(MANY, N, RATE, workers=1),
        "fm_controls.npy": render_controls(CONTROL_TIMES, CONTROL_PARAMS, 0.05, RATE, 0.005),
        "features_bands.npy": spectral_features(render_many(MANY, 22050, 22050, workers=1),
                                                22050, FeatureConfig()),
    }


if __name__ == "__main__":
    for name, value in arrays().items():
        np.save(os.path.join(HERE, name), value)
        print(f"wrote tests/golden/{name} {value.dtype} {value.shape}")
