"""What a real MIDI port (JACK on the dummy driver) may do to messages, for the port tests."""

from __future__ import annotations


def assert_delivered(got, want):
    """Nothing invented or changed, and at least 90% of what was sent arrived.

    JACK's dummy server runs without real-time scheduling: on an overloaded machine (load
    average 8-10 on 2 cores) a late cycle's MIDI may be dropped, or a cycle delivered twice,
    so order and count are not exact there. The encoding is tested exactly without ports
    (tests/output/test_midi_encoding.py, tests/live/test_midi_render.py); on a quiet machine
    every message arrives once, in order.
    """
    sent = set(want)
    invented = [m for m in got if m not in sent]
    assert not invented, f"received messages that were never sent: {invented[:5]}"
    arrived = len(set(got)) / len(sent)
    assert arrived >= 0.9, f"only {arrived:.0%} of the distinct messages sent arrived"
