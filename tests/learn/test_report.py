"""report.py: the PNG is drawn from a real (small) training run, and strokes are redrawn right."""

import numpy as np
from tiny_model import write_strokes

from instrument.config import FeatureConfig, GestureConfig, SoundConfig, TrainConfig


def test_stroke_from_window_redraws_the_path():
    from instrument.learn.report import stroke_from_window

    # two steps right, one step up (sin, cos, rho per step), oldest first
    window = np.array([0, 1, 0.1, 0, 1, 0.1, 1, 0, 0.05], np.float32)
    path = stroke_from_window(window, 3)
    np.testing.assert_allclose(path, [[0, 0], [0.1, 0], [0.2, 0], [0.2, 0.05]], atol=1e-7)


def test_report_png(tmp_path):
    from instrument.formats.bundle import save_bundle
    from instrument.formats.recording import read_recording
    from instrument.learn.report import write_report
    from instrument.learn.training import train_instrument
    from instrument.sound.bank import build_sound_bank

    rec = read_recording(write_strokes(tmp_path / "g.jsonl", seconds=20, seed=4))
    bank = build_sound_bank(SoundConfig(n_sounds=200, seconds=0.1), FeatureConfig(n_bands=16),
                            workers=1)
    config, arrays, summary = train_instrument(
        [rec], TrainConfig(layer_size=12, sae_epochs=2, mapping_hidden=16, mapping_epochs=5),
        GestureConfig(), bank.sound_config, bank.feature_config, sound_bank=bank)
    save_bundle(tmp_path / "m", config, arrays)
    png = write_report(tmp_path / "r.png", tmp_path / "m", summary)
    data = open(png, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000
