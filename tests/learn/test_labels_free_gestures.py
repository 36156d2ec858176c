"""--pairing labels with a free recording: unlabelled gestures keep the whole bank in reach."""

import numpy as np
from tiny_model import write_strokes

from instrument.config import FeatureConfig, GestureConfig, SoundConfig, TrainConfig

SMALL = dict(layer_size=24, sae_epochs=3, mapping_hidden=32, mapping_epochs=15)


def test_free_gestures_reach_sounds_outside_the_labelled_categories(tmp_path):
    from instrument.formats.bundle import Bundle
    from instrument.formats.recording import read_recording
    from instrument.gesture.steps import windows_from_recording
    from instrument.learn.training import LabelSpec, train_instrument
    from instrument.runtime import Runtime
    from instrument.sound.bank import build_sound_bank

    recs = [read_recording(write_strokes(tmp_path / f"g{i}.jsonl", seconds=25, seed=i,
                                         kinds=kinds))
            for i, kinds in enumerate([(0, 1, 2, 3), (0,), (1,)])]
    bank = build_sound_bank(SoundConfig(n_sounds=400, seconds=0.1), FeatureConfig(n_bands=24),
                            workers=1)
    # two narrow sound categories: most of the bank (150..1000 Hz) is in neither
    labels = LabelSpec({"a": ["g1"], "b": ["g2"]},
                       {"low": [("carrier_hz", 50, 150)], "high": [("carrier_hz", 1000, 2000)]},
                       {"a": "high", "b": "low"})
    config, arrays, _ = train_instrument(recs, TrainConfig(**SMALL, pairing="labels"),
                                         GestureConfig(), bank.sound_config, bank.feature_config,
                                         sound_bank=bank, labels=labels,
                                         label_of_recording=[None, "a", "b"])
    assert config["labels"]["free_gestures"] is True
    assert config["runtime"]["match"][-1] == -1 and len(config["runtime"]["match"]) == 3
    rt = Runtime(Bundle("(test)", config, arrays))
    carrier = rt.bank_params[:, 0]

    def outside(rec):
        played = rt.nearest_batch(windows_from_recording(rec, GestureConfig()))
        return float(np.mean((carrier[played] > 150) & (carrier[played] < 1000)))

    # free strokes reach the unlabelled middle of the bank (before: 0%) ...
    assert outside(recs[0]) > 0.2
    # ... while the labelled strokes still mostly stay inside their matched category
    assert outside(recs[1]) < 0.5 and outside(recs[2]) < 0.5
