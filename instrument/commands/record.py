"""`instrument record`: record gestures from any source into a recording file.

``--source pointer`` (default) records the mouse or tablet in a window; ``osc``, ``midi`` and
``gamepad`` need no window and stop after ``--seconds`` or on Ctrl-C. All write the same
file format (version 2: the header declares the channels).
"""

from __future__ import annotations

import argparse

from instrument.commands.argtypes import float_in, int_in, listen_address

NAME = "record"
HELP = "record gestures (mouse/tablet window, OSC, MIDI or gamepad) into a JSON Lines recording"
SOURCES = ("pointer", "osc", "midi", "gamepad")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", choices=SOURCES, default="pointer",
                        help="pointer: mouse or tablet in a window (default); osc: /wek/inputs "
                             "with N floats; midi: a MIDI controller; gamepad: a gamepad or "
                             "joystick")
    parser.add_argument("--out", metavar="FILE",
                        help="recording to write (default recordings/gestures-DATE-TIME.jsonl)")
    parser.add_argument("--seconds", type=float_in(0, 86_400, "s", low_open=True), metavar="S",
                        help="stop after S seconds (default: until Esc, the window closes or "
                             "Ctrl-C)")
    parser.add_argument("--width", type=int_in(16, 16_384, "px"), default=960, help="window width (960)")
    parser.add_argument("--height", type=int_in(16, 16_384, "px"), default=640, help="window height (640)")
    parser.add_argument("--osc-in", type=listen_address, default=("127.0.0.1", 6448),
                        metavar="[HOST:]PORT",
                        help="osc: where to listen (default 6448, Wekinator's, on 127.0.0.1: "
                             "this machine only; 0.0.0.0:6448 for a phone on the network)")
    parser.add_argument("--inputs", type=int_in(1, 4096), metavar="N",
                        help="osc: values per /wek/inputs message (default: the first "
                             "message's); messages of another width are counted and dropped")
    parser.add_argument("--midi-port", metavar="NAME", default="virtual",
                        help="midi: input port name or its start (default 'virtual': a new "
                             "port called 'instrument' to connect a controller to)")
    parser.add_argument("--midi-cc", default="1,2,3,4,5,6,7,8", metavar="N,N,...",
                        help="midi: controller numbers recorded as channels (default 1..8)")
    parser.add_argument("--midi-channel", type=int_in(1, 16), metavar="N",
                        help="midi: listen to MIDI channel N (1..16) only (default: all)")
    parser.add_argument("--gamepad", type=int_in(1, 64), default=1, metavar="N",
                        help="gamepad: which device (default 1: the first SDL sees)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")


def run(args: argparse.Namespace) -> int:
    import signal

    from instrument.errors import BadInput

    out = _check_out(args)
    source = None
    if args.source == "pointer":
        from instrument.gesture.capture import check_display

        check_display()
    else:
        source = _open_source(args)
    stop = {"why": None}

    def on_signal(signum, frame):  # finish the file like Esc does
        stop["why"] = "Ctrl-C" if signum == signal.SIGINT else "terminated"

    previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, on_signal)}
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not if ignored
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, on_signal)
    try:
        if source is None:
            line = _record_pointer(args, out, stop)
        else:
            with _closing(source):
                line = _record_stream(args, source, out, stop)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if line is None:
        raise BadInput(f"no /wek/inputs message arrived on UDP {source.host}:{source.port}; "
                       f"nothing was written to {out}",
                       "check where the sender sends (e.g. TouchOSC's host and port)")
    if not args.quiet:
        print(line)
    return 0


def _check_out(args) -> str:
    import os
    import time

    from instrument.errors import BadInput
    from instrument.formats.outputs import check_output

    out = args.out or time.strftime("recordings/gestures-%Y%m%d-%H%M%S.jsonl")
    check_output(out, args.force)  # the one output rule (H1): --force to replace
    parent = os.path.dirname(out)
    if parent and not os.path.isdir(parent):
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as err:
            raise BadInput(f"cannot create the folder {parent} of --out {out} "
                           f"({err.strerror or err})", "choose a folder you can write to") from None
    return out


def _open_source(args):
    """The headless source asked for, open (one line if it cannot be)."""
    if args.source == "osc":
        from instrument.errors import BadInput
        from instrument.formats.osc import MAX_INPUTS
        from instrument.gesture.sources import OscSource

        if args.inputs is not None and args.inputs > MAX_INPUTS:
            raise BadInput(f"--inputs {args.inputs} is more than {MAX_INPUTS} values")
        host, port = args.osc_in
        return OscSource(port, host, args.inputs).start()
    if args.source == "midi":
        from instrument.gesture.midi_in import MidiDecoder, MidiSource, parse_cc_list

        decoder = MidiDecoder(parse_cc_list(args.midi_cc), args.midi_channel)
        return MidiSource(args.midi_port, decoder).start()
    from instrument.gesture.gamepad import GamepadSource

    return GamepadSource(args.gamepad - 1).start()


