"""`instrument render`: a gesture file through a trained model -> control stream CSV + WAV, offline."""

from __future__ import annotations

from instrument.commands.argtypes import SAMPLE_RATE, existing_file, model_dir

NAME = "render"
HELP = "render a gesture file with a trained model to a WAV (and its control stream CSV), offline"


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, type=model_dir, metavar="DIR",
                        help="model directory from 'instrument train'")
    parser.add_argument("--gestures", required=True, type=existing_file, metavar="FILE",
                        help="gesture recording (.jsonl) to play")
    parser.add_argument("--out", required=True, metavar="FILE.wav", help="WAV file to write")
    parser.add_argument("--controls", metavar="FILE.csv",
                        help="also write the control stream: t,sound,<parameters> per frame")
    parser.add_argument("--force", action="store_true",
                        help="replace existing --out/--controls files")
    parser.add_argument("--engine", choices=("numpy", "pyo"), default="numpy",
                        help="numpy smoothed FM voice (default) or pyo's, offline")
    parser.add_argument("--rate", type=SAMPLE_RATE, default=44100, metavar="HZ",
                        help="sample rate (default 44100)")
    from instrument.commands.perform import add_sampler_argument

    add_sampler_argument(parser)
    from instrument.commands.midi_options import add_midi_arguments

    add_midi_arguments(parser, port=False)


def run(args) -> int:
    from instrument.errors import BadInput
    from instrument.formats.outputs import check_output
    from instrument.live.render import render

    if not 1000 <= args.rate <= 384000:
        raise BadInput(f"--rate {args.rate} is not a usable sample rate", "use 1000..384000")
    inputs = [("--gestures", args.gestures), ("--model", args.model)]
    check_output(args.out, args.force, inputs)
    if args.controls is not None:
        check_output(args.controls, args.force, inputs + [("--out", args.out)], flag="--controls")
    from instrument.commands.midi_options import check_midi_file, midi_settings, wants_midi

    check_midi_file(args)
    from instrument.formats.recording import pause_note, read_recording

    model, gestures, midi = args.model, read_recording(args.gestures), None
    if pause_note(gestures):
        import sys

        print(pause_note(gestures), file=sys.stderr)
    if wants_midi(args):
        # Loaded once for both the audio and the MIDI render.
        from instrument.formats.recording import read_recording
        from instrument.output.midi_out import open_midi_out
        from instrument.runtime import Runtime

        model, gestures = Runtime.from_bundle(args.model), read_recording(args.gestures)
        midi = open_midi_out(model.table, rest_s=model.gesture_config.rest_after_s,
                             **midi_settings(args))
    info = render(model, gestures, args.out, args.controls, engine=args.engine,
                  rate=args.rate, sampler_mode=args.sampler_mode)
    extra = f" and {info['controls']}" if info["controls"] else ""
    if midi is not None:
        from instrument.live.midi_render import render_midi

        midi_info = render_midi(model, gestures, midi)
        extra += f" and {midi_info['midi_file']} ({midi_info['messages']} MIDI messages)"
    print(f"wrote {info['wav']}{extra}: {info['frames']} control frames, {info['seconds']:.1f} s, "
          f"{info['sounds_used']} different sounds ({args.engine} engine, {args.rate} Hz)")
    return 0
