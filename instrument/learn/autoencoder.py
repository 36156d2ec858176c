"""One autoencoder layer and the torch settings every training run uses.

The objective is documented in :mod:`instrument.learn.sae`, which stacks these layers.
"""

from __future__ import annotations

import contextlib
import math
import os
from typing import Iterator

import torch
from torch import nn

from instrument.config import SAEConfig
from instrument.learn.threads import THREADS_ENV, blas_threads, env_threads  # noqa: F401

# A matmul smaller than this (multiply-adds) runs faster on one thread: splitting it costs more
# in synchronisation than it saves, and on a busy 2-core machine 2 threads made digits-sized
# training 5-10x slower. Larger work uses every core.
_MIN_MACS_PER_THREAD = 4_000_000


def torch_threads(macs: int) -> int:
    """Threads for work whose largest matmul has ``macs`` multiply-adds.

    ``$INSTRUMENT_TORCH_THREADS`` (an integer >= 1) overrides the choice. The choice depends
    only on the work's shape (never on the machine's load), so training stays reproducible:
    the thread count changes float rounding, hence weights, in the last bits.
    """
    value = env_threads()
    if value is not None:
        return value
    return (os.cpu_count() or 1) if macs >= _MIN_MACS_PER_THREAD else 1


@contextlib.contextmanager
def training_threads(seed: int) -> Iterator[None]:
    """Torch seeded with ``seed`` and one thread (torch and numpy's BLAS, learn/threads.py)
    for a whole training run, unless ``$INSTRUMENT_TORCH_THREADS`` says otherwise. The thread
    count and the variable are restored afterwards."""
    threads_before = torch.get_num_threads()
    env_before = os.environ.get(THREADS_ENV)
    if env_before is None:
        os.environ[THREADS_ENV] = "1"
    torch.set_num_threads(torch_threads(0))
    torch.manual_seed(seed)
    try:
        with blas_threads():
            yield
    finally:
        torch.set_num_threads(threads_before)
        if env_before is None:
            os.environ.pop(THREADS_ENV, None)


def set_deterministic(mode: bool) -> None:
    """``torch.use_deterministic_algorithms(mode)`` without importing torch's compiler.

    The public call also sets ``torch._inductor.config.deterministic``, and importing that
    module pulls in torch._inductor and torch._dynamo: 1.7 s, more than the rest of a
    ``train --from``. That flag only steers code that torch.compile generates, which this
    project never uses, so unless the compiler is already loaded (someone else compiles)
    only the eager kernels' switch is set. The switch is the same either way:
    ``torch.are_deterministic_algorithms_enabled()`` reads it.
    """
    import sys

    if "torch._inductor.config" in sys.modules or not hasattr(torch._C,
                                                              "_set_deterministic_algorithms"):
        torch.use_deterministic_algorithms(mode)
    else:
        torch._C._set_deterministic_algorithms(mode)


@contextlib.contextmanager
def torch_settings(macs: int = 0) -> Iterator[None]:
    """Threads for ``macs`` (see :func:`torch_threads`) and deterministic kernels for a block.

    The caller's thread count and determinism flag are restored afterwards.
    """
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(torch_threads(macs))
    set_deterministic(True)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        set_deterministic(deterministic)


def _activate(z: torch.Tensor, activation: str) -> torch.Tensor:
    if activation == "sigmoid":
        return torch.sigmoid(z)
    if activation == "tanh":
        return torch.tanh(z)
    return torch.relu(z)


class Autoencoder(nn.Module):
    """One autoencoder: ``h = act(x W_e^T + b_e)``, ``x_hat = h W_d^T + b_d`` (linear decoder).

    Args:
        n_in: Input width.
        n_hidden: Hidden units.
        activation: "sigmoid", "tanh" or "relu".
        generator: Seeded generator for the initial weights.
    """

    def __init__(self, n_in: int, n_hidden: int, activation: str, generator: torch.Generator):
        super().__init__()
        self.activation = activation
        self.encoder = nn.Linear(n_in, n_hidden)
        self.decoder = nn.Linear(n_hidden, n_in)
        for layer in (self.encoder, self.decoder):
            # UFLDL's init: uniform(+-sqrt(6 / (fan_in + fan_out + 1))), zero biases.
            r = math.sqrt(6.0 / (layer.in_features + layer.out_features + 1))
            with torch.no_grad():
                layer.weight.uniform_(-r, r, generator=generator)
                layer.bias.zero_()

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Hidden activations of ``x``."""
        return _activate(self.encoder(x), self.activation)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(reconstruction, hidden activations) of ``x``."""
        hidden = self.encode(x)
        return self.decoder(hidden), hidden

    def objective(self, noisy: torch.Tensor, clean: torch.Tensor,
                  cfg: SAEConfig) -> tuple[torch.Tensor, torch.Tensor]:
        """(full objective, reconstruction term) for one minibatch, as in the module docstring."""
        recon, hidden = self(noisy)
        error = 0.5 * (recon - clean).pow(2).sum(dim=1).mean()
        total = error + 0.5 * cfg.weight_decay * (self.encoder.weight.pow(2).sum()
                                                  + self.decoder.weight.pow(2).sum())
        if cfg.sparsity_weight > 0:
            unit = hidden if self.activation == "sigmoid" else (hidden + 1) / 2
            rho_hat = unit.mean(dim=0).clamp(1e-6, 1 - 1e-6)
            rho = cfg.sparsity_target
            kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
            total = total + cfg.sparsity_weight * kl.sum()
        return total, error
