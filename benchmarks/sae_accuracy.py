"""The paper's Table 1 protocol for the stacked autoencoder, on data available offline.

For each split: pretrain the SAE greedily on the training images (no labels), then report on
the test images, all on the same split in one run:

  * SAE + softmax, fine-tuned   the whole stack and a softmax head trained on the labels
  * softmax on frozen SAE       multinomial logistic regression on the top layer's features
  * logistic regression         multinomial logistic regression on the (standardised) pixels
  * MLPClassifier               sklearn's MLP of the same hidden sizes and activation

``--dataset digits`` (default): sklearn's 1797 8x8 digits, stratified 75/25 splits with seeds
0..N-1. ``--dataset mnist --mnist DIR``: the standard 60k/10k split from the 4 IDX files in
DIR (raw or .gz); ``--dataset stl10 --stl10 DIR``: the paper's reduced STL-10 (airplane, car,
cat, dog: 2,000 train / 3,200 test) from the binary files, averaged down to ``--image-side``
pixels; ``--dataset gtzan --gtzan DIR``: genre folders of clips, each genre split down the
middle (500/500 on the 1,000 clips), each clip as 128 pooled spectral features. On these
fixed splits seeds only change the initialisation. The table prints the random-chance
figure and the paper's Table 1 figure beside ours. Seeds run in parallel worker
processes (one thread each: small networks train fastest that way, and both cores stay busy).

Usage:
    python benchmarks/sae_accuracy.py --dataset digits --png out/sae_features.png
    python benchmarks/sae_accuracy.py --dataset mnist --mnist ~/data/mnist --json
    python benchmarks/sae_accuracy.py --dataset stl10 --stl10 ~/data/stl10_binary
    python benchmarks/sae_accuracy.py --dataset gtzan --gtzan ~/data/gtzan/genres
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import warnings

from instrument.cli import Parser
from instrument.commands.argtypes import existing_dir, positive_int
from instrument.config import SAEConfig
from instrument.errors import BadInput, InstrumentError

PROG = "sae_accuracy.py"
ACTIVATION_TO_SKLEARN = {"sigmoid": "logistic", "tanh": "tanh", "relu": "relu"}
BASELINES = {
    "frozen_sae_softmax": "softmax on frozen SAE features",
    "logistic_regression": "logistic regression, raw pixels",
    "mlp": "MLPClassifier, same size",
}
# The paper's Table 1 ("Our Result"); digits is not in the paper.
PAPER = {"mnist": 0.9776, "stl10": 0.8019, "gtzan": 0.4701}
DATASETS = ("digits", "mnist", "stl10", "gtzan")


def hidden_sizes(text: str) -> tuple[int, ...]:
    """``200,200`` -> (200, 200)."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not comma-separated sizes like 200,200") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: every hidden size must be >= 1")
    return sizes


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=DATASETS, default=None,
                        help="digits (sklearn, default), mnist, stl10 or gtzan (each needs its DIR)")
    parser.add_argument("--mnist", type=existing_dir, metavar="DIR",
                        help="directory with the 4 MNIST IDX files (raw or .gz)")
    parser.add_argument("--stl10", type=existing_dir, metavar="DIR",
                        help="directory with STL-10's train_X.bin, train_y.bin, test_X.bin, test_y.bin")
    parser.add_argument("--gtzan", type=existing_dir, metavar="DIR",
                        help="directory with one folder of audio clips per genre")
    parser.add_argument("--image-side", type=positive_int, default=32, choices=(8, 12, 16, 24, 32, 48, 96),
                        metavar="N", help="STL-10 images averaged down to N x N (default 32)")
    parser.add_argument("--seeds", type=positive_int, default=None,
                        help="splits/seeds 0..N-1 (default 5 for digits, 1 otherwise)")
    parser.add_argument("--hidden", type=hidden_sizes, help="hidden sizes, e.g. 200,200 "
                        f"(default {','.join(map(str, SAEConfig().hidden))})")
    parser.add_argument("--epochs", type=positive_int, help="pretraining epochs per layer "
                        f"(default {SAEConfig().epochs})")
    parser.add_argument("--finetune-epochs", type=positive_int,
                        help=f"fine-tuning epochs (default {SAEConfig().finetune_epochs})")
    parser.add_argument("--train-limit", type=positive_int, metavar="N",
                        help="use only the first N training images (quick MNIST runs)")
    parser.add_argument("--jobs", type=positive_int, default=None,
                        help="worker processes (default: CPU cores, at most one per seed)")
    parser.add_argument("--json", action="store_true", help="print one JSON object, no table")
    parser.add_argument("--png", metavar="FILE",
                        help="draw the first-layer features of seed 0 as an image grid")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")
    return parser


