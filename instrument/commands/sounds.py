"""`instrument sounds`: build the random FM sound bank (corpus) or describe one."""

from __future__ import annotations

from instrument.commands.argtypes import (
    SAMPLE_RATE,
    SEED,
    existing_file,
    float_in,
    int_in,
)

NAME = "sounds"
HELP = "build the corpus of random FM sounds and their spectral features, or describe one"


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(title="actions", metavar="ACTION", dest="action")
    sub.required = True
    build = sub.add_parser("build", help="draw random FM parameters, render, store features",
                           description="Draw N random FM sounds (uniform in 0..1 parameter "
                                       "space), render them and store their parameters and "
                                       "spectral features. Same settings and seed -> the "
                                       "same file.")
    build.add_argument("--n", type=int_in(20, 200_000), default=5000, metavar="N",
                       help="number of sounds (default 5000)")
    build.add_argument("--seconds", type=float_in(0, 10, "s", low_open=True), default=1.0, metavar="S",
                       help="length of each sound (default 1)")
    build.add_argument("--rate", type=SAMPLE_RATE, default=22050, metavar="HZ",
                       help="sample rate of the renders (default 22050)")
    build.add_argument("--seed", type=SEED, default=0, metavar="SEED",
                       help="random seed (default 0)")
    build.add_argument("--features", choices=("bands", "raw"), default="bands",
                       help="bands: log-spaced band levels (default); raw: every FFT bin")
    build.add_argument("--bands", type=int_in(1, 1024), default=64, metavar="B",
                       help="number of bands with --features bands (default 64)")
    build.add_argument("--workers", type=int_in(1, 64), metavar="T",
                       help="threads (default: available CPUs, at most 4)")
    build.add_argument("--out", required=True, metavar="FILE.npz", help="bank file to write")
    build.add_argument("--force", action="store_true", help="replace an existing --out file")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    audio = build.add_argument_group(
        "your own audio", "slice audio files into a bank instead of rendering FM sounds "
                          "(--rate is the bank rate, --seconds how much of each slice the "
                          "features describe)")
    audio.add_argument("--from-audio", nargs="+", metavar="DIR|FILE",
                       help="audio files (WAV, FLAC, OGG, MP3, AIFF) or folders of them")
    audio.add_argument("--slice", type=_slice_mode, default=("onsets", None),
                       metavar="onsets|fixed:SECONDS|whole",
                       help="cut at onsets (spectral flux; default), every SECONDS, or one "
                            "sound per file")
    audio.add_argument("--max-slice-seconds", type=float_in(0, 60, "s", low_open=True),
                       default=4.0, metavar="S",
                       help="cut longer slices to S seconds (default 4)")
    audio.add_argument("--embed", action="store_true",
                       help="keep the slices' audio inside the bank (the files are then not "
                            "needed to play)")
    build.add_argument("--synth", metavar="FILE.py|FILE.pd",
                       help="your own synth instead of FM: a pyo synth file (imported: it "
                            "is your code) or a vanilla Pd patch; --n random sounds of it")
    info = sub.add_parser("info", help="describe a sound bank file")
    info.add_argument("bank", type=existing_file, metavar="FILE.npz")


def _slice_mode(text: str):
    import argparse

    if text in ("onsets", "whole"):
        return text, None
    if text.startswith("fixed:"):
        try:
            seconds = float(text[6:])
        except ValueError:
            seconds = -1.0
        if 0.005 <= seconds <= 600:
            return "fixed", seconds
    raise argparse.ArgumentTypeError(f"{text!r} is not onsets, fixed:SECONDS (0.005..600) "
                                     "or whole")


def run(args) -> int:
    if args.action == "build":
        if args.from_audio and args.synth:
            from instrument.errors import BadInput

            raise BadInput("--from-audio and --synth cannot be used together",
                           "build a bank from audio files, or from a synth, one at a time")
        if args.synth:
            return _build_synth(args)
        return _build_audio(args) if args.from_audio else _build(args)
    return _info(args)


def _build_synth(args) -> int:
    import time

    from instrument.config import FeatureConfig, SoundConfig
    from instrument.formats.outputs import check_output

    check_output(args.out, args.force)
    sound_cfg = SoundConfig(n_sounds=args.n, seconds=args.seconds, rate=args.rate,
                            seed=args.seed)
    feature_cfg = FeatureConfig(kind=args.features, n_bands=args.bands)
    start = time.perf_counter()
    if args.synth.lower().endswith(".pd"):
        from instrument.sound.pd_synth import build_pd_bank

        bank = build_pd_bank(args.synth, sound_cfg, feature_cfg, quiet=args.quiet)
    else:
        from instrument.sound.user_synth import build_pyo_bank

        bank = build_pyo_bank(args.synth, sound_cfg, feature_cfg, quiet=args.quiet)
    bank.save(args.out)
    print(f"{bank.kind} bank: {len(bank)} sounds of {args.synth} x {bank.feature_dim} "
          f"features -> {args.out} ({time.perf_counter() - start:.2f} s)")
    return 0


