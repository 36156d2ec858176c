"""Frozen dataclasses that configure each stage. Pure Python: no numpy, torch or pyo.

The CLI reads defaults from here without importing heavy modules, and a model bundle stores
``dataclasses.asdict`` of each config so a model alone says how it was built. Each config's
``from_dict`` rejects unknown keys with a clear error instead of silently ignoring them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

from instrument.errors import BadInput

C = TypeVar("C")


def config_from_dict(cls: type[C], data: dict[str, Any], where: str = "config") -> C:
    """Build config ``cls`` from a dict (e.g. read back from a model bundle's JSON).

    Lists become tuples (JSON has no tuples). Unknown or missing keys raise BadInput.
    """
    if not isinstance(data, dict):
        raise BadInput(f"{where}: expected an object for {cls.__name__}, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise BadInput(f"{where}: unknown {cls.__name__} keys {unknown}",
                       f"known keys are {sorted(fields)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    try:
        return cls(**values)
    except TypeError as err:
        raise BadInput(f"{where}: cannot build {cls.__name__}: {err}") from None


# --- stacked autoencoders (sae.py) -------------------------------------------------------

@dataclass(frozen=True)
class SAEConfig:
    """A stacked autoencoder trained greedily layer by layer (UFLDL formulation).

    Attributes:
        hidden: Hidden layer sizes, bottom to top.
        activation: "sigmoid" (UFLDL, needed for the KL sparsity penalty), "tanh" or "relu".
        sparsity_target: Target mean activation rho of each hidden unit.
        sparsity_weight: Weight beta of the KL(rho || rho_hat) penalty; 0 turns it off.
        weight_decay: Weight lambda of the L2 penalty on weights (lambda/2 * sum W^2).
        denoise: Share of inputs zeroed (masking noise) while pretraining; 0 = plain AE.
        epochs: Pretraining epochs per layer.
        batch_size: Minibatch size.
        lr: Adam learning rate for pretraining.
        finetune_epochs: Epochs of supervised fine-tuning of the whole stack + softmax.
        finetune_lr: Adam learning rate for fine-tuning.
        seed: Seed for initialisation, shuffling and noise.
    """

    hidden: tuple[int, ...] = (200, 200)
    activation: str = "sigmoid"
    sparsity_target: float = 0.05
    sparsity_weight: float = 0.1
    weight_decay: float = 1e-5
    denoise: float = 0.0
    epochs: int = 30
    batch_size: int = 128
    lr: float = 3e-3
    finetune_epochs: int = 60
    finetune_lr: float = 1e-3
    seed: int = 0


# --- gestures (gestures.py) --------------------------------------------------------------

@dataclass(frozen=True)
class GestureConfig:
    """How pointer samples become the gesture network's input windows.

    Attributes:
        rate_hz: Fixed control rate the pointer trace is resampled to.
        window_steps: Polar steps per window (window length = window_steps / rate_hz s).
        hop_steps: Steps between training windows.
    """

    rate_hz: float = 100.0
    window_steps: int = 32
    hop_steps: int = 4


# --- sounds (params.py, fm.py, features.py) ----------------------------------------------

@dataclass(frozen=True)
class SoundConfig:
    """The random FM corpus and its spectral features.

    Attributes:
        n_sounds: Sounds in the bank.
        seconds: Length of each sound.
        rate: Sample rate of the corpus renders.
        seed: Seed for drawing parameters.
    """

    n_sounds: int = 5000
    seconds: float = 1.0
    rate: int = 22050
    seed: int = 0

    def __post_init__(self):
        _check_whole(self, "n_sounds", 1)
        _check_whole(self, "rate", 1000)
        _check_whole(self, "seed", 0)
        if not (isinstance(self.seconds, (int, float)) and 0 < self.seconds <= 60):
            raise BadInput(f"SoundConfig.seconds must be in (0, 60], got {self.seconds!r}")

    @property
    def n_samples(self) -> int:
        """Samples per sound: round(seconds * rate)."""
        return int(round(self.seconds * self.rate))


@dataclass(frozen=True)
class FeatureConfig:
    """How one rendered sound becomes its feature vector (features.py).

    The paper feeds "single-sided FFT values of the audio" to the sound autoencoder. ``kind =
    "raw"`` keeps exactly that (every FFT bin); ``"bands"`` (default) sums the power of the
    bins into ``n_bands`` bands between ``min_hz`` and ``max_hz`` (Nyquist when None), a much
    smaller vector that keeps the sideband pattern FM is known by.

    Attributes:
        kind: "bands" or "raw".
        n_bands: Number of bands (kind "bands").
        band_scale: "log" (equal ratios, like pitch) or "lin" band edges.
        min_hz: Lower edge of the first band.
        max_hz: Upper edge of the last band; None = Nyquist.
        window: "hann" (less leakage between sidebands) or "none" (rectangular).
        compression: "db" maps power to 0..1 over ``db_range`` dB below full scale (a unit
            sine is 0 dB); "none" keeps linear magnitude.
        db_range: Decibels mapped onto 0..1 by "db" compression.
    """

    kind: str = "bands"
    n_bands: int = 64
    band_scale: str = "log"
    min_hz: float = 30.0
    max_hz: float | None = None
    window: str = "hann"
    compression: str = "db"
    db_range: float = 80.0

    def __post_init__(self):
        for name, allowed in (("kind", ("bands", "raw")), ("band_scale", ("log", "lin")),
                              ("window", ("hann", "none")), ("compression", ("db", "none"))):
            if getattr(self, name) not in allowed:
                raise BadInput(f"FeatureConfig.{name} = {getattr(self, name)!r} is not one of "
                               f"{allowed}")
        _check_whole(self, "n_bands", 1)
        if not (isinstance(self.min_hz, (int, float)) and self.min_hz >= 0):
            raise BadInput(f"FeatureConfig.min_hz must be >= 0, got {self.min_hz!r}")
        if self.max_hz is not None and not (isinstance(self.max_hz, (int, float))
                                            and self.max_hz > self.min_hz):
            raise BadInput(f"FeatureConfig.max_hz must be None or > min_hz, got {self.max_hz!r}")
        if not (isinstance(self.db_range, (int, float)) and self.db_range > 0):
            raise BadInput(f"FeatureConfig.db_range must be > 0, got {self.db_range!r}")


def _check_whole(cfg, name: str, low: int) -> None:
    value = getattr(cfg, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise BadInput(f"{type(cfg).__name__}.{name} must be a whole number >= {low}, "
                       f"got {value!r}")

