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

SAE_ACTIVATIONS = ("sigmoid", "tanh", "relu")


@dataclass(frozen=True)
class SAEConfig:
    """A stacked autoencoder trained greedily layer by layer (UFLDL formulation).

    Attributes:
        hidden: Hidden layer sizes, bottom to top (any number of layers, each >= 1).
        activation: "sigmoid" (UFLDL), "tanh" or "relu". The KL sparsity penalty needs a
            mean activation in (0, 1): sigmoid has it, tanh is mapped by (h + 1) / 2, and relu
            has none, so relu requires ``sparsity_weight=0``.
        sparsity_target: Target mean activation rho of each hidden unit, in (0, 1).
        sparsity_weight: Weight beta of sum_j KL(rho || rho_hat_j); 0 turns it off.
        weight_decay: Weight lambda of the L2 penalty lambda/2 * sum W^2 on the weights (not
            biases), in pretraining and fine-tuning.
        denoise: Share of inputs zeroed (masking noise) while pretraining; 0 = plain AE.
        epochs: Pretraining epochs per layer.
        batch_size: Minibatch size (pretraining and fine-tuning).
        lr: Adam learning rate for pretraining.
        finetune_epochs: Epochs of supervised fine-tuning of the whole stack + softmax.
        finetune_lr: Adam learning rate for fine-tuning.
        seed: Seed for initialisation, shuffling and noise.
        min_std: Floor on the per-feature standard deviation used to normalise inputs, as a
            share of the mean standard deviation over features; stops near-constant inputs
            (e.g. border pixels) from being blown up into huge values.
        finetune_dropout: Share of each layer's inputs dropped (inverted dropout) while
            fine-tuning; regularises the supervised step when labels are few.
        head_iterations: L-BFGS iterations of the softmax head on the frozen top layer, run
            before the joint fine-tuning (UFLDL's order: softmax first, then fine-tune).

    The defaults (denoising 0.3, fine-tuning dropout 0.2) were chosen on sklearn's digits
    with benchmarks/sae_accuracy.py: fine-tuned accuracy 98.4% over 5 splits vs 97.0% for
    plain sparse autoencoders without dropout.
    """

    hidden: tuple[int, ...] = (200, 200)
    activation: str = "sigmoid"
    sparsity_target: float = 0.05
    sparsity_weight: float = 0.1
    weight_decay: float = 1e-5
    denoise: float = 0.3
    epochs: int = 30
    batch_size: int = 128
    lr: float = 3e-3
    finetune_epochs: int = 60
    finetune_lr: float = 1e-3
    seed: int = 0
    min_std: float = 0.1
    finetune_dropout: float = 0.2
    head_iterations: int = 100

    def __post_init__(self):
        if isinstance(self.hidden, list):  # JSON and users give lists; the frozen config keeps a tuple
            object.__setattr__(self, "hidden", tuple(self.hidden))
        _check_sae_config(self)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and value == value and abs(value) != float("inf"))


def _check_sae_config(cfg: SAEConfig) -> None:
    """Reject impossible SAE settings early, with the field name and its valid range."""
    if (not isinstance(cfg.hidden, tuple) or not cfg.hidden
            or not all(_is_int(h) and h >= 1 for h in cfg.hidden)):
        raise BadInput(f"SAEConfig.hidden must be a non-empty tuple of sizes >= 1, got {cfg.hidden!r}",
                       "e.g. hidden=(200, 200)")
    if cfg.activation not in SAE_ACTIVATIONS:
        raise BadInput(f"SAEConfig.activation {cfg.activation!r} is unknown",
                       f"use one of {', '.join(SAE_ACTIVATIONS)}")
    checks = [
        ("sparsity_target", _is_number(cfg.sparsity_target) and 0 < cfg.sparsity_target < 1,
         "a number in (0, 1)"),
        ("sparsity_weight", _is_number(cfg.sparsity_weight) and cfg.sparsity_weight >= 0, ">= 0"),
        ("weight_decay", _is_number(cfg.weight_decay) and cfg.weight_decay >= 0, ">= 0"),
        ("denoise", _is_number(cfg.denoise) and 0 <= cfg.denoise < 1, "a share in [0, 1)"),
        ("epochs", _is_int(cfg.epochs) and cfg.epochs >= 1, "an integer >= 1"),
        ("batch_size", _is_int(cfg.batch_size) and cfg.batch_size >= 1, "an integer >= 1"),
        ("lr", _is_number(cfg.lr) and cfg.lr > 0, "> 0"),
        ("finetune_epochs", _is_int(cfg.finetune_epochs) and cfg.finetune_epochs >= 1,
         "an integer >= 1"),
        ("finetune_lr", _is_number(cfg.finetune_lr) and cfg.finetune_lr > 0, "> 0"),
        ("seed", _is_int(cfg.seed) and cfg.seed >= 0, "an integer >= 0"),
        ("min_std", _is_number(cfg.min_std) and cfg.min_std >= 0, ">= 0"),
        ("finetune_dropout", _is_number(cfg.finetune_dropout) and 0 <= cfg.finetune_dropout < 1,
         "a share in [0, 1)"),
        ("head_iterations", _is_int(cfg.head_iterations) and cfg.head_iterations >= 1,
         "an integer >= 1"),
    ]
    for name, ok, valid in checks:
        if not ok:
            raise BadInput(f"SAEConfig.{name} = {getattr(cfg, name)!r} is out of range", f"use {valid}")
    if cfg.activation == "relu" and cfg.sparsity_weight > 0:
        raise BadInput("SAEConfig: the KL sparsity penalty needs activations in (0, 1), "
                       "which relu does not have",
                       "set sparsity_weight=0 with activation='relu', or use sigmoid/tanh")


