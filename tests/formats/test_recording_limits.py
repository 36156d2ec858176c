"""Recording files from outside: every bad or huge input is one line naming the file and line."""

import json
import tracemalloc

import numpy as np
import pytest

from instrument.errors import DataFileError
from instrument.formats.recording import iter_recording, pause_note, read_recording

HEADER = {"format": "instrument-gestures", "version": 1, "created": "2026-01-01T00:00:00+00:00",
          "width": 800, "height": 600}


def _write(path, lines, header=None, prefix=b""):
    text = "\n".join([json.dumps(header or HEADER)] + list(lines)) + "\n"
    path.write_bytes(prefix + text.encode())
    return path


def _error(path) -> str:
    with pytest.raises(DataFileError) as err:
        read_recording(path)
    text = str(err.value)
    assert "\n" not in text and str(path) in text
    return text


def test_deeply_nested_sample_line_is_one_line(tmp_path):
    deep = '{"t": 0.1, "x": 1, "y": 2, "extra": ' + "[" * 50_000 + "]" * 50_000 + "}"
    path = _write(tmp_path / "deep.jsonl", ['{"t": 0, "x": 1, "y": 2}', deep])
    assert ":3: JSON nested 50001 levels deep" in _error(path)


def test_deeply_nested_header_is_one_line(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    assert ":1: JSON nested 100000 levels deep" in _error(path)


def test_5000_digit_number_names_file_line_and_fix(tmp_path):
    path = _write(tmp_path / "big.jsonl", ['{"t": 0, "x": 1, "y": 2}',
                                           '{"t": ' + "1" * 5000 + ', "x": 1, "y": 2}'])
    text = _error(path)
    assert ":3: a number with 5000 digits" in text and "fix or delete that line" in text
    assert "set_int_max_str_digits" not in text


@pytest.mark.parametrize("width", [1e308, 1e6, "800"])
def test_absurd_header_size_is_one_line(tmp_path, width):
    path = _write(tmp_path / "wide.jsonl", ['{"t": 0, "x": 1, "y": 2}'],
                  header={**HEADER, "width": width})
    assert ":1: header width" in _error(path) and "1..100000" in _error(path)


def test_negative_time_is_refused_naming_the_line(tmp_path):
    path = _write(tmp_path / "neg.jsonl", ['{"t": -0.5, "x": 1, "y": 2}', '{"t": 0, "x": 1, "y": 2}'])
    text = _error(path)
    assert ":2: time t = -0.5 is negative" in text and "0 or more" in text


def test_utf8_bom_is_accepted(tmp_path):
    lines = ['{"t": 0, "x": 1, "y": 2}', '{"t": 0.01, "x": 3, "y": 4}']
    plain = read_recording(_write(tmp_path / "plain.jsonl", lines))
    bom = read_recording(_write(tmp_path / "bom.jsonl", lines, prefix=b"\xef\xbb\xbf"))
    assert bom.header == plain.header
    np.testing.assert_array_equal(bom.x, plain.x)


def test_line_longer_than_the_bound_is_refused(tmp_path):
    path = _write(tmp_path / "long.jsonl", ['{"t": 0, "x": 1, "y": 2, "pad": "' + "a" * (1 << 21)
                                            + '"}'])
    assert ":2: the line is longer than" in _error(path)


def test_blank_lines_cut_line_and_chunks(tmp_path):
    lines = [json.dumps({"t": i / 100, "x": i, "y": 2 * i, "buttons": i % 2}) for i in range(50)]
    path = tmp_path / "cut.jsonl"
    path.write_text("\n".join([json.dumps(HEADER)] + lines) + '\n{"t": 0.6, "x"')
    whole = read_recording(path)
    assert len(whole) == 50 and whole.truncated and whole.buttons is not None
    chunks = list(iter_recording(path, chunk=7))
    assert [len(c) for c in chunks] == [7] * 7 + [1] and chunks[-1].truncated
    np.testing.assert_array_equal(np.concatenate([c.y for c in chunks]), whole.y)
    path.write_text("\n".join([json.dumps(HEADER)] + lines) + "\n\n  \n\n")   # harmless
    assert len(read_recording(path)) == 50 and not read_recording(path).truncated
    # a blank line with samples after it is an error, naming it
    path.write_text("\n".join([json.dumps(HEADER), lines[0], "", lines[1]]) + "\n")
    assert ":3: is not a valid JSON sample line" in _error(path)


def test_only_blank_lines_is_an_empty_file(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n  \n\n")
    assert "the file is empty" in _error(path)


def test_long_pauses_are_counted_and_said(tmp_path):
    path = _write(tmp_path / "pause.jsonl", ['{"t": 0, "x": 1, "y": 2}',
                                             '{"t": 36000, "x": 3, "y": 4}'])
    rec = read_recording(path)
    assert rec.long_pauses == 1 and rec.t[-1] == 36000    # the file's times are kept
    assert pause_note(rec) == (f"note: 1 pause longer than 10 s in {path} is played as 10 s "
                               "of stillness")
    assert pause_note(read_recording(_write(tmp_path / "ok.jsonl",
                                            ['{"t": 0, "x": 1, "y": 2}']))) is None


def test_streaming_memory_is_bounded(tmp_path):
    path = tmp_path / "big.jsonl"
    n = 120_000
    t = np.arange(n) / 100
    with open(path, "w") as f:
        f.write(json.dumps(HEADER) + "\n")
        f.writelines(f'{{"t":{v:.2f},"x":{i % 800},"y":{(3 * i) % 600},"buttons":0}}\n'
                     for i, v in enumerate(t))
    size = path.stat().st_size
    tracemalloc.start()
    count = sum(len(c) for c in iter_recording(path))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == n
    assert peak < size / 4, (peak, size)     # chunks of 8192 samples: ~0.5 MB of arrays


def test_replay_waits_a_long_pause_as_10_s():
    from test_recording import FakeClock

    from instrument.formats.recording import Recording, replay

    t = np.array([0.0, 0.05, 36000.05, 36000.1])
    rec = Recording(header={}, width=10, height=10, t=t, x=np.arange(4.0), y=np.arange(4.0))
    clock = FakeClock(0.0)
    got = [(s[0], clock.now) for s in replay(rec, realtime=True, clock=clock, sleep=clock.sleep)]
    np.testing.assert_allclose([g[1] for g in got], [0.0, 0.05, 10.05, 10.1], atol=1e-9)
    np.testing.assert_allclose([g[0] for g in got], [0.0, 0.05, 10.05, 10.1], atol=1e-9)
