"""refit_numpy.py: train --from's torch-free pieces give what the torch ones give."""

import numpy as np
import pytest

from instrument.errors import BadInput, ModelFileError
from instrument.learn.refit_numpy import FrozenSAE, NumpyMapping


@pytest.fixture(scope="module")
def sae_state():
    from instrument.config import SAEConfig
    from instrument.learn.sae import StackedAutoencoder

    x = np.random.default_rng(0).normal(size=(300, 12)).astype(np.float32)
    model = StackedAutoencoder(12, SAEConfig(hidden=(10, 6), epochs=2, seed=0))
    model.fit(x, quiet=True)
    return model, x


@pytest.mark.parametrize("layers", [None, [1], [1, 0]])
def test_frozen_sae_encodes_as_the_torch_model(sae_state, layers):
    model, x = sae_state
    meta, arrays = model.to_state()
    frozen = FrozenSAE.from_state(meta, arrays)
    np.testing.assert_allclose(frozen.encode(x, layers), model.encode(x, layers), atol=2e-6)
    assert frozen.to_state()[1].keys() == arrays.keys()
    assert frozen.history == model.history and frozen.n_inputs == 12
    with pytest.raises(BadInput):
        frozen.encode(x[:, :5])


def test_frozen_sae_refuses_a_malformed_state(sae_state):
    meta, arrays = sae_state[0].to_state()
    broken = dict(arrays)
    broken["layer0.encoder.weight"] = broken["layer0.encoder.weight"][:, :3]
    with pytest.raises(ModelFileError, match="layer0.encoder.weight"):
        FrozenSAE(meta, broken)
    with pytest.raises(ModelFileError, match="n_inputs"):
        FrozenSAE(dict(meta, n_inputs=0), arrays)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_numpy_refit_follows_torch_adam_step_for_step(activation):
    """Given torch's shuffle order, the numpy refit lands on MappingMLP.fit's weights."""
    import torch

    from instrument.learn.mapping import MappingMLP

    rng = np.random.default_rng(1)
    x = rng.normal(size=(700, 20)).astype(np.float32)
    y = (np.tanh(2 * x[:, :3]) + 0.1).astype(np.float32)
    base = MappingMLP(20, 3, 16, activation, seed=0)
    base.fit(x, y, epochs=2, seed=0)
    meta, arrays = base.to_state()
    ref = MappingMLP.from_state(meta, arrays)
    ref.fit(1.1 * x, y[:, ::-1].copy(), epochs=3, seed=5)

    class TorchOrder(NumpyMapping):
        gen = torch.Generator().manual_seed(5)

        def _order(self, rng, n):
            return torch.randperm(n, generator=self.gen).numpy()

    net = TorchOrder(meta, arrays)
    net.fit(1.1 * x, y[:, ::-1].copy(), epochs=3, seed=5)
    want, got = ref.to_state(), net.to_state()
    assert got[0].keys() == want[0].keys()
    for name, array in want[1].items():
        np.testing.assert_allclose(got[1][name], array, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(got[0]["history"]["losses"], want[0]["history"]["losses"],
                               rtol=1e-5)
    np.testing.assert_allclose(net.predict(x[:50]), ref.predict(x[:50]), atol=1e-4)


def test_numpy_refit_checks_shapes():
    from instrument.learn.mapping import MappingMLP

    meta, arrays = MappingMLP(4, 2, 8).to_state()
    net = NumpyMapping(meta, arrays)
    with pytest.raises(BadInput, match="pairs"):
        net.fit(np.zeros((10, 3)), np.zeros((10, 2)), epochs=1)
    with pytest.raises(BadInput, match="w0"):
        NumpyMapping(meta, dict(arrays, w0=arrays["w0"][:2]))
