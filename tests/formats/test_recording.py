"""recording.py: the JSON Lines format, crash safety, strict reading, replay."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from instrument.errors import BadInput, DataFileError
from instrument.formats.recording import (
    FORMAT,
    VERSION,
    Recording,
    RecordingWriter,
    read_recording,
    replay,
    write_recording,
)

HEADER = {"format": FORMAT, "version": 1, "created": "2026-01-01T00:00:00+00:00",
          "width": 640, "height": 480}


def write_lines(path, *lines, end="\n"):
    path.write_text("\n".join(lines) + end, encoding="utf-8")
    return str(path)


def test_round_trip_keeps_header_samples_pressure_and_buttons(tmp_path):
    path = tmp_path / "a.jsonl"
    with RecordingWriter(path, 640, 480, source="mouse", note="test") as w:
        w.add(0.0, 10, 20, buttons=0)
        w.add(0.0123456, 10.25, 20.5, pressure=0.75, buttons=1)
        w.add(0.02, -3, 500.125)
    rec = read_recording(path)
    assert rec.header["format"] == FORMAT and rec.header["version"] == VERSION
    assert rec.header["source"] == "mouse" and rec.header["note"] == "test"
    assert rec.source == "mouse" and isinstance(rec.header["created"], str)
    assert (rec.width, rec.height, len(rec), rec.path) == (640, 480, 3, str(path))
    np.testing.assert_array_equal(rec.t, [0.0, 0.012346, 0.02])   # 6 decimals by default
    np.testing.assert_array_equal(rec.x, [10, 10.25, -3])
    np.testing.assert_array_equal(rec.y, [20, 20.5, 500.12])       # 2 decimals by default
    np.testing.assert_array_equal(rec.pressure, [np.nan, 0.75, np.nan])
    np.testing.assert_array_equal(rec.buttons, [0, 1, 0])
    assert not rec.truncated and rec.duration == pytest.approx(0.02)
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["width"] == 640 and lines[3] == '{"t":0.02,"x":-3,"y":500.12}'


def test_write_recording_whole_file(tmp_path, rng):
    n = 200
    rec = Recording(header={"source": "synthetic"}, width=800, height=600,
                    t=np.cumsum(rng.uniform(0.005, 0.02, n)), x=rng.uniform(0, 800, n),
                    y=rng.uniform(0, 600, n))
    path = tmp_path / "w.jsonl"
    write_recording(path, rec, t_decimals=4, xy_decimals=1)
    back = read_recording(path)
    assert back.source == "synthetic" and back.pressure is None and back.buttons is None
    np.testing.assert_allclose(back.t, rec.t, atol=5e-5)
    np.testing.assert_allclose(back.x, rec.x, atol=0.05)
    assert not os.path.exists(f"{path}.part")


def test_writer_refuses_bad_samples(tmp_path):
    with RecordingWriter(tmp_path / "b.jsonl", 100, 100) as w:
        w.add(1.0, 1, 1)
        with pytest.raises(BadInput, match="before the previous"):
            w.add(0.5, 1, 1)
        with pytest.raises(BadInput, match="not finite"):
            w.add(2.0, float("nan"), 1)
    assert len(read_recording(tmp_path / "b.jsonl")) == 1
    with pytest.raises(BadInput, match="width"):
        RecordingWriter(tmp_path / "c.jsonl", 0, 100)
    with pytest.raises(DataFileError, match="cannot create"):
        RecordingWriter(tmp_path / "no" / "such" / "dir.jsonl", 100, 100)


def test_cut_last_line_is_dropped(tmp_path):
    path = write_lines(tmp_path / "cut.jsonl", json.dumps(HEADER), '{"t":0,"x":1,"y":2}',
                       '{"t":0.01,"x":1', end="")
    rec = read_recording(path)
    assert len(rec) == 1 and rec.truncated
    # A whole last line without its newline is kept.
    path = write_lines(tmp_path / "nonl.jsonl", json.dumps(HEADER), '{"t":0,"x":1,"y":2}', end="")
    assert len(read_recording(path)) == 1 and not read_recording(path).truncated


def test_header_only_file_is_an_empty_recording(tmp_path):
    rec = read_recording(write_lines(tmp_path / "h.jsonl", json.dumps(HEADER)))
    assert len(rec) == 0 and rec.duration == 0.0


@pytest.mark.parametrize("lines, lineno, words", [
    ([json.dumps(HEADER), '{"t":0,"x":1,"y":2}', '{"t":0.01,"x":1', '{"t":0.02,"x":1,"y":2}'],
     3, "not a valid JSON"),
    ([json.dumps(HEADER), '{"t":0,"x":1,"y":2}', '{"t":0.01,"x":1}'], 3, "no 'y'"),
    ([json.dumps(HEADER), '{"t":0,"x":1,"y":2}', '{"t":NaN,"x":1,"y":1}'], 3, "not a finite"),
    ([json.dumps(HEADER), '{"t":1,"x":1,"y":2}', '{"t":0.5,"x":1,"y":1}'], 3, "backwards"),
    ([json.dumps(HEADER), '{"t":1,"x":"1","y":2}'], 2, "x = '1'"),
    ([json.dumps(HEADER), '[1, 2, 3]'], 2, "JSON object"),
    ([json.dumps(HEADER), '', '{"t":1,"x":1,"y":2}'], 2, "not a valid JSON"),
    ([json.dumps(HEADER), '{"t":1,"x":1,"y":2,"buttons":-1}'], 2, "buttons"),
    ([json.dumps({**HEADER, "format": "something-else"})], 1, "not a gesture recording"),
    ([json.dumps({**HEADER, "version": 99})], 1, "newer than this program"),
    ([json.dumps({**HEADER, "width": 0})], 1, "width"),
    ([json.dumps({k: v for k, v in HEADER.items() if k != "created"})], 1, "created"),
    (["hello world"], 1, "not valid JSON"),
])
def test_reader_errors_name_file_and_line(tmp_path, lines, lineno, words):
    path = write_lines(tmp_path / "bad.jsonl", *lines)
    with pytest.raises(DataFileError) as info:
        read_recording(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{lineno}: ") and words in message
    assert "\n" not in message


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(DataFileError, match="cannot read"):
        read_recording(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(DataFileError, match="empty"):
        read_recording(tmp_path / "empty.jsonl")


class FakeClock:
    """A clock that only moves when slept on (or by hand), for exact pacing tests."""

    def __init__(self, now: float):
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_replay_as_fast_as_possible_and_at_real_pace():
    t = np.array([0.0, 0.05, 0.10, 0.15])
    rec = Recording(header={}, width=10, height=10, t=t + 3.0, x=np.arange(4.0), y=-np.arange(4.0))
    assert list(replay(rec)) == [(3.0 + a, float(i), -float(i)) for i, a in enumerate(t)]
    for speed in (1.0, 5.0):
        clock = FakeClock(100.0)
        arrivals = [clock.now - 100.0 for _ in replay(rec, realtime=True, speed=speed,
                                                       clock=clock, sleep=clock.sleep)]
        np.testing.assert_allclose(arrivals, t / speed, atol=1e-9)
    # late consumer: no sleep for samples already due, and no burst of catching-up waits
    clock = FakeClock(0.0)
    for _ in replay(rec, realtime=True, clock=clock, sleep=clock.sleep):
        clock.now += 0.08
    assert clock.sleeps == []
    with pytest.raises(BadInput):
        list(replay(rec, realtime=True, speed=0))


WRITER_SCRIPT = r"""
import sys, time
from instrument.formats.recording import RecordingWriter
start = time.time()
with RecordingWriter(sys.argv[1], 800, 600, source="test", started_unix=start) as w:
    i = 0
    while True:
        w.add(i * 0.005, i % 800, 300)
        print(f"wrote {i}", flush=True)      # after add() returned: the line is flushed
        i += 1
        time.sleep(0.002)
"""


def test_kill_9_of_a_recording_process_loses_at_most_the_line_in_flight(tmp_path):
    """Every sample the writer had written when it was killed is in the file. Counted in
    samples the writer reported, not in wall-clock time, so load cannot fail it."""
    path = tmp_path / "killed.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, str(path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        reported = -1
        while reported < 40:
            reported = int(proc.stdout.readline().split()[1])
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not path.exists()
    rec = read_recording(f"{path}.part")  # kept there: the writer was killed before closing
    assert len(rec) >= reported + 1       # samples 0..reported, maybe one or two more
    # the times as written: 6 decimals (µs), exact for these multiples of 5 ms
    np.testing.assert_allclose(rec.t[:reported + 1], np.arange(reported + 1) * 0.005, atol=1e-9)
