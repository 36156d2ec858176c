"""Exact pins (instrument/pin_snap.py): a replay of a pinned stretch plays the pinned sound,
other strokes do not snap, stored pins are checked when a model loads."""

import numpy as np
import pytest

from instrument.config import FeatureConfig, GestureConfig, SoundConfig, TrainConfig
from instrument.errors import ModelFileError

SMALL = dict(layer_size=48, sae_epochs=6, mapping_hidden=64, mapping_epochs=30, holdout=0.2)
PIN = (0, 20.0, 23.0, 123)


def test_match_and_match_batch_agree(rng):
    from instrument.pin_snap import PinSnap

    feats = rng.random((30, 8)).astype(np.float32)
    arrays = {"mapping": {"pin.features": feats, "pin.sound": np.full(30, 7, np.int64),
                          "pin.radius": np.full(30, 0.05, np.float32)}}
    pins = PinSnap.from_bundle(arrays, 8, 10, "(test)")
    probes = np.concatenate([feats + 0.01, rng.random((30, 8)).astype(np.float32) + 2.0])
    batch = pins.match_batch(probes)
    assert [pins.match(p) for p in probes] == list(batch)
    assert (batch[:30] == 7).all() and (batch[30:] == -1).all()
    assert PinSnap.from_bundle({"mapping": {}}, 8, 10, "(test)") is None


@pytest.mark.parametrize("change", ["sound", "shape", "radius"])
def test_bad_pin_arrays_are_refused_in_one_line(rng, change):
    from instrument.pin_snap import PinSnap

    m = {"pin.features": rng.random((5, 8)).astype(np.float32),
         "pin.sound": np.zeros(5, np.int64), "pin.radius": np.ones(5, np.float32)}
    if change == "sound":
        m["pin.sound"] = np.full(5, 10, np.int64)       # outside a 10-sound bank
    elif change == "shape":
        m["pin.features"] = m["pin.features"][:, :7]
    else:
        m["pin.radius"] = np.full(5, np.nan, np.float32)
    with pytest.raises(ModelFileError, match="pin arrays"):
        PinSnap.from_bundle({"mapping": m}, 8, 10, "(test)")


@pytest.fixture(scope="module")
def pinned():
    from instrument.formats.bundle import Bundle
    from instrument.gesture.synthetic import synthesize
    from instrument.learn.training import train_instrument
    from instrument.runtime import Runtime
    from instrument.sound.bank import build_sound_bank

    rec = synthesize(90, seed=3)
    bank = build_sound_bank(SoundConfig(n_sounds=600, seconds=0.1), FeatureConfig(n_bands=24),
                            workers=1)
    config, arrays, _ = train_instrument([rec], TrainConfig(**SMALL), GestureConfig(),
                                         bank.sound_config, bank.feature_config,
                                         sound_bank=bank, pins=[PIN])
    return rec, Runtime(Bundle("(test)", config, arrays)), arrays


@pytest.mark.slow
def test_a_replayed_pinned_stretch_plays_its_sound_and_nothing_else_snaps(pinned):
    from instrument.gesture import steps

    rec, rt, arrays = pinned
    assert rt.pins is not None  # the model kept its pin
    times, frames = steps.frames_from_recording(rec, GestureConfig())
    _, t0, t1, sound = PIN
    inside = (times >= t0) & (times <= t1)
    moving = np.array([not rt.is_still(w) for w in frames], bool)
    sounds, params = rt.play(frames[inside])
    assert moving[inside].sum() > 100
    assert (sounds[moving[inside]] == sound).all()                 # every moving frame: 100%
    np.testing.assert_allclose(params[moving[inside]] - rt.bank_params[sound], 0, atol=1e-6)
    assert (rt.nearest_batch(frames[inside & moving]) == sound).all()
    # other strokes: a window that shares no step with the stretch never snaps
    span = GestureConfig().window_steps / GestureConfig().rate_hz
    away = moving & ((times < t0 - span) | (times > t1 + span))
    assert (rt.pins.match_batch(rt.features_batch(frames[away])) < 0).mean() > 0.99


def test_the_radius_keeps_other_training_windows_out(pinned):
    from instrument.pin_snap import PinSnap

    _, rt, arrays = pinned
    pins = PinSnap.from_bundle(arrays, rt.feature_dim, rt.n_sounds, "(test)")
    assert (pins.sound == PIN[3]).all() and len(pins.sound) > 100
    assert (pins.match_batch(pins.features) == PIN[3]).all()   # the stretch itself snaps
