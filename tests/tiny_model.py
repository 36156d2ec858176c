"""A tiny trained model bundle for bundle/runtime/render tests (real SAEs, fake sound bank)."""

from __future__ import annotations

import numpy as np

from instrument.config import GestureConfig, SAEConfig, TrainConfig


def tiny_parts(seed: int = 0, mapping: str = "mlp", n_sounds: int = 120):
    """(config, arrays) of a small but genuinely trained instrument."""
    import torch

    from instrument.learn import mapping as mp
    from instrument.learn.sae import StackedAutoencoder
    from instrument.learn.training import assemble, search_space
    from instrument.sound.params import PARAM_TABLE

    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    gcfg = GestureConfig(window_steps=8)
    windows = rng.normal(size=(300, 24)).astype(np.float32)
    windows[:, -3:] *= rng.uniform(size=(300, 1)) > 0.2  # some still newest steps
    params_unit = rng.uniform(size=(n_sounds, 4)).astype(np.float32)
    spectral = np.tanh(params_unit @ rng.normal(size=(4, 16))).astype(np.float32)
    size = 6
    tcfg = TrainConfig(layers=2, layer_size=size, mapping=mapping, seed=seed, mapping_hidden=10,
                       structure_dims=5, pairing="structure")   # it is paired by structure
    sae_cfg = SAEConfig(hidden=(size, size), epochs=2, seed=seed)
    g = StackedAutoencoder(24, sae_cfg)
    g.fit(windows)
    s = StackedAutoencoder(16, sae_cfg)
    s.fit(spectral)
    gf, sf = g.encode(windows), s.encode(spectral)
    search = search_space(sf, tcfg)
    net = None
    if mapping == "mlp":
        targets = search["search"]
        net = mp.MappingMLP(gf.shape[1], targets.shape[1], hidden=10, seed=seed)
        net.fit(gf, targets[mp.pair_structure(gf, sf, dims=5)], epochs=3)
    config, arrays = assemble({"train": tcfg, "gesture": gcfg, "sae": sae_cfg}, tcfg, g, s, net,
                              params_unit, spectral, search, PARAM_TABLE, gcfg,
                              extra={"seed": seed, "metrics": {}, "training_seconds": 1.0})
    return config, arrays, {"gesture_sae": g, "sound_sae": s, "mapping": net, "windows": windows}


def write_strokes(path, seconds: float = 30.0, seed: int = 0, width: int = 800,
                  height: int = 600, rate: float = 120.0, kinds=(0, 1, 2, 3)) -> str:
    """A recording of varied strokes with pauses, for tests.

    ``kinds``: which strokes to draw: 0 circles/arcs, 1 straight lines, 2 zig-zags, 3 pauses.
    """
    from instrument.formats.recording import RecordingWriter

    rng = np.random.default_rng(seed)
    t, x, y = 0.0, width / 2, height / 2
    with RecordingWriter(path, width, height, source="test") as writer:
        writer.add(t, x, y)
        while t < seconds:
            kind = int(rng.choice(kinds))
            duration = rng.uniform(0.4, 1.5)
            if kind == 3:  # pause: no events at all, like a real mouse
                t += duration
                writer.add(t, x, y)
                continue
            speed = rng.uniform(100, 900)
            heading = rng.uniform(-np.pi, np.pi)
            turn = rng.uniform(2, 10) * rng.choice([-1, 1])
            for _ in range(int(duration * rate)):
                t += 1.0 / rate * rng.uniform(0.9, 1.1)
                if kind == 0:
                    heading += turn / rate
                elif kind == 2 and rng.uniform() < 6 / rate:
                    heading += np.pi * 0.8 * rng.choice([-1, 1])
                x = float(np.clip(x + speed / rate * np.cos(heading), 0, width))
                y = float(np.clip(y - speed / rate * np.sin(heading), 0, height))
                writer.add(t, x, y)
    return str(path)
