"""Recording format version 2: declared channels, any width; version 1 keeps loading."""

from __future__ import annotations

import json

import numpy as np
import pytest
from stream_helpers import stream_channels, write_stream_file

from instrument.errors import BadInput, DataFileError
from instrument.formats import recording_v2
from instrument.formats.channels import (
    BUTTON,
    MAX_CHANNELS,
    POSITION,
    PRESSURE,
    Channel,
    describe,
    pointer_channels,
    pointer_columns,
)
from instrument.formats.recording import (
    Recording,
    RecordingWriter,
    read_recording,
    write_recording,
)
from instrument.formats.recording_v2 import StreamWriter

HEADER = {"format": "instrument-gestures", "version": 2, "created": "2026-01-01T00:00:00+00:00",
          "channels": [{"name": "a", "kind": "value", "unit": "g"},
                       {"name": "b", "kind": "button", "unit": ""}]}


def write_lines(path, *lines, end="\n"):
    path.write_text("\n".join(lines) + end, encoding="utf-8")
    return str(path)


def test_round_trip_keeps_channels_values_and_header(tmp_path):
    channels = stream_channels(3, buttons=1)
    path = tmp_path / "s.jsonl"
    with StreamWriter(path, channels, source="osc", note="test") as w:
        assert w.part == f"{path}.part"       # the file grows there until it is closed
        w.add(0.0, [0.25, -3, 1])
        w.add(0.0123456, [1e-7, 12.5, 0])
    assert not (tmp_path / "s.jsonl.part").exists()
    rec = read_recording(path)
    assert rec.header["version"] == 2 and rec.source == "osc" and rec.header["note"] == "test"
    assert rec.channels == channels and rec.channel_list() == channels
    assert not rec.is_pointer and rec.width is None and rec.height is None
    np.testing.assert_array_equal(rec.t, [0.0, 0.012346])
    np.testing.assert_array_equal(rec.values, [[0.25, -3, 1], [0.0, 12.5, 0]])  # 6 decimals
    lines = path.read_text().splitlines()
    assert lines[1] == '{"t":0,"v":[0.25,-3,1]}'
    assert json.loads(lines[0])["channels"][2] == {"name": "button1", "kind": "button",
                                                   "unit": ""}


def test_version_1_files_still_load_as_a_pointer_stream(tmp_path):
    path = tmp_path / "v1.jsonl"
    with RecordingWriter(path, 640, 480, source="mouse") as w:
        w.add(0.0, 10, 20, buttons=0)
        w.add(0.01, 11, 21, pressure=0.5, buttons=1)
    rec = read_recording(path)
    assert rec.header["version"] == 1 and rec.channels is None and rec.is_pointer
    assert [c.name for c in rec.channel_list()] == ["x", "y", "pressure", "buttons"]
    assert [c.kind for c in rec.channel_list()] == [POSITION, POSITION, PRESSURE, BUTTON]
    np.testing.assert_array_equal(rec.channel_values(),
                                  [[10, 20, np.nan, 0], [11, 21, 0.5, 1]])
    # the shipped demo (version 1) reads unchanged
    demo = read_recording("recordings/demo.jsonl")
    assert demo.is_pointer and len(demo) == 29390
    assert [c.name for c in demo.channel_list()][:2] == ["x", "y"]


def test_a_pointer_written_as_version_2_reads_like_version_1(tmp_path):
    path = tmp_path / "p.jsonl"
    channels = pointer_channels(400, 300, pressure=True, buttons=True)
    with StreamWriter(path, channels, 400, 300, source="mouse") as w:
        w.add(0.0, [5, 6, None, 0])
        w.add(0.02, [7, 8, 0.75, 1])
    rec = read_recording(path)
    assert rec.is_pointer and (rec.width, rec.height) == (400, 300)
    assert pointer_columns(rec.channels) == (0, 1, 2, 3)
    np.testing.assert_array_equal(rec.x, [5, 7])
    np.testing.assert_array_equal(rec.y, [6, 8])
    np.testing.assert_array_equal(rec.pressure, [np.nan, 0.75])
    np.testing.assert_array_equal(rec.buttons, [0, 1])
    assert '"v":[5,6,null,0]' in path.read_text()
    with pytest.raises(BadInput, match="window size"):
        StreamWriter(tmp_path / "q.jsonl", channels)     # a pointer needs its window size


def test_write_recording_writes_a_stream_as_version_2(tmp_path):
    src = write_stream_file(tmp_path / "a.jsonl", width=4, seconds=2, seed=1)
    rec = read_recording(src)
    write_recording(tmp_path / "b.jsonl", rec)
    back = read_recording(tmp_path / "b.jsonl")
    assert back.channels == rec.channels and back.source == "test"
    np.testing.assert_array_equal(back.values, rec.values)
    np.testing.assert_array_equal(back.t, rec.t)


