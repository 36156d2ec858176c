"""Offline MIDI: a gesture file -> the MIDI messages ``perform --midi-file`` would record.

The frames are the control stream of :func:`instrument.live.render.control_stream` (the one
frame rule and the one per-frame step), encoded frame by frame exactly as live: a frame is
"moved" when a pointer sample made it, "still" otherwise (MPE strokes end on still frames).
"""

from __future__ import annotations

import numpy as np


def render_midi(runtime, recording, midi_out) -> dict:
    """Play ``recording`` through ``runtime`` into ``midi_out`` (then closed).

    Args:
        runtime: An :class:`instrument.runtime.Runtime`.
        recording: A :class:`instrument.formats.recording.Recording`.
        midi_out: An :class:`instrument.output.midi_out.MidiOut` (its file is written).

    Returns:
        {"frames", "messages", "midi_file"} for a summary line.
    """
    from instrument.live.render import control_stream

    times, _sounds, params = control_stream(runtime, recording)
    moved = np.isin(times, np.asarray(recording.t, dtype=np.float64))
    units = runtime.table.to_unit(params)
    for t, unit, physical, was_moved in zip(times.tolist(), units, params, moved.tolist()):
        midi_out.frame(t, unit, physical, was_moved)
    midi_out.close()
    path = midi_out.file.path if midi_out.file is not None else None
    return {"frames": int(len(times)), "messages": midi_out.messages, "midi_file": path}
