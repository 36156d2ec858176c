"""Live controllers for ``instrument perform``: MIDI in and a gamepad feeding an N-channel model.

A model trained on ``record --source midi`` plays from ``--midi-in PORT`` (the controller
numbers come from the model's channels, so it hears exactly what it learned from); one
trained on ``record --source gamepad`` plays from ``--gamepad N``. OSC input of N floats is
wired in :mod:`instrument.live.session` like the pointer's.
"""

from __future__ import annotations

import time

from instrument.errors import BadInput


def open_controllers(opts, spec, loop, t0: float, print_fn):
    """Open the controllers asked for and connect them to ``loop``.

    Returns:
        (sources to close, poll function for the headless loop or None). MIDI messages
        reach the loop at once on rtmidi's thread; a gamepad is read by ``poll`` (pygame's
        queue lives on the main thread).
    """
    if spec is None:
        raise BadInput("--midi-in and --gamepad play models trained on a controller's stream; "
                       f"{opts.model} was trained on a 2-D pointer",
                       "record the controller (instrument record --source midi|gamepad) and "
                       "train on that")
    sources: list = []
    try:
        return _open(opts, spec, loop, t0, print_fn, sources)
    except BaseException:
        for source in sources:          # nothing stays open when one of them fails
            source.close()
        raise


def _open(opts, spec, loop, t0, print_fn, sources):
    from instrument.gesture.stream import check_fits

    poll = None
    if opts.midi_in is not None:
        from instrument.gesture.midi_in import MidiSource, decoder_for_channels

        source = MidiSource(opts.midi_in, decoder_for_channels(spec.channels),
                            on_values=lambda t, values: loop.sample_stream(t - t0, values, t))
        sources.append(source)
        print_fn(f"Playing from MIDI port {source.port.name!r} "
                 f"({', '.join(ch.name for ch in spec.channels)}).")
    if opts.gamepad is not None:
        if not 1 <= opts.gamepad <= 64:
            raise BadInput(f"--gamepad {opts.gamepad} must be a device number 1..64")
        if not opts.headless:
            raise BadInput("--gamepad plays without a window", "add --headless")
        from instrument.gesture.gamepad import GamepadSource

        pad = GamepadSource(opts.gamepad - 1)
        sources.append(pad)
        check_fits(spec, pad.channels, f"model {opts.model}", f"gamepad {pad.name!r}")
        print_fn(f"Playing from gamepad {pad.name!r} ({len(pad.channels)} channels).")

        def poll() -> None:
            for t, values in pad.poll():
                loop.sample_stream(t - t0, values, t)

        pad.clock = time.perf_counter
    return sources, poll