# --- gestures (gestures.py) --------------------------------------------------------------

GESTURE_FEATURES = ("sincos_rho", "theta_rho")


@dataclass(frozen=True)
class GestureConfig:
    """How pointer samples become the gesture network's input windows.

    Attributes:
        rate_hz: Fixed control rate the pointer trace is resampled to.
        window_steps: Polar steps per window (window length = window_steps / rate_hz s).
        hop_steps: Steps between training windows.
        features: What each step contributes to a window: "sincos_rho" (sin θ, cos θ, ρ;
            no wrap-around at ±π) or "theta_rho" (raw θ, ρ as in the paper). A still step
            (or a jump) is all zeros in both.
        still_rho: A step shorter than this share of the window diagonal is stillness.
        jump_rho: Two consecutive pointer samples further apart than this share of the
            window diagonal are a jump (pointer left and re-entered the window, pen lift),
            not a fast stroke: the step that contains it is treated as stillness.
        rest_after_s: A gap between pointer samples longer than this means the pointer
            rested at the earlier sample and moved to the later one in the last
            ``rest_after_s`` seconds (mice send no events while still).
    """

    rate_hz: float = 100.0
    window_steps: int = 32
    hop_steps: int = 4
    features: str = "sincos_rho"
    still_rho: float = 1e-4
    jump_rho: float = 0.25
    rest_after_s: float = 0.05

    def __post_init__(self):
        number, integer = _is_number, _is_int
        checks = [
            ("rate_hz", number(self.rate_hz) and 1 <= self.rate_hz <= 10000, "in 1..10000"),
            ("window_steps", integer(self.window_steps) and 1 <= self.window_steps <= 10000,
             "an integer in 1..10000"),
            ("hop_steps", integer(self.hop_steps) and self.hop_steps >= 1, "an integer >= 1"),
            ("still_rho", number(self.still_rho) and 0 <= self.still_rho < 1, "in [0, 1)"),
            ("jump_rho", number(self.jump_rho) and self.jump_rho > self.still_rho,
             "a number > still_rho"),
            ("rest_after_s", number(self.rest_after_s) and self.rest_after_s > 0, "> 0"),
        ]
        for name, ok, valid in checks:
            if not ok:
                raise BadInput(f"GestureConfig.{name} = {getattr(self, name)!r} is invalid",
                               f"use {valid}")
        if self.features not in GESTURE_FEATURES:
            raise BadInput(f"GestureConfig.features {self.features!r} is unknown",
                           f"use one of {', '.join(GESTURE_FEATURES)}")


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
    import numbers

    value = getattr(cfg, name)  # numbers.Integral also admits numpy integers
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise BadInput(f"{type(cfg).__name__}.{name} must be a whole number >= {low}, "
                       f"got {value!r}")
    object.__setattr__(cfg, name, int(value))  # plain int, so the config stays JSON-able


TRAIN_PAIRINGS = ("random", "structure", "labels", "descriptors")
TRAIN_MAPPINGS = ("mlp", "l2")
STILLNESS = ("hold", "fade")


