"""midi_file.py: the SMF read back with mido gives the same messages, channels and times."""

import os

import pytest

from instrument.errors import BadInput
from instrument.formats.midi_file import MidiFileWriter, write_midi_file

mido = pytest.importorskip("mido")

# One tick is 0.5 ms (1000 ticks a beat at 120 BPM): a time is written within half a tick.
TICK_TOLERANCE_S = 0.25e-3


def read_back(path):
    """[(seconds, bytes)] of every channel message in the file, as mido plays it."""
    out, t = [], 0.0
    for message in mido.MidiFile(path):
        t += message.time
        if not message.is_meta:
            out.append((t, tuple(message.bytes())))
    return out


def test_messages_and_times_read_back(tmp_path, rng):
    times = sorted(rng.uniform(0, 30, size=200).tolist())
    timed = [(t, [(0xB0 | i % 16, 16 + i % 4, i % 128), (0xD3, i % 128)])
             for i, t in enumerate(times)]
    path = tmp_path / "out.mid"
    assert write_midi_file(path, timed) == 400
    back = read_back(path)
    assert [m for _, m in back] == [m for _, ms in timed for m in ms]
    sent_times = [t for t, ms in timed for _ in ms]
    assert max(abs(a - b) for a, (b, _) in zip(sent_times, back)) <= TICK_TOLERANCE_S + 1e-9
    midi = mido.MidiFile(path)
    assert midi.type == 0 and midi.ticks_per_beat == 1000 and len(midi.tracks) == 1


def test_start_offset_and_times_going_back(tmp_path):
    path = tmp_path / "s.mid"
    with MidiFileWriter(path, start=10.0) as writer:
        writer.add(10.5, [(0x90, 60, 100)])
        writer.add(10.2, [(0x80, 60, 0)])          # earlier: written at the last tick
        writer.add(11.0, [])
    back = read_back(path)
    assert [round(t, 4) for t, _ in back] == [0.5, 0.5]


def test_bounded_and_atomic(tmp_path):
    path = tmp_path / "b.mid"
    writer = MidiFileWriter(path, max_bytes=100)
    for i in range(100):
        writer.add(i * 0.01, [(0xB0, 16, i)])
    assert writer.dropped > 0 and writer.messages + writer.dropped == 100
    assert not path.exists()                        # nothing under the name until close
    writer.close()
    writer.close()
    assert len(read_back(path)) == writer.messages
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []


def test_missing_directory_is_one_line(tmp_path):
    with pytest.raises(BadInput, match="does not exist"):
        MidiFileWriter(tmp_path / "no" / "x.mid")
