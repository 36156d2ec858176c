"""training.py: every pairing and mapping mode trains on small data; structure beats random."""

import numpy as np
import pytest
from tiny_model import write_strokes

from instrument.config import FeatureConfig, GestureConfig, SoundConfig, TrainConfig
from instrument.errors import BadInput

SMALL = dict(layer_size=24, sae_epochs=3, mapping_hidden=32, mapping_epochs=15)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from instrument.formats.recording import read_recording
    from instrument.sound.bank import build_sound_bank

    folder = tmp_path_factory.mktemp("train")
    recs = [read_recording(write_strokes(folder / f"g{i}.jsonl", seconds=25, seed=i,
                                         kinds=kinds))
            for i, kinds in enumerate([(0, 1, 2, 3), (0,), (1,)])]
    bank = build_sound_bank(SoundConfig(n_sounds=400, seconds=0.1), FeatureConfig(n_bands=24),
                            workers=1)
    return recs, bank


def _train(data, **kw):
    from instrument.learn.training import train_instrument

    recs, bank = data
    cfg = TrainConfig(**{**SMALL, **kw})
    return train_instrument(recs[:1] if "labels" not in kw.get("pairing", "") else recs, cfg,
                            GestureConfig(), bank.sound_config, bank.feature_config,
                            sound_bank=bank, **kw.pop("extra", {}))


def test_structure_beats_random(data):
    from instrument.learn.training import train_instrument

    recs, bank = data
    results = {}
    for pairing in ("structure", "random"):
        config, arrays, summary = train_instrument(
            recs[:1], TrainConfig(**SMALL, pairing=pairing), GestureConfig(), bank.sound_config,
            bank.feature_config, sound_bank=bank)
        results[pairing] = summary["metrics"]["model"]
        assert summary["metrics"]["held_out"]
        assert config["configs"]["train"]["pairing"] == pairing
        assert set(arrays) == {"gesture_sae", "sound_sae", "mapping", "sound_bank"}
    s, r = results["structure"], results["random"]
    assert s["trustworthiness"] > r["trustworthiness"] + 0.1, results
    assert s["trustworthiness"] > 0.8, results
    assert s["spearman"] > r["spearman"] + 0.2, results


def test_l2_mapping_has_no_network(data):
    from instrument.learn.training import train_instrument

    recs, bank = data
    config, arrays, summary = train_instrument(recs[:1], TrainConfig(**SMALL, mapping="l2"),
                                               GestureConfig(), bank.sound_config,
                                               bank.feature_config, sound_bank=bank)
    assert "mapping" not in arrays and config["runtime"]["mapping"] == "l2"
    assert arrays["sound_bank"]["search"].shape == (400, 2 * 24)
    assert 0 <= summary["metrics"]["model"]["trustworthiness"] <= 1


def test_labels_pairing_plays_the_matched_category(data):
    from instrument.formats.bundle import Bundle
    from instrument.gesture.steps import windows_from_recording
    from instrument.learn.training import LabelSpec, train_instrument
    from instrument.runtime import Runtime

    recs, bank = data
    labels = LabelSpec({"a": ["g0"], "b": ["g1"]},
                       {"low": [("carrier_hz", 50, 300)], "high": [("carrier_hz", 300, 2000)]},
                       {"a": "high", "b": "low"})
    config, arrays, _ = train_instrument(recs[1:], TrainConfig(**SMALL, pairing="labels"),
                                         GestureConfig(), bank.sound_config, bank.feature_config,
                                         sound_bank=bank, labels=labels,
                                         label_of_recording=["a", "b"])
    assert config["gesture_sae"]["n_classes"] == 2 and config["sound_sae"]["n_classes"] == 2
    rt = Runtime(Bundle("(test)", config, arrays))
    carrier = rt.bank_params[:, 0]
    shares = []
    for rec in recs[1:]:  # circles, then straight lines
        played = rt.nearest_batch(windows_from_recording(rec, GestureConfig()))
        shares.append(float(np.mean(carrier[played] >= 300)))
    # circles (category a) mostly play high sounds, lines (b) mostly low ones
    assert shares[0] > 0.7 and shares[1] < 0.3, shares
    # the per-frame path restricts the search the same way
    rt.hysteresis, rt.still_hold, rt.glide, rt._spacing = 0.0, False, 1.0, None  # plain rule
    windows = windows_from_recording(recs[1], GestureConfig())[:200]
    np.testing.assert_array_equal(rt.play(windows)[0], rt.nearest_batch(windows))


def test_label_spec_errors():
    from instrument.learn.training import LabelSpec

    with pytest.raises(BadInput, match="needs"):
        LabelSpec().check()
    with pytest.raises(BadInput, match="no sound category"):
        LabelSpec({"a": ["f"]}, {"low": [("carrier_hz", 0, 1)]}, {"a": "loud"}).check()
    spec = LabelSpec({"a": ["f"]}, {"x": [("volume", 0, 1)]}, {"a": "x"})
    with pytest.raises(BadInput, match="unknown parameter"):
        spec.sound_labels(np.zeros((3, 4)), ("carrier_hz", "ratio", "index", "amplitude"))


def test_too_little_gesture_data(tmp_path, data):
    from instrument.formats.recording import read_recording
    from instrument.learn.training import train_instrument

    rec = read_recording(write_strokes(tmp_path / "short.jsonl", seconds=0.5, seed=3))
    with pytest.raises(BadInput, match="training windows"):
        train_instrument([rec], TrainConfig(**SMALL), GestureConfig(), data[1].sound_config,
                         data[1].feature_config, sound_bank=data[1])
