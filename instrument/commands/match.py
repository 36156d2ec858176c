"""`instrument match`: match a folder of audio files with a folder of images, both ways (paper §4.1)."""

from __future__ import annotations

import argparse
import os
import sys

from instrument.commands.argtypes import existing_dir, existing_file, nonnegative_int, positive_int
from instrument.errors import BadInput

NAME = "match"
HELP = ("match audio files with images and images with audio files (paper §4.1): "
        "JSON of the best matches and a contact sheet PNG")
OUTPUT_FORMAT = "instrument-matches"
OUTPUT_FILES = ("matches.json", "contact_sheet.png")  # what runner.write_outputs writes
MAX_TOP = 100


def top_count(text: str) -> int:
    value = positive_int(text)
    if value > MAX_TOP:
        raise argparse.ArgumentTypeError(f"--top {value} is more than {MAX_TOP}")
    return value


def folder_or_bank(text: str) -> str:
    """An existing folder, or an existing sound bank file."""
    if os.path.isdir(text):
        return text
    if os.path.isfile(text):
        return existing_file(text)
    raise argparse.ArgumentTypeError(f"{text!r} is neither a folder nor a sound bank file")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--audio", type=folder_or_bank, metavar="DIR|BANK",
                        help="folder of audio files (WAV, FLAC, OGG, AIFF, AU, MP3; subfolders "
                             "too), or a sound bank file (.npz from 'instrument sounds build')")
    parser.add_argument("--images", type=existing_dir, metavar="DIR",
                        help="folder of images (PNG, JPEG; subfolders too)")
    parser.add_argument("--labels", type=existing_file, metavar="FILE",
                        help="CSV of path,category rows for a few files of each side "
                             "(paths relative to the CSV's folder)")
    parser.add_argument("--pairs", metavar="A=B,...",
                        help='category matching, audio=image, e.g. "classical=cats,blues=outdoor" '
                             "(default: categories with the same name)")
    parser.add_argument("--method", choices=("l2", "mlp"), default="l2",
                        help="l2 in shared coordinates (default) or a third network (paper §3.3)")
    parser.add_argument("--top", type=top_count, default=10, metavar="N",
                        help=f"best matches kept per file, 1..{MAX_TOP} (10)")
    parser.add_argument("--image-features", choices=("spectrum", "pixels"), default="spectrum",
                        help="texture spectrum of the grey image (default) or 16x16 colour pixels")
    parser.add_argument("--truth", type=existing_file, metavar="FILE",
                        help="CSV of every file's true category: only to measure the matching")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="seeds both networks (0)")
    parser.add_argument("--out", metavar="DIR", help="folder for matches.json and contact_sheet.png")
    parser.add_argument("--force", action="store_true",
                        help="write into a non-empty --out folder that is not an earlier match output")
    parser.add_argument("--generate-demo", metavar="DIR",
                        help="write generated demo collections (audio/, images/, labels.csv, "
                             "truth.csv) to DIR and stop")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or messages")


def run(args: argparse.Namespace) -> int:
    from instrument.formats.outputs import check_output_folder

    say = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr))
    if args.generate_demo:
        from instrument.matching.generate import DEMO_FORMAT, pairs_text, write_demo

        check_output_folder(args.generate_demo, ("labels.csv", "truth.csv", "demo.json"),
                            "demo.json", DEMO_FORMAT, args.force, flag="--generate-demo")
        manifest = write_demo(args.generate_demo)
        d = args.generate_demo
        print(f"wrote {manifest['per_category'] * 4} audio files and {manifest['per_category'] * 4} "
              f"images to {d}; match them with:\n  instrument match --audio {d}/audio --images "
              f"{d}/images --labels {d}/labels.csv --pairs \"{pairs_text()}\" --truth "
              f"{d}/truth.csv --out {d}/matches")
        return 0
    for flag in ("audio", "images", "out"):
        if not getattr(args, flag):
            raise BadInput(f"--{flag} is missing", "give --audio DIR --images DIR --out DIR "
                           "(or --generate-demo DIR to make demo collections)")
    if args.pairs and not args.labels:
        raise BadInput("--pairs needs --labels", "label a few files of each category in a CSV")
    if os.path.isfile(args.audio) and (args.labels or args.truth):
        raise BadInput("the sounds of a sound bank have no files to label",
                       "match a bank without --labels/--truth, or give a folder of audio files")
    # The one output rule: an empty folder, an earlier match output, or --force; never a
    # collection's folder, and neither file may be an input, a folder or a pipe.
    check_output_folder(args.out, OUTPUT_FILES, "matches.json", OUTPUT_FORMAT, args.force,
                        (("--audio", args.audio), ("--images", args.images)), "--out",
                        (("--labels", args.labels), ("--truth", args.truth)))
    from instrument.matching import runner

    result = runner.run_match(args, say)
    runner.write_outputs(args, result, OUTPUT_FORMAT)
    for line in runner.summary_lines(args, result):
        print(line)
    return 0