def test_writer_refuses_bad_samples(tmp_path):
    with StreamWriter(tmp_path / "w.jsonl", stream_channels(2)) as w:
        w.add(1.0, [1, 2])
        with pytest.raises(BadInput, match="2 channels"):
            w.add(2.0, [1, 2, 3])
        with pytest.raises(BadInput, match="not finite"):
            w.add(2.0, [float("nan"), 1])
        with pytest.raises(BadInput, match="no value"):
            w.add(2.0, [None, 1])                      # null only for pressure
        with pytest.raises(BadInput, match="before the previous"):
            w.add(0.5, [1, 2])
    assert len(read_recording(tmp_path / "w.jsonl")) == 1
    with pytest.raises(BadInput, match="appears twice"):
        StreamWriter(tmp_path / "d.jsonl", (Channel("a"), Channel("a")))


@pytest.mark.parametrize("lines, lineno, words", [
    ([json.dumps(HEADER), '{"t": 0, "v": [1]}'], 2, "has 1 values, the header declares 2"),
    ([json.dumps(HEADER), '{"t": 0, "v": [1, NaN]}'], 2, "'b' value nan is not a finite"),
    ([json.dumps(HEADER), '{"t": 0, "v": [1e999, 0]}'], 2, "is not a finite"),
    ([json.dumps(HEADER), '{"t": 0, "v": [null, 0]}'], 2, "'a' value None"),
    ([json.dumps(HEADER), '{"t": 0, "v": "12"}'], 2, "has str values"),
    ([json.dumps(HEADER), '{"t": -1, "v": [1, 0]}'], 2, "negative"),
    ([json.dumps(HEADER), '{"t": 1, "v": [1, 0]}', '{"t": 0.5, "v": [1, 0]}'], 3,
     "goes backwards"),
    ([json.dumps(HEADER), "not json", '{"t": 1, "v": [1, 0]}'], 2, "not a valid JSON"),
    ([json.dumps({**HEADER, "version": 3})], 1, "newer than this program"),
    ([json.dumps({**HEADER, "channels": []})], 1, "1..4096"),
    ([json.dumps({**HEADER, "channels": [{"name": "a", "kind": "gyro"}]})], 1,
     "kind 'gyro'"),
    ([json.dumps({**HEADER, "channels": [{"name": "a"}, {"name": "a"}]})], 1, "appears twice"),
    ([json.dumps({**HEADER, "channels": [{"name": "a", "range": [1, 0]}]})], 1, "low < high"),
    ([json.dumps({**HEADER, "channels": [{"name": ""}]})], 1, "printable"),
    ([json.dumps({**HEADER, "channels": [{"name": "x", "kind": "position"},
                                         {"name": "y", "kind": "position"}]})], 1,
     "width"),                                     # a pointer needs its window size
])
def test_reader_names_file_line_and_problem(tmp_path, lines, lineno, words):
    path = write_lines(tmp_path / "bad.jsonl", *lines)
    with pytest.raises(DataFileError) as err:
        read_recording(path)
    assert f"bad.jsonl:{lineno}:" in str(err.value) and words in str(err.value)
    assert "\n" not in str(err.value)


def test_too_many_channels_and_too_many_values_are_refused_before_allocating(tmp_path,
                                                                            monkeypatch):
    wide = {**HEADER, "channels": [{"name": f"c{i}"} for i in range(MAX_CHANNELS + 1)]}
    with pytest.raises(DataFileError, match="1..4096"):
        read_recording(write_lines(tmp_path / "wide.jsonl", json.dumps(wide)))
    monkeypatch.setattr(recording_v2, "MAX_VALUES", 5)
    path = write_lines(tmp_path / "long.jsonl", json.dumps(HEADER),
                       *[f'{{"t": {i}, "v": [1, 0]}}' for i in range(3)])
    with pytest.raises(DataFileError, match="more than this program reads"):
        read_recording(path)


def test_a_cut_last_line_is_dropped(tmp_path):
    path = write_lines(tmp_path / "cut.jsonl", json.dumps(HEADER), '{"t": 0, "v": [1, 0]}',
                       '{"t": 0.1, "v": [2', end="")
    rec = read_recording(path)
    assert rec.truncated and len(rec) == 1 and rec.values.shape == (1, 2)


def test_describe_says_pointer_or_width():
    assert describe(pointer_channels(10, 10)) == "a 2-D pointer (x, y)"
    assert describe(stream_channels(16)) == "16 channels (in1..in16)"
    assert describe(stream_channels(2)) == "2 channels (in1, in2)"


def test_recording_built_in_memory_without_channels_is_a_pointer():
    rec = Recording({}, 100, 100, np.array([0.0, 0.1]), np.array([1.0, 2.0]),
                    np.array([3.0, 4.0]))
    assert rec.is_pointer and rec.channel_values().shape == (2, 2)
