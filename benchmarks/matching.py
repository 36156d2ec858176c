"""Matching quality on generated collections with a known category matching (paper §4.1, §5.2).

For each seed, writes the generated demo collections (``instrument match --generate-demo``:
4 audio families and 4 image categories, ``--per-category`` files each, ``--labelled`` of each
labelled), then matches them four ways: l2 and the third network (mlp), each with the labels
and without. Every figure is printed beside what random picks would give:

  * top-10 matched: share of each audio file's best 10 images in the category matched to the
    audio file's true category (needs labels to know which category is "matched");
  * files >= 90%: share of audio files with at least 9 of their 10 best in it;
  * purity: share of each audio category's matches in the one image category it goes to most
    (no category matching needed, so it scores the unlabelled runs too);
  * trustworthiness (k=10) between the audio features and their best images' features.

Usage:
    python benchmarks/matching.py [--seeds 3] [--per-category 40] [--labelled 5] [--json]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time

import numpy as np

from instrument.cli import Parser
from instrument.commands.argtypes import positive_int

PROG = "matching.py"


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=positive_int, default=3, help="demo collections 0..N-1 (3)")
    parser.add_argument("--per-category", type=positive_int, default=40, help="files per category (40)")
    parser.add_argument("--labelled", type=positive_int, default=5, help="labelled per category (5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object, no table")
    return parser


def run_seed(seed: int, per_category: int, labelled: int) -> dict:
    from instrument.matching import audio_files, images, quality
    from instrument.matching.collection import read_collection
    from instrument.matching.generate import pairs_text, write_demo
    from instrument.matching.labels import assign_labels, parse_pairs
    from instrument.matching.match import MatchConfig, match_collections

    with tempfile.TemporaryDirectory() as root:
        write_demo(root, per_category=per_category, labelled=labelled, seed=seed)
        audio = read_collection("audio", f"{root}/audio", audio_files.AUDIO_EXTENSIONS,
                                audio_files.file_features, quiet=True)
        pics = read_collection("images", f"{root}/images", images.IMAGE_EXTENSIONS,
                               images.file_features, quiet=True)
        files = ([audio.absolute(p) for p in audio.paths], [pics.absolute(p) for p in pics.paths])
        labels = assign_labels(f"{root}/labels.csv", *files)
        truth = assign_labels(f"{root}/truth.csv", *files)
    pairs, true_pairs = parse_pairs(pairs_text(), labels), parse_pairs(pairs_text(), truth)
    rows = {}
    for method in ("l2", "mlp"):
        for with_labels in (True, False):
            start = time.perf_counter()
            extra = ((labels.audio, labels.images, pairs, (4, 4)) if with_labels
                     else (None, None, None, (0, 0)))
            m = match_collections(audio.features, pics.features, *extra,
                                  config=MatchConfig(method=method).seeded(seed))
            p = quality.precision(m.audio_best, truth.audio, truth.images, true_pairs)
            rows[f"{method}, {'labels' if with_labels else 'no labels'}"] = {
                "precision": p["mean"] if with_labels else None,
                "at_least_90": p["at_least_90"] if with_labels else None,
                "precision_chance": p["chance"], "at_least_90_chance": p["at_least_90_chance"],
                "purity": quality.purity(m.audio_best, truth.audio, truth.images, seed),
                "structure": quality.structure(m.audio_features, m.image_features, m.audio_best, seed),
                "seconds": time.perf_counter() - start}
    return rows


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    results = [run_seed(seed, args.per_category, args.labelled) for seed in range(args.seeds)]
    if args.json:
        print(json.dumps({"seeds": list(range(args.seeds)), "per_category": args.per_category,
                          "labelled": args.labelled, "results": results}))
        return 0

    def cell(values, fmt="{:.1f}%", scale=100):
        values = [v for v in values if v is not None]
        if not values:
            return "-"
        return (fmt.format(scale * np.mean(values)) + " (" + "-".join(
            fmt.format(scale * v).rstrip("%") for v in (min(values), max(values))) + ")")

    n = args.per_category * 4
    print(f"Matching {n} generated audio files with {n} images, {args.labelled} labels per "
          f"category when labelled; mean (min-max) over seeds {list(range(args.seeds))}")
    print(f"| {'method':<16} | {'top-10 matched':<19} | {'files >= 90%':<19} | {'purity':<19} | "
          f"{'trustworthiness':<19} | time")
    print("|" + "|".join("-" * w for w in (18, 21, 21, 21, 21, 7)))
    for key in results[0]:
        r = [res[key] for res in results]
        print(f"| {key:<16} | {cell([x['precision'] for x in r]):<19} | "
              f"{cell([x['at_least_90'] for x in r]):<19} | "
              f"{cell([x['purity']['mean'] for x in r]):<19} | "
              f"{cell([x['structure']['trustworthiness'] for x in r], '{:.3f}', 1):<19} | "
              f"{np.mean([x['seconds'] for x in r]):.1f} s")
    r = [res["l2, labels"] for res in results]
    print(f"| {'random':<16} | {cell([x['precision_chance'] for x in r]):<19} | "
          f"{cell([x['at_least_90_chance'] for x in r], '{:.3f}%'):<19} | "
          f"{cell([x['purity']['chance'] for x in r]):<19} | "
          f"{cell([x['structure']['chance'] for x in r], '{:.3f}', 1):<19} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
