"""argparse validators used by every subcommand."""

import argparse
import os
import re

import pytest

from instrument.commands import argtypes


@pytest.mark.parametrize("func,text,expected", [
    (argtypes.positive_int, "3", 3),
    (argtypes.nonnegative_int, "0", 0),
    (argtypes.positive_float, "0.5", 0.5),
    (argtypes.finite_float, "-2", -2.0),
    (argtypes.udp_port, "6448", 6448),
    (argtypes.host_port, "127.0.0.1:12000", ("127.0.0.1", 12000)),
    (argtypes.host_port, "localhost:57120", ("localhost", 57120)),
])
def test_good_values(func, text, expected):
    assert func(text) == expected


@pytest.mark.parametrize("func,text", [
    (argtypes.positive_int, "0"), (argtypes.positive_int, "x"), (argtypes.positive_int, "1.5"),
    (argtypes.nonnegative_int, "-1"), (argtypes.positive_float, "0"),
    (argtypes.positive_float, "nan"), (argtypes.finite_float, "inf"),
    (argtypes.udp_port, "70000"), (argtypes.host_port, "12000"),
    (argtypes.host_port, ":12000"), (argtypes.host_port, "h:port"), (argtypes.host_port, "h:0"),
    (argtypes.existing_file, "/no/such/file"), (argtypes.existing_file, "/"),
    (argtypes.existing_dir, "/no/such/dir"),
])
def test_bad_values_raise_argument_type_error(func, text):
    with pytest.raises(argparse.ArgumentTypeError):
        func(text)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.jsonl"
    os.mkfifo(path)
    return str(path)


def test_only_regular_files_and_directories_pass(tmp_path, fifo):
    (tmp_path / "take.jsonl").write_text("{}\n")
    os.symlink(tmp_path / "take.jsonl", tmp_path / "link.jsonl")
    assert argtypes.existing_file(str(tmp_path / "link.jsonl")) == str(tmp_path / "link.jsonl")
    assert argtypes.existing_dir(str(tmp_path)) == str(tmp_path)
    for func, text, said in [
            (argtypes.existing_file, fifo, "is a pipe (FIFO), not a regular file"),
            (argtypes.existing_file, "/dev/null", "is a device, not a regular file"),
            (argtypes.existing_file, str(tmp_path), "is a directory"),
            (argtypes.existing_file, str(tmp_path / "take.jsonl" / "x"), "does not exist"),
            (argtypes.existing_dir, fifo, "is a pipe (FIFO), not a directory"),
            (argtypes.existing_dir, "/dev/null", "is a device, not a directory"),
            (argtypes.existing_dir, str(tmp_path / "take.jsonl"), "is a file"),
            (argtypes.model_dir, fifo, "is a pipe (FIFO), not a model directory"),
            (argtypes.existing_file, "a\0b", "does not exist")]:
        with pytest.raises(argparse.ArgumentTypeError, match=re.escape(said)):
            func(text)


@pytest.mark.parametrize("args", [
    ["train", "--gestures", "{fifo}", "--out", "{tmp}/m"],
    ["train", "--gestures", "recordings/demo.jsonl", "--from", "{fifo}", "--out", "{tmp}/m"],
    ["evaluate", "--model", "models/default", "--gestures", "{fifo}"],
    ["render", "--model", "{fifo}", "--gestures", "recordings/demo.jsonl", "--out", "{tmp}/a.wav"],
    ["gestures", "info", "{fifo}"],
])
def test_a_fifo_argument_is_one_line_at_parse_time_never_a_hang(run_cli, tmp_path, fifo, args):
    # nobody ever writes the FIFO: opening it to read would block for ever (timeout = fail)
    result = run_cli(*[a.format(fifo=fifo, tmp=tmp_path) for a in args], timeout=60)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "pipe (FIFO)" in lines[0] and fifo in lines[0], result.err
    assert not (tmp_path / "m").exists() and not (tmp_path / "a.wav").exists()
