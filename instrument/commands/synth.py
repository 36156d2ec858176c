"""`instrument synth`: render one FM tone to a WAV file with the numpy or the pyo engine."""

from __future__ import annotations

from instrument.commands.argtypes import SAMPLE_RATE, float_in

NAME = "synth"
HELP = "render one FM tone (carrier, ratio, index, amplitude) to a WAV file, numpy or pyo"

# Help text only; the ranges are checked against instrument.sound.params.PARAM_TABLE in run()
# (tests/test_synth.py checks that these texts quote the table's ranges).
PARAM_HELP = {
    "carrier_hz": "carrier frequency, 50..2000 Hz (default 440)",
    "ratio": "modulator frequency / carrier frequency, 0.25..8 (default 2)",
    "index": "modulation index = peak deviation / modulator frequency, 0..10 (default 3)",
    "amplitude": "output gain, 0..1 (default 0.5)",
}
DEFAULTS = {"carrier_hz": 440.0, "ratio": 2.0, "index": 3.0, "amplitude": 0.5}


def add_arguments(parser) -> None:
    for name, text in PARAM_HELP.items():
        # type=float (not a finite-number check) so NaN and out-of-range values reach run(),
        # which names the parameter and its range from the table.
        parser.add_argument("--" + name.replace("_", "-"), dest=name, type=float,
                            default=DEFAULTS[name], metavar="X", help=text)
    parser.add_argument("--seconds", type=float_in(0, 3600, "s", low_open=True), default=1.0, metavar="S",
                        help="length in seconds (default 1, at most 600)")
    parser.add_argument("--engine", choices=("numpy", "pyo"), default="numpy",
                        help="numpy FM (default) or pyo's FM rendered by its offline server "
                             "(pyo fades its output in over 5 ms)")
    parser.add_argument("--rate", type=SAMPLE_RATE, default=44100, metavar="HZ",
                        help="sample rate (default 44100)")
    parser.add_argument("--out", required=True, metavar="FILE.wav",
                        help="WAV file to write (16-bit mono)")
    parser.add_argument("--force", action="store_true", help="replace an existing --out file")


def run(args) -> int:
    from instrument.errors import BadInput
    from instrument.formats.outputs import check_output
    from instrument.sound.params import PARAM_TABLE

    check_output(args.out, args.force)
    values = [PARAM_TABLE.validate(name, getattr(args, name)) for name in PARAM_TABLE.names]
    if args.seconds > 600:
        raise BadInput(f"--seconds {args.seconds:g} is too long", "use at most 600 seconds")
    if not 1000 <= args.rate <= 384000:
        raise BadInput(f"--rate {args.rate} is not a usable sample rate", "use 1000..384000")
    n = int(round(args.seconds * args.rate))
    if args.engine == "numpy":
        from instrument.formats.wav import write_wav
        from instrument.sound.fm import render_fm

        write_wav(args.out, render_fm(*values, n, args.rate), args.rate)
    else:
        from instrument.output.pyo_voice import PyoVoice

        with PyoVoice(backend="offline", rate=args.rate, initial=values) as voice:
            voice.set_params(values)
            voice.render_to_file(args.out, n / args.rate)
    print(f"wrote {args.out}: {args.seconds:g} s at {args.rate} Hz ({args.engine} engine)")
    return 0
