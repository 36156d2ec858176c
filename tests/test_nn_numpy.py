"""The torch-free numpy forward pass equals the torch encoder (the live path's contract)."""

from __future__ import annotations

import numpy as np
import pytest

from instrument.config import SAEConfig
from instrument.datasets import load_digits_split
from instrument.errors import BadInput
from instrument.nn_numpy import forward_numpy, predict_proba_numpy
from instrument.sae import StackedAutoencoder


@pytest.fixture(scope="module")
def digits():
    return load_digits_split(1)


@pytest.mark.parametrize("activation, sparsity", [("sigmoid", 0.1), ("tanh", 0.1), ("relu", 0.0)])
def test_forward_numpy_matches_encode(digits, activation, sparsity):
    cfg = SAEConfig(hidden=(20, 10, 5), epochs=2, finetune_epochs=2, activation=activation,
                    sparsity_weight=sparsity)
    sae = StackedAutoencoder(64, cfg)
    sae.fit(digits.x_train[:300])
    sae.finetune(digits.x_train[:300], digits.y_train[:300], 10)
    export = sae.export_numpy()
    x = digits.x_test
    for layers in (None, [0], [2], [1, 2], [2, 0]):
        np.testing.assert_allclose(forward_numpy(export, x, layers), sae.encode(x, layers),
                                   atol=1e-5, rtol=0)
    np.testing.assert_allclose(forward_numpy(export, x[3]), sae.encode(x[3:4])[0], atol=1e-5)
    np.testing.assert_allclose(predict_proba_numpy(export, x), sae.predict_proba(x), atol=1e-5)
    assert forward_numpy(export, x).dtype == np.float32


def test_export_layout(digits):
    sae = StackedAutoencoder(64, SAEConfig(hidden=(12, 7), epochs=1))
    sae.fit(digits.x_train[:100])
    export = sae.export_numpy()
    assert export["activation"] == "sigmoid" and export["hidden"] == [12, 7]
    assert [w.shape for w in export["weights"]] == [(64, 12), (12, 7)]  # (in, out)
    assert [b.shape for b in export["biases"]] == [(12,), (7,)]
    assert export["mean"].shape == export["std"].shape == (64,)
    assert export["head_weight"] is None
    assert all(w.flags.c_contiguous and w.dtype == np.float32 for w in export["weights"])
    # Copies: editing the export never changes the model.
    export["weights"][0][:] = 0
    assert not np.allclose(sae.export_numpy()["weights"][0], 0)
    with pytest.raises(BadInput, match="no classifier head"):
        predict_proba_numpy(export, digits.x_test)
    with pytest.raises(BadInput, match="expected"):
        forward_numpy(export, np.ones((2, 63)))
    with pytest.raises(BadInput, match="layer 2"):
        forward_numpy(export, digits.x_test, [2])


def test_sigmoid_is_stable_for_large_inputs():
    export = {"activation": "sigmoid", "mean": np.zeros(1, np.float32),
              "std": np.ones(1, np.float32), "weights": [np.ones((1, 1), np.float32)],
              "biases": [np.zeros(1, np.float32)]}
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        out = forward_numpy(export, np.array([[-1e4], [0.0], [1e4]], np.float32))
    np.testing.assert_allclose(out[:, 0], [0.0, 0.5, 1.0])
