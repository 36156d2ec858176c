"""Test helpers: version-2 stream recordings of any width (smooth controller-like motion)."""

from __future__ import annotations

import numpy as np


def stream_channels(width: int = 16, buttons: int = 0):
    """``width`` channels: value channels in1.. then ``buttons`` button channels."""
    from instrument.formats.channels import Channel

    values = [Channel(f"in{i + 1}", "value", "", 0.0, 1.0) for i in range(width - buttons)]
    return tuple(values + [Channel(f"button{i + 1}", "button") for i in range(buttons)])


def write_stream_file(path, width: int = 16, seconds: float = 30.0, seed: int = 0,
                      rate: float = 60.0, buttons: int = 0) -> str:
    """A controller-like stream: each value channel a mix of slow sines with its own speed,
    strokes separated by pauses (no samples while still, as from a real controller)."""
    from instrument.formats.recording_v2 import StreamWriter

    rng = np.random.default_rng(seed)
    channels = stream_channels(width, buttons)
    n_values = width - buttons
    freq = rng.uniform(0.1, 1.5, size=(3, n_values))
    phase = rng.uniform(0, 2 * np.pi, size=(3, n_values))
    t = 0.0
    with StreamWriter(path, channels, source="test") as writer:
        while t < seconds:
            stroke_end = t + rng.uniform(0.5, 3.0)
            while t < min(stroke_end, seconds):
                v = 0.5 + 0.16 * np.sin(2 * np.pi * freq * t + phase).sum(0)
                b = (rng.uniform(size=buttons) < 0.3).astype(float)
                writer.add(t, list(np.round(v, 4)) + list(b))
                t += rng.uniform(0.6, 1.4) / rate
            t += rng.uniform(0.1, 1.0)            # a pause: nothing is sent
    return str(path)
