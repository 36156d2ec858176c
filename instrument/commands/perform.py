"""`instrument perform`: play a trained model live, from the mouse, a tablet, OSC or a file."""

from __future__ import annotations

from instrument.commands.argtypes import (
    SAMPLE_RATE,
    float_in,
    host_port,
    int_in,
    listen_address,
    model_dir,
)

NAME = "perform"
# sound/sampler.SAMPLER_MODES (the CLI starts without importing numpy; a test checks they agree)
SAMPLER_MODES = ("start", "loop", "grain")
HELP = ("play a trained instrument live: mouse/tablet window, OSC /wek/inputs or a replayed "
        "recording -> pyo or sounddevice audio and OSC out (Pd, SuperCollider, Max, Wekinator)")


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, type=model_dir, metavar="DIR",
                        help="model bundle directory (from instrument train)")
    parser.add_argument("--audio", choices=("pyo", "sounddevice", "none"), default="pyo",
                        help="audio voice: pyo (default), sounddevice (numpy FM) or none "
                             "(OSC only)")
    parser.add_argument("--audio-backend", choices=("portaudio", "jack"), default="portaudio",
                        help="pyo's audio backend (default portaudio; jack needs jackd running)")
    parser.add_argument("--buffer", type=int_in(16, 16_384, "samples"), default=256, metavar="N",
                        help="audio buffer in samples: smaller = less latency, more CPU "
                             "(default 256 = 5.8 ms at 44.1 kHz)")
    parser.add_argument("--rate", type=SAMPLE_RATE, default=44100, metavar="HZ",
                        help="audio sample rate (default 44100)")
    parser.add_argument("--smoothing", type=float_in(0, 10, "s", low_open=True), default=0.01, metavar="S",
                        help="parameter smoothing in the voice, seconds (default 0.01)")
    parser.add_argument("--osc", type=host_port, action="append", metavar="HOST:PORT",
                        help="send OSC to HOST:PORT (repeat for several receivers; default "
                             "127.0.0.1:12000)")
    parser.add_argument("--no-osc", action="store_true", help="send no OSC at all")
    parser.add_argument("--osc-bundles", type=float_in(0, 10_000, "ms"), metavar="MS",
                        help="send each control frame as one OSC bundle time-tagged MS "
                             "milliseconds after its input (receivers that schedule, e.g. "
                             "SuperCollider, apply it exactly then)")
    parser.add_argument("--osc-in", type=listen_address, metavar="[HOST:]PORT",
                        help="also play from OSC /wek/inputs x y on this UDP port (Wekinator's "
                             "input port is 6448; the default input when --headless), from "
                             "this machine only; HOST:PORT listens elsewhere, e.g. "
                             "0.0.0.0:6448 for a phone on your network")
    parser.add_argument("--osc-in-pixels", action="store_true",
                        help="OSC input x, y are pixels (default: normalised 0..1)")
    parser.add_argument("--midi-in", metavar="PORT",
                        help="play from a MIDI controller (a model trained on 'record --source "
                             "midi'): input port name or its start, or 'virtual'")
    parser.add_argument("--gamepad", type=int_in(1, 64), metavar="N",
                        help="play from gamepad N (1 = the first; a model trained on 'record "
                             "--source gamepad'; with --headless)")
    parser.add_argument("--replay", metavar="FILE",
                        help="play a gesture recording at its own pace through the live path")
    parser.add_argument("--fast", action="store_true",
                        help="with --replay: as fast as possible instead of in real time")
    parser.add_argument("--headless", action="store_true",
                        help="no window (for OSC input and replay)")
    parser.add_argument("--latency-report", action="store_true",
                        help="print a latency table (p50/p95/p99/max) on exit")
    parser.add_argument("--seconds", type=float_in(0, 604_800, "s", low_open=True), metavar="S",
                        help="stop after S seconds")
    parser.add_argument("--fixed-latency", type=float_in(0, 1000, "ms", low_open=True), metavar="MS",
                        help="with --audio sounddevice: hear every change exactly MS "
                             "milliseconds after its input (constant latency, no block "
                             "jitter); at least one block plus the output latency")
    parser.add_argument("--controls", metavar="CSV",
                        help="also write the control stream played (t,sound,<params>), in the "
                             "format of 'instrument render --controls'")
    parser.add_argument("--force", action="store_true",
                        help="replace existing --controls / --midi-file files")
    add_sampler_argument(parser)
    from instrument.commands.midi_options import add_midi_arguments

    add_midi_arguments(parser, port=True)


def add_sampler_argument(parser) -> None:
    """--sampler-mode, for perform and render."""
    parser.add_argument("--sampler-mode", choices=SAMPLER_MODES,
                        help="a model trained on an audio bank: each chosen slice plays "
                             "once from its start (start, the default), loops (loop), or "
                             "as overlapping 50 ms grains (grain); every switch crossfades")


def run(args) -> int:
    from instrument.commands.midi_options import check_midi_file, midi_settings, wants_midi
    from instrument.live.session import PerformOptions, run_session

    if args.fast and not args.replay:
        from instrument.errors import BadInput

        raise BadInput("--fast only makes sense with --replay FILE")
    if args.osc_bundles is not None and args.no_osc:
        from instrument.errors import BadInput

        raise BadInput("--osc-bundles and --no-osc contradict each other",
                       "leave out one of them")
    check_midi_file(args)
    if args.controls is not None:
        from instrument.formats.outputs import check_output

        check_output(args.controls, args.force, [("--replay", args.replay), ("--model", args.model)],
                     flag="--controls")
    options = PerformOptions(
        model=args.model, audio=args.audio, audio_backend=args.audio_backend,
        buffer=args.buffer, rate=args.rate, smoothing_s=args.smoothing, osc=args.osc,
        no_osc=args.no_osc, osc_in=None if args.osc_in is None else args.osc_in[1],
        osc_in_host="127.0.0.1" if args.osc_in is None else args.osc_in[0],
        osc_in_pixels=args.osc_in_pixels,
        replay=args.replay, fast=args.fast, headless=args.headless,
        latency_report=args.latency_report, seconds=args.seconds, controls=args.controls,
        fixed_latency_s=None if args.fixed_latency is None else args.fixed_latency / 1000.0,
        osc_bundles_s=None if args.osc_bundles is None else args.osc_bundles / 1000.0,
        midi=midi_settings(args) if wants_midi(args) else None,
        midi_in=args.midi_in, gamepad=args.gamepad, sampler_mode=args.sampler_mode)
    return run_session(options, print_fn=lambda text: print(text, flush=True))
