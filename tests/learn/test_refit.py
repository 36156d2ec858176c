"""refit.py: which refits run without torch, and the autoencoders they reuse."""

import dataclasses

import numpy as np
import pytest

from instrument.config import TrainConfig
from instrument.errors import BadInput
from instrument.formats.bundle import Bundle
from instrument.learn import refit
from instrument.learn.refit_numpy import FrozenSAE


@pytest.fixture(scope="module")
def base():
    from tiny_model import tiny_parts

    config, arrays = tiny_parts()[:2]
    return Bundle(path="(tiny)", config=config, arrays=arrays)


def test_only_labels_refits_need_torch(base):
    cfg = TrainConfig()
    assert refit.numpy_only(cfg, base)
    assert not refit.numpy_only(cfg, None)
    assert not refit.numpy_only(dataclasses.replace(cfg, pairing="labels"), base)


def test_reused_autoencoders_are_frozen_numpy_or_trainable_torch(base):
    from instrument.learn.sae import StackedAutoencoder

    g_in = base.config["gesture_sae"]["n_inputs"]
    s_in = base.config["sound_sae"]["n_inputs"]
    windows, spectral = np.zeros((3, g_in), np.float32), np.zeros((3, s_in), np.float32)
    frozen = refit.reuse_autoencoders(base, windows, spectral)
    trainable = refit.reuse_autoencoders(base, windows, spectral, trainable=True)
    assert all(isinstance(m, FrozenSAE) for m in frozen[:2])
    assert all(isinstance(m, StackedAutoencoder) for m in trainable[:2])
    np.testing.assert_allclose(frozen[0].encode(windows + 0.5), trainable[0].encode(windows + 0.5),
                               atol=2e-6)
    with pytest.raises(BadInput, match="windows of"):
        refit.reuse_autoencoders(base, np.zeros((3, g_in + 1), np.float32), spectral)