def load_split(args, seed: int):
    from instrument.learn import datasets

    if args.dataset == "digits":
        split = datasets.load_digits_split(seed)
    elif args.dataset == "mnist":
        split = datasets.load_mnist(args.mnist)
    elif args.dataset == "stl10":
        split = datasets.load_stl10(args.stl10, side=args.image_side)
    else:
        split = datasets.load_gtzan(args.gtzan, quiet=args.quiet or args.json)
    if args.train_limit:
        split = split._replace(x_train=split.x_train[:args.train_limit],
                               y_train=split.y_train[:args.train_limit])
    return split


def run_seed(job: tuple) -> dict:
    """Train and score every method on one split; runs in a worker process."""
    args, config, seed, parallel, split = job
    if parallel:  # several seeds at once: one thread each keeps the cores busy without contention
        os.environ["INSTRUMENT_TORCH_THREADS"] = "1"
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    from instrument.learn.sae import StackedAutoencoder

    start = time.perf_counter()
    split = split if split is not None else load_split(args, seed)
    n_classes = int(max(split.y_train.max(), split.y_test.max())) + 1
    config = dataclasses.replace(config, seed=seed)
    scores = {}
    with threadpool_limits(1 if parallel else None), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sae = StackedAutoencoder(split.x_train.shape[1], config)
        sae.fit(split.x_train)
        top = [len(config.hidden) - 1]
        frozen = LogisticRegression(max_iter=1000)
        frozen.fit(sae.encode(split.x_train, layers=top), split.y_train)
        scores["frozen_sae_softmax"] = frozen.score(sae.encode(split.x_test, layers=top),
                                                    split.y_test)
        # The pixel pattern that most excites each unit (UFLDL's visualisation): weights act on
        # standardised pixels, so scale back by the pixel std (flat borders stay grey).
        first_layer = sae.layers[0].encoder.weight.detach().numpy() * sae.std
        sae.finetune(split.x_train, split.y_train, n_classes)
        scores["sae_finetuned"] = float(np.mean(sae.predict(split.x_test) == split.y_test))
        scaler = StandardScaler().fit(split.x_train)
        train, test = scaler.transform(split.x_train), scaler.transform(split.x_test)
        raw = LogisticRegression(max_iter=1000).fit(train, split.y_train)
        scores["logistic_regression"] = raw.score(test, split.y_test)
        # sklearn's defaults otherwise (adam, alpha 1e-4, up to 200 epochs, stops on a plateau).
        mlp = MLPClassifier(hidden_layer_sizes=config.hidden, random_state=seed,
                            activation=ACTIVATION_TO_SKLEARN[config.activation])
        scores["mlp"] = mlp.fit(train, split.y_train).score(test, split.y_test)
    return {"seed": seed, "scores": {k: float(v) for k, v in scores.items()},
            "seconds": time.perf_counter() - start, "first_layer": first_layer,
            "image_shape": split.image_shape, "n_train": len(split.x_train),
            "classes": sorted(set(int(v) for v in split.y_train) | set(int(v) for v in split.y_test)),
            "n_test": len(split.x_test)}


