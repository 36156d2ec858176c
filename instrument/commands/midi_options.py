"""The MIDI out options shared by ``perform``, ``render`` and ``serve`` (not a subcommand)."""

from __future__ import annotations

import argparse


def _channel(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a MIDI channel number") from None
    if not 1 <= value <= 16:
        raise argparse.ArgumentTypeError(f"MIDI channel {value} is not in 1..16")
    return value


def _cc_list(text: str) -> tuple[int, ...]:
    from instrument.errors import BadInput
    from instrument.output.midi_encoding import parse_cc_list

    try:
        return parse_cc_list(text)
    except BadInput as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_midi_arguments(parser, port: bool = True) -> None:
    """Add --midi-file (and --midi-out when ``port``), --midi-channel, --midi-cc, --midi-7bit,
    --mpe to a subcommand's parser."""
    if port:
        parser.add_argument("--midi-out", metavar="PORT",
                            help="send MIDI to this output port (a name or its beginning), or "
                                 "'virtual' for a new port named 'instrument' that a DAW or "
                                 "synth connects to")
    parser.add_argument("--midi-file", metavar="OUT.mid",
                        help="write the performance as a Standard MIDI File (written when it "
                             "ends; an existing file is replaced only with --force)")
    parser.add_argument("--midi-channel", type=_channel, default=1, metavar="N",
                        help="MIDI channel 1..16 of the parameter CCs (default 1)")
    parser.add_argument("--midi-cc", type=_cc_list, metavar="N,N,...",
                        help="one CC number per synth parameter, in table order (default "
                             "16,17,18,19: carrier_hz, ratio, index, amplitude); 14-bit values "
                             "send MSB on CC n and LSB on CC n+32")
    parser.add_argument("--midi-7bit", action="store_true",
                        help="7-bit CCs (one message per parameter) instead of 14-bit pairs")
    parser.add_argument("--mpe", action="store_true",
                        help="MPE lower zone: a note per stroke on channels 2..16, pitch bend "
                             "±48 semitones = carrier, CC74 = index, channel pressure = "
                             "amplitude; ratio as a 14-bit CC pair on channel 1")


def check_midi_file(args) -> None:
    """Check --midi-file by the one output rule (:func:`instrument.formats.outputs.check_output`).

    Refused in one line, before any work: a name not ending in .mid, the command's input
    (--gestures, --replay, --model or inside the model), another output of the same command
    (--out, --controls), a folder, a pipe or device, or an existing file without --force.
    """
    from instrument.errors import BadInput
    from instrument.formats.outputs import check_output

    path = getattr(args, "midi_file", None)
    if path is None:
        return
    if not path.lower().endswith((".mid", ".midi", ".smf")):
        raise BadInput(f"--midi-file {path} does not end in .mid",
                       "name the Standard MIDI File e.g. out.mid")
    others = [(f"--{flag}", getattr(args, flag, None))
              for flag in ("gestures", "replay", "model", "out", "controls")]
    check_output(path, getattr(args, "force", False),
                 [(flag, other) for flag, other in others if isinstance(other, str)],
                 flag="--midi-file")


def midi_settings(args) -> dict:
    """The keyword arguments of :func:`instrument.output.midi_out.open_midi_out` asked for."""
    return {"port": getattr(args, "midi_out", None), "midi_file": args.midi_file,
            "channel": args.midi_channel, "ccs": args.midi_cc, "seven_bit": args.midi_7bit,
            "mpe": args.mpe}


def wants_midi(args) -> bool:
    """True when a MIDI port or file was asked for (the other MIDI flags alone do nothing)."""
    return getattr(args, "midi_out", None) is not None or args.midi_file is not None
