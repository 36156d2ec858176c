"""What `instrument match` does: read both folders, train and match, measure, write JSON and PNG."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

from instrument.matching.collection import Collection, read_collection
from instrument.matching.labels import Labels, assign_labels, parse_pairs
from instrument.matching.match import MatchConfig, Matches, match_collections


@dataclass
class MatchRun:
    """Everything one run produced."""

    audio: Collection
    images: Collection
    labels: Labels | None
    pairs: list[tuple[int, int]] | None
    matches: Matches
    quality: dict
    config: MatchConfig


def read_both(args, say: Callable[[str], None]) -> tuple[Collection, Collection]:
    """Both collections, bad files skipped with a line each."""
    from instrument.matching import audio_files, images

    if os.path.isfile(args.audio):
        audio = read_bank(args.audio)
    else:
        audio = read_collection("audio", args.audio, audio_files.AUDIO_EXTENSIONS,
                                audio_files.file_features, quiet=args.quiet, say=say)
    kind = args.image_features
    pictures = read_collection("images", args.images, images.IMAGE_EXTENSIONS,
                               lambda path: images.file_features(path, kind), quiet=args.quiet, say=say)
    return audio, pictures


def read_bank(path: str) -> Collection:
    """The sounds of a sound bank as the audio side: the bank's own features, one row each.

    Rows are named ``sound 00017`` (the bank index, what ``instrument perform`` and the
    control stream call ``sound``); the bank is validated by :meth:`SoundBank.load`.
    """
    from instrument.errors import BadInput
    from instrument.matching.collection import MAX_FILES, MIN_FILES
    from instrument.sound.bank import SoundBank

    bank = SoundBank.load(path)
    if not MIN_FILES <= len(bank) <= MAX_FILES:
        raise BadInput(f"sound bank {path} has {len(bank)} sounds",
                       f"match a bank of {MIN_FILES}..{MAX_FILES} sounds")
    names = [f"sound {i:05d}" for i in range(len(bank))]
    return Collection("audio", os.path.abspath(path), names,
                      np.asarray(bank.features, np.float32))


def _labels(path: str, audio: Collection, images: Collection) -> Labels:
    skipped = {c.absolute(p) for c in (audio, images) for p, _ in c.skipped}
    return assign_labels(path, [audio.absolute(p) for p in audio.paths],
                         [images.absolute(p) for p in images.paths], skipped)


def run_match(args, say: Callable[[str], None]) -> MatchRun:
    """Read, (label,) train, match and measure, as the command line asks."""
    audio, images = read_both(args, say)
    labels = pairs = None
    if args.labels:
        labels = _labels(args.labels, audio, images)
        pairs = parse_pairs(args.pairs, labels)
    config = MatchConfig(method=args.method, top=args.top).seeded(args.seed)
    say(f"matching {len(audio.paths)} audio files with {len(images.paths)} images "
        f"({args.method}, {'with labels' if labels else 'no labels'})...")
    matches = match_collections(
        audio.features, images.features,
        labels.audio if labels else None, labels.images if labels else None, pairs,
        (len(labels.audio_names), len(labels.image_names)) if labels else (0, 0), config,
        quiet=args.quiet, names=(labels.audio_names, labels.image_names) if labels else None)
    quality = measure(args, audio, images, matches)
    return MatchRun(audio, images, labels, pairs, matches, quality, config)


def measure(args, audio: Collection, images: Collection, matches: Matches) -> dict:
    """Structure kept (always) and, with --truth, category precision and purity."""
    from instrument.matching import quality

    out = {"structure": {
        "audio_to_images": quality.structure(matches.audio_features, matches.image_features,
                                             matches.audio_best, args.seed),
        "images_to_audio": quality.structure(matches.image_features, matches.audio_features,
                                             matches.image_best, args.seed)}}
    if args.truth:
        truth = _labels(args.truth, audio, images)
        out["truth"] = os.path.abspath(args.truth)
        out["purity"] = {
            "audio_to_images": quality.purity(matches.audio_best, truth.audio, truth.images, args.seed),
            "images_to_audio": quality.purity(matches.image_best, truth.images, truth.audio, args.seed)}
        try:
            pairs = parse_pairs(args.pairs, truth)
        except ValueError:  # the truth's names do not say which categories go together
            pairs = None
        if pairs:
            out["precision"] = {
                "audio_to_images": quality.precision(matches.audio_best, truth.audio, truth.images, pairs),
                "images_to_audio": quality.precision(matches.image_best, truth.images, truth.audio,
                                                     [(b, a) for a, b in pairs])}
    return out


def _category(labels: Labels | None, side: str, index: int, cats) -> str | None:
    if labels is None or cats[index] < 0:
        return None
    return (labels.audio_names if side == "audio" else labels.image_names)[int(cats[index])]


def to_json(args, run: MatchRun, fmt: str) -> dict:
    """The matches.json object: every file of each side with its best matches, both ways."""
    m, lab = run.matches, run.labels

    def entries(side, coll, best, dist, cats, other, other_side, other_cats, key):
        own = (lab.audio if side == "audio" else lab.images) if lab else None
        rows = []
        for i, path in enumerate(coll.paths):
            rows.append({
                "path": path, "category": _category(lab, side, i, cats),
                "labelled": bool(lab is not None and own[i] >= 0),
                key: [{"path": other.paths[j], "distance": round(float(d), 6),
                       "category": _category(lab, other_side, j, other_cats)}
                      for j, d in zip(best[i], dist[i])]})
        return rows

    return {
        "format": fmt, "version": 1,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "audio_dir": None if os.path.isfile(run.audio.root) else run.audio.root,
        "audio_bank": run.audio.root if os.path.isfile(run.audio.root) else None,
        "images_dir": run.images.root,
        "labels": os.path.abspath(args.labels) if args.labels else None,
        "pairs": ({lab.audio_names[a]: lab.image_names[b] for a, b in run.pairs} if run.pairs else None),
        "method": args.method, "top": args.top, "image_features": args.image_features,
        "seed": args.seed, "seconds": round(m.seconds, 3),
        "config": dataclasses.asdict(run.config),
        "skipped": [{"path": os.path.join(c.root, p), "reason": why}
                    for c in (run.audio, run.images) for p, why in c.skipped],
        "quality": run.quality,
        "audio": entries("audio", run.audio, m.audio_best, m.audio_distance, m.audio_category,
                         run.images, "images", m.image_category, "best_images"),
        "images": entries("images", run.images, m.image_best, m.image_distance, m.image_category,
                          run.audio, "audio", m.audio_category, "best_audio"),
    }


def write_outputs(args, run: MatchRun, fmt: str) -> None:
    """Write ``matches.json`` and ``contact_sheet.png`` into --out, each atomically."""
    from instrument.formats.safe_io import atomic_write
    from instrument.matching.contact_sheet import draw_contact_sheet, pick_rows

    text = json.dumps(to_json(args, run, fmt), indent=1, allow_nan=False) + "\n"
    with atomic_write(os.path.join(args.out, "matches.json"), what="matches") as handle:
        handle.write(text)
    m, lab = run.matches, run.labels
    rows = pick_rows(m.audio_category, len(run.audio.paths), lab.audio if lab else None)

    def note(side, i, cats):
        own = (lab.audio if side == "audio" else lab.images) if lab else None
        name = _category(lab, side, i, cats) or ""
        return name + (" (labelled)" if own is not None and own[i] >= 0 else "")

    draw_contact_sheet(
        os.path.join(args.out, "contact_sheet.png"),
        [run.audio.paths[i] for i in rows], [note("audio", i, m.audio_category) for i in rows],
        [[run.images.paths[j] for j in m.audio_best[i]] for i in rows],
        [[note("images", j, m.image_category) for j in m.audio_best[i]] for i in rows],
        [[run.images.absolute(run.images.paths[j]) for j in m.audio_best[i]] for i in rows],
        f"Best {args.top} images for each audio file ({args.method}, "
        f"{'with labels' if lab else 'no labels'})")


def summary_lines(args, run: MatchRun) -> list[str]:
    """What the command prints when it is done."""
    q = run.quality
    sounds = "sounds of the bank" if os.path.isfile(run.audio.root) else "audio files"
    lines = [f"matched {len(run.audio.paths)} {sounds} and {len(run.images.paths)} images "
             f"in {run.matches.seconds:.1f} s ({len(run.audio.skipped) + len(run.images.skipped)} "
             f"files skipped)"]
    for key, label in (("audio_to_images", "audio -> images"), ("images_to_audio", "images -> audio")):
        s = q["structure"][key]
        line = (f"{label}: structure kept (trustworthiness) {s['trustworthiness']:.3f} "
                f"(random {s['chance']:.3f})")
        if "precision" in q:
            p = q["precision"][key]
            line += (f", top-{args.top} in the matched category {100 * p['mean']:.1f}% "
                     f"(random {100 * p['chance']:.1f}%)")
        if "purity" in q:
            u = q["purity"][key]
            line += f", purity {100 * u['mean']:.1f}% (random {100 * u['chance']:.1f}%)"
        lines.append(line)
    lines.append(f"wrote {os.path.join(args.out, 'matches.json')} and "
                 f"{os.path.join(args.out, 'contact_sheet.png')}")
    return lines
