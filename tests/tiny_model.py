"""A tiny trained model bundle for bundle/runtime/render tests (real SAEs, fake sound bank)."""

from __future__ import annotations

import numpy as np

from instrument.config import GestureConfig, SAEConfig, TrainConfig


def tiny_parts(seed: int = 0, mapping: str = "mlp", n_sounds: int = 120):
    """(config, arrays) of a small but genuinely trained instrument."""
    import torch

    from instrument import mapping as mp
    from instrument.params import PARAM_TABLE
    from instrument.sae import StackedAutoencoder
    from instrument.training import assemble, search_space

    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    gcfg = GestureConfig(window_steps=8)
    windows = rng.normal(size=(300, 24)).astype(np.float32)
    windows[:, -3:] *= rng.uniform(size=(300, 1)) > 0.2  # some still newest steps
    params_unit = rng.uniform(size=(n_sounds, 4)).astype(np.float32)
    spectral = np.tanh(params_unit @ rng.normal(size=(4, 16))).astype(np.float32)
    size = 6
    tcfg = TrainConfig(layers=2, layer_size=size, mapping=mapping, seed=seed, mapping_hidden=10,
                       search_max_dims=5)
    sae_cfg = SAEConfig(hidden=(size, size), epochs=2, seed=seed)
    g = StackedAutoencoder(24, sae_cfg)
    g.fit(windows)
    s = StackedAutoencoder(16, sae_cfg)
    s.fit(spectral)
    gf, sf = g.encode(windows), s.encode(spectral)
    search = search_space(sf, tcfg)
    net = None
    if mapping == "mlp":
        net = mp.MappingMLP(gf.shape[1], sf.shape[1], hidden=10, seed=seed)
        net.fit(gf, sf[mp.pair_structure(gf, sf, seed=seed)], epochs=3)
    config, arrays = assemble({"train": tcfg, "gesture": gcfg, "sae": sae_cfg}, tcfg, g, s, net,
                              params_unit, spectral, search, PARAM_TABLE, gcfg,
                              extra={"seed": seed, "metrics": {}, "training_seconds": 1.0})
    return config, arrays, {"gesture_sae": g, "sound_sae": s, "mapping": net, "windows": windows}
