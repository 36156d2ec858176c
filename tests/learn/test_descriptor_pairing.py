"""The descriptors pairing on a small fast model: beats random and the paper's pairing on
held-out stroke families, steering raises the steered correlation, pins play their sound,
``--from`` refits without touching the autoencoders, and the evaluation is reproducible."""

import numpy as np
import pytest

from instrument.config import FeatureConfig, GestureConfig, SoundConfig, TrainConfig

SMALL = dict(layer_size=48, sae_epochs=8, mapping_hidden=64, mapping_epochs=40, holdout=0.2)


@pytest.fixture(scope="module")
def data():
    from instrument.gesture.synthetic import synthesize
    from instrument.sound.bank import build_sound_bank

    rec = synthesize(90, seed=3)
    bank = build_sound_bank(SoundConfig(n_sounds=600, seconds=0.1), FeatureConfig(n_bands=24),
                            workers=1)
    return rec, bank


def _train(data, base=None, pins=None, **kw):
    from instrument.formats.bundle import Bundle
    from instrument.learn.training import train_instrument
    from instrument.runtime import Runtime

    rec, bank = data
    config, arrays, _ = train_instrument([rec], TrainConfig(**{**SMALL, **kw}), GestureConfig(),
                                         bank.sound_config, bank.feature_config, sound_bank=bank,
                                         pins=pins, base=base)
    bundle = Bundle("(test)", config, arrays)
    return bundle, Runtime(bundle)


@pytest.fixture(scope="module")
def models(data):
    return {"descriptors": _train(data), "random": _train(data, pairing="random")}


@pytest.fixture(scope="module")
def families():
    from instrument.learn.independent import family_windows

    return family_windows(GestureConfig(), seconds=40)


@pytest.fixture(scope="module")
def measured(models, families):
    """The descriptor-space figures of the model and the paper's pairing on the families
    (seed 0), measured once: the unsteered "before" of the steering test is the same."""
    from instrument.learn.independent import bank_descriptors, measure_descriptors

    bundle, rt = models["descriptors"]
    _, paper = models["random"]       # the paper's: random pairs, then the mapping network
    return measure_descriptors({"model": rt, "paper_pairing": paper}, families,
                               GestureConfig(), bank_descriptors(bundle, rt), seed=0)


@pytest.mark.slow
def test_descriptor_pairing_beats_random_and_the_papers_pairing(measured):
    result = measured
    model, chance, papers = result["model"], result["random"], result["paper_pairing"]
    # chance is 0.5 for both; on this small model the pairing reaches ~0.8, the paper's ~0.55
    for key in ("trustworthiness", "continuity"):
        assert model[key] > papers[key] + 0.1, (key, model, papers)
        assert model[key] > chance[key] + 0.15, (key, model, chance)
    assert model["spearman"] > papers["spearman"] + 0.2
    assert set(result["correlations"]["model"]["speed"]) >= {"loudness_db", "pitch_hz"}


@pytest.mark.slow
def test_steering_raises_the_steered_correlation(data, models, families, measured):
    from instrument.learn.independent import bank_descriptors, measure_descriptors

    bundle, plain = models["descriptors"]
    _, steered = _train(data, steer="speed=loudness,height=-pitch")
    desc = bank_descriptors(bundle, plain)
    before = measured              # the unsteered model, seed 0
    after = measure_descriptors({"model": steered}, families, GestureConfig(), desc)
    rho_before = before["correlations"]["model"]
    rho_after = after["correlations"]["model"]
    # Unsteered, speed and loudness are unrelated (|rho| ~0.1). Steered, this small model
    # (48-unit autoencoders, 90 s of strokes) carries speed to loudness on the unseen stroke
    # families at ~0.45 (0.77 on its own windows; the default model reaches 0.8 and more, see
    # tests/test_default_model.py); height to -pitch at ~-0.88.
    assert rho_after["speed"]["loudness_db"] > rho_before["speed"]["loudness_db"] + 0.25
    assert rho_after["speed"]["loudness_db"] > 0.35
    assert rho_after["height"]["pitch_hz"] < -0.6 and rho_before["height"]["pitch_hz"] > -0.5
    assert after["model"]["trustworthiness"] > 0.7


@pytest.mark.slow
def test_from_refits_the_mapping_and_keeps_the_autoencoders(data, models):
    base, _ = models["descriptors"]
    refit, rt = _train(data, base=base, steer="curvature=roughness")
    for part in ("gesture_sae", "sound_sae"):
        assert refit.arrays[part].keys() == base.arrays[part].keys()
        for name, array in base.arrays[part].items():
            np.testing.assert_array_equal(refit.arrays[part][name], array, err_msg=name)
    assert not np.array_equal(refit.arrays["mapping"]["w1"], base.arrays["mapping"]["w1"])
    assert "autoencoders reused" in refit.config["timings"]
    assert refit.config["configs"]["train"]["steer"] == "curvature=roughness"


@pytest.mark.slow
def test_a_pinned_stroke_plays_its_sound(data, models):
    from instrument.gesture import steps
    from instrument.learn.refit import window_times

    rec, _ = data
    _, plain = models["descriptors"]
    _, pinned_rt = _train(data, pins=[(0, 20.0, 23.0, 123)])
    windows = steps.windows_from_recording(rec, GestureConfig())
    ends = window_times(rec, GestureConfig(), len(windows))
    stretch = windows[(ends >= 20.0) & (ends <= 23.0)]
    stretch = stretch[np.abs(stretch).sum(axis=1) > 0]

    def distance(rt):   # median distance of where the stroke lands from the pinned sound
        return np.median(np.linalg.norm(rt.targets_batch(stretch) - rt.bank_search[123], axis=1))

    # the bank has unit spread per axis (5 axes: a typical distance ~3); unpinned the stroke
    # lands ~2.5 away, pinned well under half of that
    assert distance(pinned_rt) < 0.5 * distance(plain), (distance(pinned_rt), distance(plain))


def test_evaluation_is_reproducible_with_a_seed(models, families):
    from instrument.learn.independent import bank_descriptors, measure_descriptors

    bundle, rt = models["descriptors"]
    desc = bank_descriptors(bundle, rt)
    a = measure_descriptors({"model": rt}, families, GestureConfig(), desc, seed=4)
    b = measure_descriptors({"model": rt}, families, GestureConfig(), desc, seed=4)
    # same process, same seed: the subsamples are the same; 1e-9 allows for nothing but
    # summation order, which does not change within one process
    for side in ("model", "random"):
        for key, value in a[side].items():
            assert b[side][key] == pytest.approx(value, abs=1e-9)