@dataclass(frozen=True)
class TrainConfig:
    """How a whole instrument is trained from gesture recordings and a sound bank.

    Attributes:
        layers: Hidden layers of each stacked autoencoder (the paper: 2).
        layer_size: Units per hidden layer (both SAEs; equal sizes keep --mapping l2 possible).
        pairing: Training pairs for the mapping: "descriptors" (the default: gesture
            descriptors matched onto sound descriptors, learn/descriptor_pairing.py),
            "random" (the paper's), "structure" (the autoencoder feature spaces matched) or
            "labels".
        mapping: "mlp" (the paper's third network) or "l2" (direct feature comparison).
        seed: Seeds every stage (SAEs, pairing, mapping network, evaluation subsamples).
        holdout: Share of each recording (its tail, contiguous) kept out of training and used
            to measure the mapping.
        mapping_hidden: Hidden units of the mapping network.
        mapping_activation: Its hidden activation: "tanh", "sigmoid" or "relu".
        mapping_epochs: Its training epochs.
        mapping_lr: Its Adam learning rate.
        structure_dims: Principal axes matched by the structure pairing; also the size of
            the closest-sound search space (the sound features on those axes, whitened).
        spread_iterations: Rounds of iterative distribution transfer in the structure
            pairing (spreads the gestures over more of the bank).
        hysteresis: The current sound is kept unless the closest one is nearer by more than
            this share of the distance.
        blend_k: Sounds whose parameters are interpolated (frame_policy.Blender), or 1: one
            bank sound as it is; 0 (default) = by pairing: 1 for "descriptors" (an FM blend
            is not heard as the sounds it mixes: learn/heard.py), 48 for the others.
        like_tolerance: With one sound played, a change of sound goes to the sound most
            like the current one in its parameters among those within (1 + this) times the
            closest one's distance (frame_policy.most_alike; 0 = the closest).
        glide: Share of the way the played point moves to each new mapped point, per frame
            (1 = no smoothing); 0 (default) = by pairing: 0.5 for "descriptors" (one
            sound played: the choice of sound keeps the parameters steady, less lag),
            0.2 for the others (the blend's parameters follow the smoothed point).
        hysteresis_spacing: Extra hysteresis margin, in units of the current sound's distance
            to its nearest bank neighbour (the bank's local density); below 1, or the
            closest neighbour could never take over (triangle inequality).
        still_hold: Hold the current sound while the pointer is still.
        sae_epochs: Pretraining epochs per SAE layer.
        descriptor_dims: Principal axes of the sound descriptor space kept as the search
            space of the descriptors pairing.
        steer: Steered pairs of the descriptors pairing, ``speed=loudness,height=-pitch``
            ("" = none).
        stillness: "hold" (a still pointer holds its sound at full level) or "fade" (the
            level follows the motion energy, like a bowed string: runtime.py).
    """

    layers: int = 2
    layer_size: int = 100
    pairing: str = "descriptors"
    mapping: str = "mlp"
    seed: int = 0
    holdout: float = 0.2
    mapping_hidden: int = 128
    mapping_activation: str = "tanh"
    mapping_epochs: int = 80
    mapping_lr: float = 3e-3
    structure_dims: int = 4
    spread_iterations: int = 1
    hysteresis: float = 0.1
    blend_k: int = 0
    like_tolerance: float = 2.0
    glide: float = 0.0
    hysteresis_spacing: float = 0.5
    still_hold: bool = True
    sae_epochs: int = 30
    descriptor_dims: int = 5
    steer: str = ""
    stillness: str = "hold"

    def __post_init__(self):
        def integer(value, low) -> bool:
            return _is_int(value) and value >= low

        def share(value, low, high) -> bool:
            return _is_number(value) and low <= value < high

        checks = [
            ("layers", integer(self.layers, 1), "an integer >= 1"),
            ("layer_size", integer(self.layer_size, 1), "an integer >= 1"),
            ("pairing", self.pairing in TRAIN_PAIRINGS, f"one of {', '.join(TRAIN_PAIRINGS)}"),
            ("mapping", self.mapping in TRAIN_MAPPINGS, f"one of {', '.join(TRAIN_MAPPINGS)}"),
            ("seed", integer(self.seed, 0), "an integer >= 0"),
            ("holdout", share(self.holdout, 0.0, 0.9), "a share in [0, 0.9)"),
            ("mapping_hidden", integer(self.mapping_hidden, 1), "an integer >= 1"),
            ("mapping_activation", self.mapping_activation in ("tanh", "sigmoid", "relu"),
             "tanh, sigmoid or relu"),
            ("mapping_epochs", integer(self.mapping_epochs, 1), "an integer >= 1"),
            ("mapping_lr", share(self.mapping_lr, 1e-9, 10.0), "a number in (0, 10)"),
            ("structure_dims", integer(self.structure_dims, 1), "an integer >= 1"),
            ("spread_iterations", integer(self.spread_iterations, 0), "an integer >= 0"),
            ("hysteresis", share(self.hysteresis, 0.0, 1.0), "a share in [0, 1)"),
            ("blend_k", integer(self.blend_k, 0), "an integer >= 0 (0: by pairing)"),
            ("like_tolerance", share(self.like_tolerance, 0.0, 100.0), "a number in [0, 100)"),
            ("glide", share(self.glide, 0.0, 1.0 + 1e-12), "a share in (0, 1], 0: by pairing"),
            ("hysteresis_spacing", share(self.hysteresis_spacing, 0.0, 100.0), "a number in [0, 100)"),
            ("still_hold", isinstance(self.still_hold, bool), "true or false"),
            ("sae_epochs", integer(self.sae_epochs, 1), "an integer >= 1"),
            ("descriptor_dims", integer(self.descriptor_dims, 1) and self.descriptor_dims <= 6,
             "an integer in 1..6"),
            ("steer", isinstance(self.steer, str) and len(self.steer) <= 500,
             "GESTURE=SOUND,... (at most 500 characters)"),
            ("stillness", self.stillness in STILLNESS, f"one of {', '.join(STILLNESS)}"),
        ]
        for name, ok, valid in checks:
            if not ok:
                raise BadInput(f"TrainConfig.{name} = {getattr(self, name)!r} is invalid",
                               f"use {valid}")