def run_all(args, config: SAEConfig, seeds: list[int], fixed=None) -> list[dict]:
    """Every seed; ``fixed`` is the one split of a fixed-split dataset, read once."""
    workers = min(args.jobs or os.cpu_count() or 1, len(seeds))
    jobs = [(args, config, seed, workers > 1, fixed) for seed in seeds]
    if workers == 1:
        return [report(run_seed(job), args) for job in jobs]
    import multiprocessing

    # spawn: a clean interpreter per worker (no forked torch thread pools).
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        return [report(result, args) for result in pool.imap(run_seed, jobs)]


def report(result: dict, args) -> dict:
    if not args.quiet and not args.json:
        print(f"  seed {result['seed']}: fine-tuned SAE "
              f"{100 * result['scores']['sae_finetuned']:.2f}% ({result['seconds']:.0f} s)",
              file=sys.stderr, flush=True)
    return result


def summarise(args, config: SAEConfig, results: list[dict], seconds: float) -> dict:
    import numpy as np

    def stats(key):
        values = np.array([r["scores"][key] for r in results])
        return float(values.mean()), float(values.std())

    mean, std = stats("sae_finetuned")
    n_classes = int(max(max(r["classes"]) for r in results)) + 1
    return {
        "dataset": args.dataset,
        "chance": 1.0 / n_classes, "paper": PAPER.get(args.dataset),
        "accuracy": mean, "accuracy_std": std,
        "accuracies": [r["scores"]["sae_finetuned"] for r in results],
        "baselines": {key: stats(key)[0] for key in BASELINES},
        "baselines_std": {key: stats(key)[1] for key in BASELINES},
        "seeds": [r["seed"] for r in results],
        "n_train": results[0]["n_train"], "n_test": results[0]["n_test"],
        "config": dataclasses.asdict(config),
        "seconds": seconds,
    }


def print_table(summary: dict, results: list[dict], workers: int) -> None:
    cfg = summary["config"]
    split = {"digits": "stratified 75/25 splits", "mnist": "standard 60k/10k split",
             "stl10": "airplane/car/cat/dog, the standard train/test files",
             "gtzan": "each genre split down the middle"}[summary["dataset"]]
    items = "clips" if summary["dataset"] == "gtzan" else "images"
    print(f"SAE accuracy on {summary['dataset']} ({summary['n_train']} train / "
          f"{summary['n_test']} test {items}, {split}, seeds {summary['seeds']})")
    print(f"SAE: hidden {tuple(cfg['hidden'])} {cfg['activation']}, {cfg['epochs']} epochs/layer, "
          f"denoise {cfg['denoise']}, sparsity {cfg['sparsity_target']}x{cfg['sparsity_weight']}, "
          f"fine-tune {cfg['finetune_epochs']} epochs, dropout {cfg['finetune_dropout']}")
    rows = [("sae_finetuned", "SAE + softmax, fine-tuned")] + list(BASELINES.items())
    print(f"| {'method':<33} | {'mean':>7} | {'std':>6} | per seed")
    print(f"|{'-' * 35}|{'-' * 9}|{'-' * 8}|{'-' * 10}")
    for key, name in rows:
        values = [100 * r["scores"][key] for r in results]
        mean = sum(values) / len(values)
        std = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
        print(f"| {name:<33} | {mean:6.2f}% | {std:5.2f}% | "
              + " ".join(f"{v:.2f}" for v in values))
    paper = summary["paper"]
    print(f"| {'random chance':<33} | {100 * summary['chance']:6.2f}% |")
    print(f"| {'the paper (Table 1)':<33} | " + (f"{100 * paper:6.2f}% |" if paper is not None
                                                    else "    n/a | (digits is not in the paper)"))
    print(f"total {summary['seconds']:.1f} s with {workers} worker process(es)")


