"""Stacked autoencoders trained greedily layer by layer, with a softmax head (paper §3.1-3.2).

The formulation follows the UFLDL sparse autoencoder the paper builds on. Each layer k is an
:class:`Autoencoder` with one hidden layer, trained to reconstruct the (frozen) output of
layers < k by minimising, per minibatch of m examples::

    1/m * sum_i 1/2 ||x_i - x_hat_i||^2                  reconstruction (linear decoder)
  + lambda/2 * (||W_enc||^2 + ||W_dec||^2)               weight decay   (SAEConfig.weight_decay)
  + beta * sum_j KL(rho || rho_hat_j)                    sparsity       (SAEConfig.sparsity_weight)

where rho_hat_j is unit j's mean activation over the minibatch (tanh units are mapped to
(0, 1) by (h + 1) / 2 first; relu units have no such mean, so relu requires beta = 0). With
``denoise > 0`` the input is corrupted by masking noise (that share of inputs set to 0) and
the clean input is the target. The decoder is linear because the inputs are normalised
real values (UFLDL's "linear decoder"); only encoders are kept for the stacked network.

Inputs are normalised per feature with a mean and standard deviation learned in :meth:`fit`
and stored with the model. Training is seeded: initialisation, shuffling and noise all come
from one ``torch.Generator`` seeded with ``SAEConfig.seed``, and runs under
``torch.use_deterministic_algorithms(True)``, so the same data and config give the same model.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import torch
from torch import nn

from instrument.config import SAEConfig
from instrument.errors import BadInput
from instrument.learn.autoencoder import Autoencoder, _activate, torch_settings  # noqa: F401
from instrument.learn.sae_state import FORMAT, VERSION  # noqa: E402,F401
from instrument.progress import progress

_CHUNK = 8192  # rows per forward pass when encoding, to bound memory on large inputs


class StackedAutoencoder:
    """Greedy layer-wise stacked autoencoder with input normalisation and a softmax head.

    Args:
        n_inputs: Width of each input row.
        config: Architecture and training settings (see :class:`instrument.config.SAEConfig`).
    """

    def __init__(self, n_inputs: int, config: SAEConfig | None = None):
        if not isinstance(n_inputs, (int, np.integer)) or isinstance(n_inputs, bool) or n_inputs < 1:
            raise BadInput(f"n_inputs must be an integer >= 1, got {n_inputs!r}")
        self.n_inputs = int(n_inputs)
        self.config = config if config is not None else SAEConfig()
        if not isinstance(self.config, SAEConfig):
            raise BadInput(f"config must be an SAEConfig, got {type(self.config).__name__}")
        self.layers: list[Autoencoder] = []
        self.head: nn.Linear | None = None
        self.n_classes: int | None = None
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.history: dict = {}
        self.finetune_history: dict = {}

    # --- training -------------------------------------------------------------------------

    def fit(self, x: np.ndarray, quiet: bool = True, desc: str = "SAE",
            held_out: np.ndarray | None = None) -> dict:
        """Learn the input normalisation, then pretrain each layer greedily on frozen lower layers.

        Args:
            x: Training inputs, shape (N, n_inputs), finite.
            quiet: Hide the progress bars.
            desc: Label for the progress bars.
            held_out: Optional inputs never trained on (same width): their reconstruction
                error is measured after every epoch, without touching the training (no
                random numbers are drawn for it, so the fit is the same with or without).

        Returns:
            ``self.history``: {"layer_losses": [[mean reconstruction error per epoch] per layer],
            "seconds": float}, plus "held_out_losses" (the same per layer, on ``held_out``)
            when it is given. Fitting again starts from a fresh, seeded initialisation and
            drops any fine-tuned head.
        """
        x = self._check_x(x)
        cfg = self.config
        start = time.perf_counter()
        self.mean = x.mean(axis=0, dtype=np.float64).astype(np.float32)
        std = x.std(axis=0, dtype=np.float64)
        floor = cfg.min_std * float(std.mean())
        if floor <= 0:  # min_std=0, or every input constant: only constant inputs need a stand-in
            floor = float(std[std > 0].min()) if (std > 0).any() else 1.0
        self.std = np.maximum(std, floor).astype(np.float32)
        self.head, self.n_classes, self.finetune_history = None, None, {}
        losses: list[list[float]] = []
        held_losses: list[list[float]] = []
        held = None
        if held_out is not None and len(held_out):
            held = torch.from_numpy(self._normalise(self._check_x(held_out)))
        with torch_settings(self._macs(min(cfg.batch_size, len(x)))):
            torch.manual_seed(cfg.seed)
            gen = torch.Generator().manual_seed(cfg.seed)
            self.layers = []
            sizes = (self.n_inputs,) + tuple(cfg.hidden)
            data = torch.from_numpy(self._normalise(x))
            for k in range(len(cfg.hidden)):
                layer = Autoencoder(sizes[k], sizes[k + 1], cfg.activation, gen)
                curve: list[float] = []
                losses.append(self._pretrain_layer(layer, data, gen, quiet,
                                                   f"{desc} layer {k + 1}/{len(cfg.hidden)}",
                                                   held, curve))
                held_losses.append(curve)
                layer.eval()
                for p in layer.parameters():
                    p.requires_grad_(False)  # frozen from now on: only layer k+1 trains next
                self.layers.append(layer)
                with torch.no_grad():
                    data = torch.cat([layer.encode(chunk) for chunk in data.split(_CHUNK)])
                    if held is not None:
                        held = torch.cat([layer.encode(chunk) for chunk in held.split(_CHUNK)])
        self.history = {"layer_losses": losses, "seconds": time.perf_counter() - start}
        if held is not None:
            self.history["held_out_losses"] = held_losses
        return self.history

    def _pretrain_layer(self, layer: Autoencoder, data: torch.Tensor, gen: torch.Generator,
                        quiet: bool, desc: str, held: torch.Tensor | None = None,
                        held_curve: list[float] | None = None) -> list[float]:
        cfg = self.config
        opt = torch.optim.Adam(layer.parameters(), lr=cfg.lr)
        n = data.shape[0]
        batch = min(cfg.batch_size, n)
        epoch_losses = []
        layer.train()
        for _ in progress(range(cfg.epochs), desc=desc, quiet=quiet, unit="epoch"):
            total = 0.0
            for idx in torch.randperm(n, generator=gen).split(batch):
                clean = data[idx]
                noisy = clean
                if cfg.denoise > 0:
                    keep = torch.rand(clean.shape, generator=gen) >= cfg.denoise
                    noisy = clean * keep
                loss, error = layer.objective(noisy, clean, cfg)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += error.item() * len(idx)
            epoch_losses.append(total / n)
            if held is not None and held_curve is not None:
                with torch.no_grad():  # the clean reconstruction error, as the training's
                    errors = [layer.objective(c, c, cfg)[1].item() * len(c)
                              for c in held.split(_CHUNK)]
                held_curve.append(sum(errors) / len(held))
        return epoch_losses

    def finetune(self, x: np.ndarray, y: np.ndarray, n_classes: int, quiet: bool = True) -> dict:
        """Add a softmax head on the top layer and train the whole stack on labels.

        Works with few labels (any N >= 1; classes may be missing from ``y``). The encoders
        change, so :meth:`encode` afterwards gives the fine-tuned features.

        Args:
            x: Labelled inputs (N, n_inputs).
            y: Integer labels in [0, n_classes), length N.
            n_classes: Number of classes (>= 2).
            quiet: Hide the progress bar.

        Returns:
            ``self.finetune_history``: {"losses": [mean cross-entropy per epoch], "seconds"}.
        """
        self._require_fitted()
        x = self._check_x(x)
        y = self._check_labels(y, len(x), n_classes)
        cfg = self.config
        start = time.perf_counter()
        with torch_settings(self._macs(min(cfg.batch_size, len(x)))):
            gen = torch.Generator().manual_seed(cfg.seed + 1)
            data, target = torch.from_numpy(self._normalise(x)), torch.from_numpy(y)
            head = self._fit_head(data, target, n_classes, gen)
            encoders = [layer.encoder for layer in self.layers]
            for enc in encoders:
                enc.weight.requires_grad_(True)
                enc.bias.requires_grad_(True)
            params = [p for enc in encoders for p in enc.parameters()] + list(head.parameters())
            weights = [enc.weight for enc in encoders] + [head.weight]
            opt = torch.optim.Adam(params, lr=cfg.finetune_lr)
            n, batch = len(x), min(cfg.batch_size, len(x))
            losses = []
            for _ in progress(range(cfg.finetune_epochs), desc="fine-tune", quiet=quiet,
                              unit="epoch"):
                total = 0.0
                for idx in torch.randperm(n, generator=gen).split(batch):
                    logits = head(self._forward(data[idx], dropout=cfg.finetune_dropout, gen=gen))
                    loss = nn.functional.cross_entropy(logits, target[idx])
                    decay = 0.5 * cfg.weight_decay * sum(w.pow(2).sum() for w in weights)
                    opt.zero_grad(set_to_none=True)
                    (loss + decay).backward()
                    opt.step()
                    total += loss.item() * len(idx)
                losses.append(total / n)
            for p in params:
                p.requires_grad_(False)
        self.head, self.n_classes = head, int(n_classes)
        self.finetune_history = {"losses": losses, "seconds": time.perf_counter() - start}
        return self.finetune_history

    def _fit_head(self, data: torch.Tensor, target: torch.Tensor, n_classes: int,
                  gen: torch.Generator) -> nn.Linear:
        """Softmax regression on the frozen top-layer features (UFLDL: softmax before fine-tuning).

        Starting the joint fine-tuning from a trained head keeps the pretrained features
        from being wrecked by the large gradients of a random head.
        """
        cfg = self.config
        with torch.no_grad():
            feats = torch.cat([self._forward(c) for c in data.split(_CHUNK)])
        head = nn.Linear(feats.shape[1], n_classes)
        with torch.no_grad():
            head.weight.normal_(0.0, 0.01, generator=gen)
            head.bias.zero_()
        opt = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=cfg.head_iterations,
                                history_size=20, line_search_fn="strong_wolfe")
        decay = max(cfg.weight_decay, 1e-4)  # some decay keeps separable data from diverging

        def closure():
            opt.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(head(feats), target)
            loss = loss + 0.5 * decay * head.weight.pow(2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        return head

    # --- inference ------------------------------------------------------------------------

    def encode(self, x: np.ndarray, layers: Sequence[int] | None = None) -> np.ndarray:
        """Hidden activations of the chosen layers (0-based, bottom first), concatenated.

        Args:
            x: Inputs (N, n_inputs).
            layers: Layer indices in the order wanted; None = all layers.

        Returns:
            float32 array (N, feature_dim(layers)).
        """
        self._require_fitted()
        chosen = self._check_layers(layers)
        x = self._check_x(x)
        with torch_settings(self._macs(min(_CHUNK, len(x)))), torch.no_grad():
            data = torch.from_numpy(self._normalise(x))
            parts = []
            for chunk in data.split(_CHUNK):
                acts = self._forward(chunk, keep_all=True)
                parts.append(torch.cat([acts[k] for k in chosen], dim=1))
            return torch.cat(parts).numpy().astype(np.float32, copy=False)

    def feature_dim(self, layers: Sequence[int] | None = None) -> int:
        """Width of :meth:`encode`'s output for ``layers``."""
        return sum(self.config.hidden[k] for k in self._check_layers(layers))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (N, n_classes) from the fine-tuned softmax head."""
        if self.head is None:
            raise BadInput("this stacked autoencoder has no classifier yet",
                           "call finetune(x, y, n_classes) before predict/predict_proba")
        x = self._check_x(x)
        with torch_settings(self._macs(min(_CHUNK, len(x)))), torch.no_grad():
            data = torch.from_numpy(self._normalise(x))
            probs = [torch.softmax(self.head(self._forward(c)), dim=1) for c in data.split(_CHUNK)]
            return torch.cat(probs).numpy().astype(np.float32, copy=False)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Most likely class (int64) per row."""
        return self.predict_proba(x).argmax(axis=1).astype(np.int64)

    def _forward(self, data: torch.Tensor, keep_all: bool = False, dropout: float = 0.0,
                 gen: torch.Generator | None = None):
        acts = []
        for layer in self.layers:
            if dropout > 0:
                # Inverted dropout on each layer's input, drawn from the seeded generator
                # (nn.functional.dropout cannot take one, so training would not be reproducible).
                keep = torch.rand(data.shape, generator=gen) >= dropout
                data = data * keep / (1.0 - dropout)
            data = layer.encode(data)
            acts.append(data)
        return acts if keep_all else data

    def _macs(self, rows: int) -> int:
        sizes = (self.n_inputs,) + tuple(self.config.hidden)
        return rows * max(a * b for a, b in zip(sizes[:-1], sizes[1:]))

    def _normalise(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray((x - self.mean) / self.std, dtype=np.float32)

    # --- validation -----------------------------------------------------------------------

    @property
    def fitted(self) -> bool:
        """True once :meth:`fit` (or loading) has produced weights."""
        return bool(self.layers)

    def _require_fitted(self) -> None:
        if not self.fitted:
            raise BadInput("this stacked autoencoder is not trained yet", "call fit(x) first")

    def _check_x(self, x) -> np.ndarray:
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError):
            raise BadInput("inputs are not a rectangular numeric array",
                           f"give an array of shape (N, {self.n_inputs})") from None
        if arr.dtype.kind not in "iuf":
            raise BadInput(f"inputs have dtype {arr.dtype}, not numbers",
                           f"give a float array of shape (N, {self.n_inputs})")
        if arr.ndim != 2:
            raise BadInput(f"inputs have shape {arr.shape}, expected (N, {self.n_inputs})",
                           "for a single row use x.reshape(1, -1)")
        if arr.shape[0] == 0:
            raise BadInput("inputs are empty (0 rows)", "give at least one row")
        if arr.shape[1] != self.n_inputs:
            raise BadInput(f"inputs have {arr.shape[1]} columns but this model takes "
                           f"{self.n_inputs}", f"give an array of shape (N, {self.n_inputs})")
        arr = arr.astype(np.float32)
        finite = np.isfinite(arr)
        if not finite.all():
            row, col = np.argwhere(~finite)[0]
            raise BadInput(f"inputs contain NaN or inf ({(~finite).sum()} values, first at row "
                           f"{row}, column {col})", "remove or fill in those values")
        return arr

    @staticmethod
    def _check_labels(y, n_rows: int, n_classes) -> np.ndarray:
        if not isinstance(n_classes, (int, np.integer)) or isinstance(n_classes, bool) or n_classes < 2:
            raise BadInput(f"n_classes must be an integer >= 2, got {n_classes!r}")
        try:
            labels = np.asarray(y)
        except (ValueError, TypeError):
            raise BadInput("labels are not a 1-D array of integers") from None
        if labels.ndim != 1:
            raise BadInput(f"labels have shape {labels.shape}, expected ({n_rows},)",
                           "give one integer label per input row")
        if len(labels) != n_rows:
            raise BadInput(f"{len(labels)} labels for {n_rows} input rows",
                           "give exactly one label per input row")
        if labels.dtype.kind == "f":
            if not np.isfinite(labels).all() or (labels != np.round(labels)).any():
                raise BadInput("labels must be whole numbers (class indices), got fractional "
                               "or NaN values", "give integer class indices 0..n_classes-1")
        elif labels.dtype.kind not in "iu":
            raise BadInput(f"labels have dtype {labels.dtype}, not integers",
                           "give integer class indices 0..n_classes-1")
        labels = labels.astype(np.int64)
        bad = (labels < 0) | (labels >= n_classes)
        if bad.any():
            raise BadInput(f"label {labels[bad][0]} is outside 0..{n_classes - 1} "
                           f"({int(bad.sum())} labels out of range)",
                           "give class indices 0..n_classes-1 or raise n_classes")
        return labels

    def _check_layers(self, layers) -> list[int]:
        count = len(self.config.hidden)
        if layers is None:
            return list(range(count))
        if isinstance(layers, (int, np.integer)):
            layers = [layers]
        chosen = list(layers)
        if not chosen:
            raise BadInput("layers is empty", f"choose layers among 0..{count - 1}, or None for all")
        for k in chosen:
            if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 0 <= k < count:
                raise BadInput(f"layer {k!r} does not exist (this model has {count} layers)",
                               f"choose layers among 0..{count - 1}")
        return [int(k) for k in chosen]

    # --- state, files, export -------------------------------------------------------------

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON-able meta, named float32 arrays): see :func:`instrument.learn.sae_state.to_state`."""
        from instrument.learn.sae_state import to_state

        self._require_fitted()
        return to_state(self)

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "StackedAutoencoder":
        """Rebuild a model from :meth:`to_state` output (e.g. read from a bundle).

        Raises:
            ModelFileError: The meta or arrays are malformed (see
                :func:`instrument.learn.sae_state.from_state`).
        """
        from instrument.learn.sae_state import from_state

        return from_state(cls, meta, arrays)