def _build_audio(args) -> int:
    import sys
    import time

    from instrument.config import FeatureConfig, SoundConfig
    from instrument.formats.outputs import check_output
    from instrument.sound.audio_bank import build_audio_bank

    check_output(args.out, args.force)  # before reading hours of audio
    start = time.perf_counter()
    mode, fixed = args.slice
    bank, report = build_audio_bank(
        args.from_audio, args.out, SoundConfig(seconds=args.seconds, rate=args.rate),
        FeatureConfig(kind=args.features, n_bands=args.bands), mode=mode, fixed_seconds=fixed,
        max_slice_seconds=args.max_slice_seconds, embed=args.embed, quiet=args.quiet,
        log=lambda line: print(line, file=sys.stderr))
    bank.save(args.out)
    skipped = f", {len(report.skipped)} skipped" if report.skipped else ""
    silent = f", {report.silent_slices} silent slices left out" if report.silent_slices else ""
    print(f"audio bank: {len(bank)} slices from {report.files_used} file(s) "
          f"({report.audio_seconds:.1f} s of audio{skipped}{silent}) x {bank.feature_dim} "
          f"features -> {args.out} ({time.perf_counter() - start:.2f} s)")
    return 0


def _build(args) -> int:
    import time

    from instrument.config import FeatureConfig, SoundConfig
    from instrument.formats.outputs import check_output
    from instrument.sound.bank import build_sound_bank

    check_output(args.out, args.force)  # before rendering thousands of sounds
    sound_cfg = SoundConfig(n_sounds=args.n, seconds=args.seconds, rate=args.rate,
                            seed=args.seed)
    feature_cfg = FeatureConfig(kind=args.features, n_bands=args.bands)
    start = time.perf_counter()
    bank = build_sound_bank(sound_cfg, feature_cfg, quiet=args.quiet, workers=args.workers)
    bank.save(args.out)
    print(f"sound bank: {len(bank)} sounds x {bank.feature_dim} features -> {args.out} "
          f"({time.perf_counter() - start:.2f} s)")
    return 0


def _info(args) -> int:
    import numpy as np

    from instrument.sound.bank import SoundBank

    bank = SoundBank.load(args.bank)
    cfg = bank.sound_config
    if bank.kind == "audio":
        src = bank.sources
        lengths = src.slices[:, 2] / src.rate
        print(f"{args.bank}: audio bank, {len(bank)} slices from {len(src.files)} file(s) at "
              f"{src.rate} Hz{' (audio embedded)' if src.embedded else ''}; slices "
              f"{lengths.min():.3g}..{lengths.max():.3g} s, median {np.median(lengths):.3g} s")
        print(f"features of the first {cfg.seconds:g} s: "
              f"{feature_text(bank.feature_config, src.rate, bank.feature_dim)}")
        return 0
    print(f"{args.bank}: {len(bank)} sounds of {cfg.seconds:g} s at {cfg.rate} Hz, "
          f"seed {cfg.seed}")
    print(f"features: {feature_text(bank.feature_config, cfg.rate, bank.feature_dim)}")
    physical = bank.params_physical()
    for i, param in enumerate(bank.table):
        col = physical[:, i]
        print(f"  {param.name:<11} {param.scale} {param.range_text:<14} drawn "
              f"{plain(col.min(), param.unit)}..{plain(col.max(), param.unit)}, "
              f"median {plain(np.median(col), param.unit)}")
    from instrument.sound.params import PERFORMANCE_RATE, carson_bandwidth

    widest = float(carson_bandwidth(physical, bank.table).max()) if len(bank) else 0.0
    if widest > 0:
        fits = "fits under" if widest <= PERFORMANCE_RATE / 2 else "PASSES (aliasing)"
        print(f"  widest FM band (Carson's rule) {widest:.0f} Hz: {fits} the "
              f"{PERFORMANCE_RATE / 2:.0f} Hz Nyquist of {PERFORMANCE_RATE} Hz playback")
    return 0


def plain(value: float, unit: str = "") -> str:
    """A value in plain decimals with its unit (params.format_value)."""
    from instrument.sound.params import format_value

    return format_value(value, unit)


def feature_text(cfg, rate: float, dim: int) -> str:
    """What the features are, in words (not the config's Python repr)."""
    top = cfg.max_hz if cfg.max_hz is not None else rate / 2
    if cfg.kind == "bands":
        what = (f"{cfg.n_bands} {cfg.band_scale}-spaced FFT bands {plain(cfg.min_hz, 'Hz')}.."
                f"{plain(top, 'Hz')}")
    else:
        what = f"{dim} values, every FFT bin (raw single-sided spectrum)"
    window = "Hann window" if cfg.window == "hann" else "no window"
    scale = (f"0..1 over {cfg.db_range:g} dB" if cfg.compression == "db"
             else f"{cfg.compression} compression")
    return f"{what}, {window}, {scale}"