def draw_features(path: str, weights, image_shape, title: str, max_units: int = 100) -> None:
    """First-layer features as a grid of images (the paper's Figure 2), one tile per unit.

    Args:
        path: PNG to write (parent directories are created).
        weights: (units, rows*cols) pixel patterns, one per hidden unit.
        image_shape: (rows, cols) of an input image.
        title: Figure title.
        max_units: Draw at most this many units (a square grid).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows_px, cols_px = image_shape
    units = weights[:max_units]
    grid = int(np.ceil(np.sqrt(len(units))))
    mosaic = np.full((grid * (rows_px + 1) + 1, grid * (cols_px + 1) + 1), np.nan)
    for i, w in enumerate(units):
        tile = w.reshape(rows_px, cols_px)
        tile = tile / (np.abs(tile).max() or 1.0)  # each unit on its own -1..1 scale
        r, c = divmod(i, grid)
        mosaic[1 + r * (rows_px + 1):(r + 1) * (rows_px + 1),
               1 + c * (cols_px + 1):(c + 1) * (cols_px + 1)] = tile
    fig, ax = plt.subplots(figsize=(6, 6.4))
    ax.imshow(np.ma.masked_invalid(mosaic), cmap="gray", vmin=-1, vmax=1,
              interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fig.savefig(path, dpi=120, bbox_inches="tight")
    except OSError as err:
        raise BadInput(f"cannot write --png {path} ({err.strerror})",
                       "choose a writable path") from None
    finally:
        plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    given = [name for name in DATASETS[1:] if getattr(args, name)]
    if args.dataset is None:
        args.dataset = given[0] if len(given) == 1 else "digits"
    needs = {"mnist": "the 4 IDX files", "stl10": "the binary files",
             "gtzan": "one folder of clips per genre"}
    if args.dataset != "digits" and not getattr(args, args.dataset):
        parser.error(f"--dataset {args.dataset} needs --{args.dataset} DIR "
                     f"({needs[args.dataset]}; none can be downloaded here)")
    for name in given:
        if name != args.dataset:
            parser.error(f"--{name} DIR only goes with --dataset {name}")
    if args.png:
        if os.path.isdir(args.png):
            parser.error(f"--png {args.png!r} is a directory; give a file name like out/features.png")
        png_dir = os.path.dirname(os.path.abspath(args.png))
        try:  # fail now, not after minutes of training
            os.makedirs(png_dir, exist_ok=True)
        except OSError as err:
            parser.error(f"--png {args.png!r}: cannot create directory {png_dir} ({err.strerror})")
        if not os.access(png_dir, os.W_OK):
            parser.error(f"--png {args.png!r}: directory {png_dir} is not writable")
    seeds = list(range(args.seeds or (5 if args.dataset == "digits" else 1)))
    try:
        overrides = {k: v for k, v in (("hidden", args.hidden), ("epochs", args.epochs),
                                      ("finetune_epochs", args.finetune_epochs)) if v}
        config = dataclasses.replace(SAEConfig(), **overrides)
        first = load_split(args, 0)  # bad data files fail here, in one line, before any worker starts
        start = time.perf_counter()
        workers = min(args.jobs or os.cpu_count() or 1, len(seeds))
        if not args.quiet and not args.json:
            print(f"{args.dataset}: {len(seeds)} seed(s) on {workers} worker(s)...",
                  file=sys.stderr, flush=True)
        results = run_all(args, config, seeds, None if args.dataset == "digits" else first)
        summary = summarise(args, config, results, time.perf_counter() - start)
        if args.png:
            draw_features(args.png, results[0]["first_layer"], results[0]["image_shape"],
                          f"First-layer features ({args.dataset}, seed {results[0]['seed']}, "
                          f"before fine-tuning)")
            summary["png"] = args.png
    except InstrumentError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(summary))
    else:
        print_table(summary, results, workers)
        if args.png:
            print(f"first-layer features: {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
