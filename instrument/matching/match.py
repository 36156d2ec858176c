"""Cross-modal matching of two collections (paper §3.3, §4.1, §5.2), in both directions.

1. Each collection gets its own stacked autoencoder (:class:`instrument.learn.sae.StackedAutoencoder`),
   trained without labels on every file. Its hidden layers (the "middle" layers between the
   input and the classifier, as in the paper) are the matching nodes.
2. With labels, each network is fine-tuned with a softmax head on the labelled files only
   (§3.2); unlabelled files then take the category their network predicts.
3. The two networks were trained apart, so unit j of one has nothing to do with unit j of
   the other, and the paper's plain l2 between them matches by accident. Both methods first
   bring the two sides to shared coordinates:

   - ``l2`` with labels: the matching nodes are the classification layer and the middle
     layers (§3.3: add the last layer to make the matching follow the categories). Both are
     put in the order of the category matching, so audio category k and the image category
     matched to it share coordinate k: the log-probability of each matched category, and the
     distance of the middle-layer features to each category's centre (divided by the side's
     typical distance of a file to its own centre, weighted ``PROFILE_WEIGHT``). The
     probabilities decide the category, the distances order files within it (a tone far from
     the chords lands on circles far from the stripes). Files are matched by l2 in that space.
     The middle layers alone put 87% of each audio file's top 10 in the matched category on
     the generated demo, with the classification layer 97%.
   - ``l2`` without labels: the middle-layer features of each side become their first
     ``dims`` whitened, skew-signed principal coordinates (the instrument's structure pairing,
     :func:`instrument.learn.mapping.pair_structure`), and one side's coordinates are carried
     onto the other's by ranks (distribution transfer), then compared by l2. The strongest
     axis of variation of the audio goes with the strongest of the images, and so on.
   - ``mlp`` (§3.3, "yet another neural network"): a :class:`~instrument.learn.mapping.MappingMLP`
     learns to map one side's middle-layer features onto the other's, from training pairs made
     by :func:`~instrument.learn.mapping.pair_labels` (each file paired within the matched
     category) or, without labels, :func:`~instrument.learn.mapping.pair_structure`; files are
     matched by l2 between the prediction and the other side's features. One network per direction.

Everything is seeded: the same files and settings give the same matches on the same machine.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from instrument.config import SAEConfig
from instrument.errors import BadInput

METHODS = ("l2", "mlp")
PROFILE_WEIGHT = 0.5   # middle-layer distances next to log-probabilities (which span about 7)
_QUERY_CHUNK = 1024     # queries per distance block: 1024 x 20,000 targets is 160 MB at most


@dataclass(frozen=True)
class MatchConfig:
    """How two collections are matched.

    Attributes:
        audio_sae, image_sae: Stacked autoencoder of each side (their hidden layers are matched).
        method: "l2" or "mlp" (see the module docstring).
        top: Best matches kept per file.
        dims: Principal axes compared by the unlabelled l2 method.
        mlp_hidden, mlp_epochs: The mapping network of the "mlp" method.
        seed: Seeds both networks and every pairing.
    """

    audio_sae: SAEConfig = SAEConfig(hidden=(64, 16))
    image_sae: SAEConfig = SAEConfig(hidden=(128, 16))
    method: str = "l2"
    top: int = 10
    dims: int = 4
    mlp_hidden: int = 64
    mlp_epochs: int = 100
    seed: int = 0

    def __post_init__(self):
        if self.method not in METHODS:
            raise BadInput(f"matching method {self.method!r} unknown", f"use one of {METHODS}")
        if self.top < 1 or self.dims < 1:
            raise BadInput("top and dims must be >= 1")

    def seeded(self, seed: int) -> "MatchConfig":
        """This config with ``seed`` for both networks and the pairings."""
        return dataclasses.replace(self, seed=seed,
                                   audio_sae=dataclasses.replace(self.audio_sae, seed=seed),
                                   image_sae=dataclasses.replace(self.image_sae, seed=seed + 1))


@dataclass
class Matches:
    """Both directions of a matching.

    Attributes:
        audio_best: int64 (Na, top): image indices, best first, for each audio file.
        audio_distance: float (Na, top): their distances in the shared space.
        image_best, image_distance: The same for each image (audio indices).
        audio_category, image_category: int64 category of each file (its label, else the
            fine-tuned network's prediction); all -1 without labels.
        audio_features, image_features: The middle-layer features (matching nodes).
        seconds: Training and matching time.
    """

    audio_best: np.ndarray
    audio_distance: np.ndarray
    image_best: np.ndarray
    image_distance: np.ndarray
    audio_category: np.ndarray
    image_category: np.ndarray
    audio_features: np.ndarray
    image_features: np.ndarray
    seconds: float


def train_side(x: np.ndarray, labels: np.ndarray | None, n_classes: int, config: SAEConfig,
               quiet: bool, desc: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Train one side's network; return its middle-layer features, categories and log-probabilities.

    Args:
        x: (N, F) feature rows of the collection.
        labels: (N,) category index or -1, or None without labels.
        n_classes: Number of categories of this side.
        config: The stacked autoencoder.
        quiet: Hide progress bars.
        desc: Label of the progress bars.

    Returns:
        (features (N, H), category (N,) int64: the label, else the prediction (-1 without
        labels), log class probabilities (N, n_classes) or None without labels).
    """
    from instrument.learn.sae import StackedAutoencoder

    sae = StackedAutoencoder(x.shape[1], config)
    sae.fit(x, quiet=quiet, desc=desc)
    category = np.full(len(x), -1, dtype=np.int64)
    log_proba = None
    if labels is not None:
        known = labels >= 0
        if len(np.unique(labels[known])) < 2:
            raise BadInput(f"{desc}: the labels name {len(np.unique(labels[known]))} category",
                           "label files of at least 2 categories on each side")
        sae.finetune(x[known], labels[known], n_classes, quiet=quiet)
        proba = sae.predict_proba(x).astype(np.float64)
        category = np.where(known, labels, proba.argmax(axis=1))
        log_proba = np.log(proba + 1e-3)  # 1e-3: a sure "no" is -6.9, not -inf
    return sae.encode(x).astype(np.float64), category, log_proba


def category_profiles(features: np.ndarray, category: np.ndarray, order: list[int]) -> np.ndarray:
    """(N, len(order)): each file's distance to the centre of each category in ``order``,
    divided by the median distance of a file to its own category's centre."""
    dist = np.empty((len(features), len(order)))
    for j, c in enumerate(order):  # one centre at a time: memory N x H, not N x k x H
        dist[:, j] = np.linalg.norm(features - features[category == c].mean(axis=0), axis=1)
    own = [dist[category == c, j] for j, c in enumerate(order)]
    scale = float(np.median(np.concatenate(own))) if own else 1.0
    return dist / max(scale, 1e-9)


def nearest(queries: np.ndarray, targets: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and l2 distances of the ``top`` nearest targets of each query, nearest first
    (ties go to the lower index: a stable sort)."""
    top = min(top, len(targets))
    best = np.empty((len(queries), top), np.int64)
    dist = np.empty((len(queries), top))
    target_sq = np.square(targets).sum(1)
    for start in range(0, len(queries), _QUERY_CHUNK):  # memory chunk x M, whatever N
        q = queries[start:start + _QUERY_CHUNK]
        d = np.sqrt(np.maximum(np.square(q).sum(1)[:, None] + target_sq[None, :]
                               - 2.0 * q @ targets.T, 0.0))
        order = np.argsort(d, axis=1, kind="stable")[:, :top]
        best[start:start + len(q)] = order
        dist[start:start + len(q)] = np.take_along_axis(d, order, axis=1)
    return best, dist


def _check_pairs_present(category: np.ndarray, order: list[int], side: str, names) -> None:
    for c in order:
        if not (category == c).any():
            raise BadInput(f"no {side} file is of category {names[c] if names else c!r}",
                           "label a few files of every matched category")


def match_collections(audio_x: np.ndarray, image_x: np.ndarray,
                      audio_labels: np.ndarray | None = None,
                      image_labels: np.ndarray | None = None,
                      pairs: list[tuple[int, int]] | None = None,
                      n_classes: tuple[int, int] = (0, 0), config: MatchConfig = MatchConfig(),
                      quiet: bool = True, names: tuple[list, list] | None = None) -> Matches:
    """Train both networks and match every audio file to images and every image to audio.

    Args:
        audio_x, image_x: Feature rows of each collection.
        audio_labels, image_labels: Category index per file (-1 unlabelled), or None for an
            unsupervised matching (both None).
        pairs: The category matching (audio category, image category) when labelled.
        n_classes: Number of (audio, image) categories.
        config: Networks, method and sizes.
        quiet: Hide progress bars.
        names: (audio names, image names) for messages.

    Raises:
        BadInput: Labels on one side only, fewer than 2 categories labelled on a side, or a
            matched category with no file.
    """
    import time

    from instrument.learn import mapping

    start = time.perf_counter()
    labelled = audio_labels is not None or image_labels is not None
    if labelled and (audio_labels is None or image_labels is None or not pairs):
        raise BadInput("labels must cover both collections, with a category matching",
                       "label a few audio files and a few images, and give --pairs")
    fa, ca, la = train_side(audio_x, audio_labels, n_classes[0], config.audio_sae, quiet, "audio SAE")
    fi, ci, li = train_side(image_x, image_labels, n_classes[1], config.image_sae, quiet, "image SAE")
    top = config.top
    if labelled:
        order_a, order_i = [a for a, _ in pairs], [i for _, i in pairs]
        _check_pairs_present(ca, order_a, "audio", names[0] if names else None)
        _check_pairs_present(ci, order_i, "image", names[1] if names else None)
    if config.method == "l2" and labelled:
        pa = np.hstack([la[:, order_a], PROFILE_WEIGHT * category_profiles(fa, ca, order_a)])
        pi = np.hstack([li[:, order_i], PROFILE_WEIGHT * category_profiles(fi, ci, order_i)])
        audio_best, audio_dist = nearest(pa, pi, top)
        image_best, image_dist = nearest(pi, pa, top)
    elif config.method == "l2":
        ga = mapping.whitened_axes(fa, config.dims)
        gi = mapping.whitened_axes(fi, config.dims)
        d = min(ga.shape[1], gi.shape[1])
        ga, gi = ga[:, :d], gi[:, :d]
        audio_best, audio_dist = nearest(mapping.transfer(ga, gi, 1, config.seed), gi, top)
        image_best, image_dist = nearest(mapping.transfer(gi, ga, 1, config.seed), ga, top)
    else:
        audio_best, audio_dist = _mlp_direction(fa, fi, ca, ci, pairs if labelled else None,
                                                config, quiet, "audio -> images")
        reverse = [(i, a) for a, i in pairs] if labelled else None
        image_best, image_dist = _mlp_direction(fi, fa, ci, ca, reverse, config, quiet,
                                                "images -> audio")
    return Matches(audio_best, audio_dist, image_best, image_dist, ca, ci, fa, fi,
                   time.perf_counter() - start)


def _mlp_direction(source: np.ndarray, target: np.ndarray, source_cat: np.ndarray,
                   target_cat: np.ndarray, pairs: list[tuple[int, int]] | None,
                   config: MatchConfig, quiet: bool, desc: str) -> tuple[np.ndarray, np.ndarray]:
    """§3.3's third network from ``source`` features to ``target`` features, then l2."""
    from instrument.learn import mapping

    dims = min(config.dims, source.shape[1], target.shape[1])
    if pairs is None:
        paired = mapping.pair_structure(source, target, dims=dims, seed=config.seed)
    else:
        paired = mapping.pair_labels(source, target, source_cat, target_cat, dict(pairs),
                                     dims=dims, seed=config.seed)
    from instrument.learn.autoencoder import torch_settings

    batch = 64
    # A small network trains fastest on one thread (the SAE's rule, from the largest product).
    with torch_settings(batch * config.mlp_hidden * max(source.shape[1], target.shape[1])):
        net = mapping.MappingMLP(source.shape[1], target.shape[1], hidden=config.mlp_hidden,
                                 seed=config.seed)
        net.fit(source, target[paired], epochs=config.mlp_epochs, batch_size=batch,
                seed=config.seed, quiet=quiet, desc=desc)
        predicted = net.predict(source).astype(np.float64)
    return nearest(predicted, target, config.top)
