"""`instrument record`: record pointer gestures from a window into a recording file."""

from __future__ import annotations

import argparse

from instrument.commands.argtypes import positive_float, positive_int

NAME = "record"
HELP = "record mouse/tablet gestures in a window into a JSON Lines recording"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="FILE",
                        help="recording to write (default recordings/gestures-DATE-TIME.jsonl)")
    parser.add_argument("--seconds", type=positive_float, metavar="S",
                        help="stop after S seconds (default: until Esc or the window closes)")
    parser.add_argument("--width", type=positive_int, default=960, help="window width (960)")
    parser.add_argument("--height", type=positive_int, default=640, help="window height (640)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")


def run(args: argparse.Namespace) -> int:
    import os
    import signal
    import sys
    import time

    from instrument.errors import BadInput
    from instrument.formats.outputs import check_output

    out = args.out or time.strftime("recordings/gestures-%Y%m%d-%H%M%S.jsonl")
    check_output(out, args.force)
    parent = os.path.dirname(out)
    if parent and not os.path.isdir(parent):
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as err:
            raise BadInput(f"cannot create the folder {parent} of --out {out} "
                           f"({err.strerror or err})", "choose a folder you can write to") from None

    from instrument.formats.recording import RecordingWriter
    from instrument.gesture.capture import PointerWindow, check_display

    check_display()
    stop = {"why": None}

    def on_signal(signum, frame):  # finish the file like Esc does
        stop["why"] = "Ctrl-C" if signum == signal.SIGINT else "terminated"

    previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, on_signal)}
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not if ignored
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, on_signal)
    window = PointerWindow(args.width, args.height,
                           title="instrument record - move the pointer, Esc to stop")
    try:
        with window:
            with RecordingWriter(out, window.width, window.height, source="mouse") as writer:
                if not args.quiet:  # said first: after a crash or kill -9 the data is there
                    print(f"recording to {writer.part} (renamed to {out} when it stops)",
                          file=sys.stderr, flush=True)
                stop["why"] = _loop(window, writer, args.seconds, stop)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if not args.quiet:
        print(f"recorded {writer.count} samples in {window.now():.1f} s to {out} "
              f"(stopped: {stop['why']})")
    return 0


def _loop(window, writer, seconds, stop) -> str:
    import time

    last_draw = -1.0
    try:
        while stop["why"] is None:
            got = window.poll()
            for s in got.samples:
                writer.add(s.t, s.x, s.y, s.pressure, s.buttons)
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
