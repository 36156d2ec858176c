"""Gesture features that keep what the descriptors say (the descriptors pairing's fine-tuning).

With the descriptors pairing the mapping network learns *gesture SAE features -> where the
window's descriptors were carried in the sound search space*. The pretrained autoencoder's
200 features describe a window in detail (every step's direction and length), so windows
that differ in detail but share speed, turning, direction and extent lie far apart in
feature space while they play neighbouring sounds: the map is many-to-one seen from the
features, and the model's own-space trustworthiness (features vs played sounds) was 0.79.

This fine-tuning makes the features carry what the descriptors carry. After the greedy
pretraining, every encoder layer is trained for ``KEEP_EPOCHS`` epochs on

    stress(features, descriptors) + RECON_WEIGHT * reconstruction error of the whole stack

- ``stress``: per minibatch, the pairwise distances ``D_F`` of the windows' features (all
  layers concatenated, the matching features) against the distances ``D_G`` of the same
  windows in the descriptors' gesture space (gesture/descriptors.py ``gesture_space``,
  every axis standardised), weighted ``1 / (D_G + NEAR)`` so near pairs count more
  (Sammon-like), at the best scale ``s`` (so only the shape is kept, not the units)::

      sum w (D_F - s D_G)^2 / sum w (s D_G)^2

- the reconstruction term (the clean window through every encoder and back through every
  decoder, per input value) keeps the features an autoencoder's: without it the features
  fit the training windows' descriptors only and fall apart on strokes never seen (own-space
  trustworthiness on the held-out stroke families fell to 0.76-0.81 without it).

The settings were measured on the demo recording (own space / descriptor space
trustworthiness, held-out tail and stroke families): near pairs weighted with NEAR 0.25 for
40 epochs at RECON_WEIGHT 0.5 give 0.914 / 0.865 in the own space and 0.912 / 0.893 in the
descriptor space; NEAR 2 for 20 epochs at weight 1 gave 0.893 / 0.818 and 0.923 / 0.919;
NEAR 0.5 for 60 epochs 0.912 / 0.873 and 0.907 / 0.885; a reconstruction weight of 0.25
loses both (0.83-0.87 / 0.79-0.80 in the own space).

Seeded (the generator from ``SAEConfig.seed + 2``) and deterministic like the pretraining.
"""

from __future__ import annotations

import time

import numpy as np

KEEP_EPOCHS = 40
KEEP_LR = 1e-3
RECON_WEIGHT = 0.5
NEAR = 0.25
BATCH = 256


def stress(features, targets, near: float = NEAR):
    """Weighted normalised stress between two point sets' pairwise distances (torch tensors).

    Zero when ``features``' distances are a multiple of ``targets``'; the scale is the
    weighted least-squares best, held constant in the gradient.
    """
    import torch

    sq = (features * features).sum(dim=1)
    # sqrt of a floor, not of 0: equal windows (pauses) would give an infinite gradient
    d_f = torch.sqrt((sq[:, None] + sq[None, :] - 2 * features @ features.T).clamp_min(1e-8))
    d_g = torch.cdist(targets, targets)
    w = 1.0 / (d_g + near)
    scale = ((w * d_f * d_g).sum() / (w * d_g * d_g).sum().clamp_min(1e-12)).detach()
    return (w * (d_f - scale * d_g) ** 2).sum() / (w * (scale * d_g) ** 2).sum().clamp_min(1e-12)


def keep_descriptors(model, windows: np.ndarray, gesture_cfg, epochs: int = KEEP_EPOCHS,
                     quiet: bool = True) -> dict:
    """Fine-tune a pretrained gesture StackedAutoencoder in place (module docstring).

    Args:
        model: A fitted :class:`instrument.learn.sae.StackedAutoencoder` on pointer windows.
        windows: Its training windows (N, window_dim), polar steps of ``gesture_cfg``.
        gesture_cfg: The GestureConfig the windows were made with.
        epochs: Fine-tuning epochs (0: nothing changes).

    Returns:
        The record also stored as ``model.history["descriptor_keeping"]``: {"stress": [per
        epoch], "reconstruction": [per epoch, per input value], "epochs", "seconds"}.
    """
    import torch

    from instrument.gesture.descriptors import describe_windows, gesture_space
    from instrument.learn.autoencoder import torch_settings
    from instrument.progress import progress

    start = time.perf_counter()
    x = np.asarray(windows, np.float32)
    g = gesture_space(describe_windows(x, gesture_cfg)).astype(np.float32)
    record: dict = {"stress": [], "reconstruction": [], "epochs": int(epochs),
                    "recon_weight": RECON_WEIGHT, "near": NEAR}
    cfg = model.config
    with torch_settings(model._macs(min(BATCH, len(x)))):
        gen = torch.Generator().manual_seed(cfg.seed + 2)
        data, target = torch.from_numpy(model._normalise(x)), torch.from_numpy(g)
        params = [p for layer in model.layers for p in layer.parameters()]
        for p in params:
            p.requires_grad_(True)
        opt = torch.optim.Adam(params, lr=KEEP_LR)
        try:
            for _ in progress(range(epochs), desc="gesture features", quiet=quiet,
                              unit="epoch"):
                totals = [0.0, 0.0]
                for idx in torch.randperm(len(data), generator=gen).split(BATCH):
                    batch = data[idx]
                    acts = model._forward(batch, keep_all=True)
                    kept = stress(torch.cat(acts, dim=1), target[idx])
                    recon = acts[-1]
                    for layer in reversed(model.layers):
                        recon = layer.decoder(recon)
                    error = 0.5 * (recon - batch).pow(2).sum(dim=1).mean() / batch.shape[1]
                    opt.zero_grad(set_to_none=True)
                    (kept + RECON_WEIGHT * error).backward()
                    opt.step()
                    totals[0] += kept.item() * len(idx)
                    totals[1] += error.item() * len(idx)
                record["stress"].append(totals[0] / len(data))
                record["reconstruction"].append(totals[1] / len(data))
        finally:
            for p in params:
                p.requires_grad_(False)
    record["seconds"] = time.perf_counter() - start
    model.history["descriptor_keeping"] = record
    return record