class _closing:
    def __init__(self, source):
        self.source = source

    def __enter__(self):
        return self.source

    def __exit__(self, *exc):
        self.source.close()


def _record_pointer(args, out, stop) -> str:
    import sys

    from instrument.formats.channels import pointer_channels
    from instrument.formats.recording_v2 import StreamWriter
    from instrument.gesture.capture import PointerWindow

    window = PointerWindow(args.width, args.height,
                           title="instrument record - move the pointer, Esc to stop")
    with window:
        channels = pointer_channels(window.width, window.height, pressure=True, buttons=True)
        with StreamWriter(out, channels, window.width, window.height, decimals=4,
                          source="mouse") as writer:
            if not args.quiet:  # said first: after a crash or kill -9 the data is there
                print(f"recording to {writer.part} (renamed to {out} when it stops)",
                      file=sys.stderr, flush=True)
            stop["why"] = _loop(window, writer, args.seconds, stop)
    return (f"recorded {writer.count} samples in {window.now():.1f} s to {out} "
            f"(stopped: {stop['why']})")


def _loop(window, writer, seconds, stop) -> str:
    import time

    last_draw = -1.0
    try:
        while stop["why"] is None:
            got = window.poll()
            for s in got.samples:
                writer.add(s.t, (s.x, s.y, s.pressure, s.buttons))
            if got.quit:
                return "window closed"
            if "escape" in got.keys:
                return "Esc"
            now = window.now()
            if seconds is not None and now >= seconds:
                return f"{seconds:g} s"
            if now - last_draw >= 1 / 50:
                remaining = f" of {seconds:g}" if seconds is not None else ""
                window.draw([f"recording  {now:6.1f}{remaining} s",
                             f"{writer.count} samples",
                             "Esc or close the window to stop"])
                last_draw = now
            time.sleep(0.002)     # poll ~500 times a second; events queue in between
    except KeyboardInterrupt:
        return "Ctrl-C"
    return stop["why"]


def _record_stream(args, source, out, stop) -> str | None:
    """Record a headless source until --seconds or Ctrl-C; the summary line (None: OSC sent
    nothing, so no width and no file)."""
    import sys
    import time

    from instrument.formats.channels import describe
    from instrument.formats.recording_v2 import StreamWriter

    t0 = time.perf_counter()
    writer = None
    status = sys.stderr.isatty() and not args.quiet
    if not args.quiet:
        where = (f"/wek/inputs on UDP {source.host}:{source.port}" if args.source == "osc"
                 else f"MIDI port {source.port.name!r}" if args.source == "midi"
                 else f"gamepad {source.name!r}")
        until = f"{args.seconds:g} s" if args.seconds else "Ctrl-C"
        print(f"recording {where} until {until} to {out}", file=sys.stderr, flush=True)
    last_status = 0.0
    try:
        while stop["why"] is None:
            samples = source.poll()
            if samples and writer is None:
                writer = StreamWriter(out, source.channels, source=args.source)
            for t, values in samples:
                writer.add(max(t - t0, 0.0), values)
            now = time.perf_counter() - t0
            if args.seconds is not None and now >= args.seconds:
                stop["why"] = f"{args.seconds:g} s"
            elif status and now - last_status >= 0.25:
                count = writer.count if writer is not None else 0
                print(f"\r{now:7.1f} s  {count} samples  {_rejects(source.counts)}  ",
                      end="", file=sys.stderr, flush=True)
                last_status = now
            if writer is None and source.channels is not None:
                writer = StreamWriter(out, source.channels, source=args.source)
            time.sleep(0.002)
    except KeyboardInterrupt:
        stop["why"] = "Ctrl-C"
    if status:
        print(file=sys.stderr)
    if writer is None:
        return None
    for t, values in source.poll():        # what came in while stopping
        writer.add(max(t - t0, 0.0), values)
    writer.close()
    return (f"recorded {writer.count} samples of {describe(writer.channels)} in "
            f"{time.perf_counter() - t0:.1f} s to {out} (stopped: {stop['why']}; "
            f"{_rejects(source.counts)})")


def _rejects(counts: dict) -> str:
    bad = {k: v for k, v in counts.items() if k != "ok" and v}
    return "nothing dropped" if not bad else "dropped " + ", ".join(
        f"{v} {k.replace('_', ' ')}" for k, v in bad.items())
