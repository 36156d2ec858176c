"""Every numeric argument is bounded, and the message names the allowed range (exit 2)."""

from __future__ import annotations

import argparse

import pytest

from instrument import cli
from instrument.commands import argtypes


@pytest.mark.parametrize("text, words", [
    ("1e10", "1e10 is out of range; use a whole number in 20..200000"),
    ("10000000000", "10000000000 is out of range"),
    ("9" * 5000, "(5000 characters) is out of range"),
    ("1.5", "'1.5' is not a whole number; use one in 20..200000"),
    ("nan", "is not a whole number"),
])
def test_int_in_refuses_with_the_range(text, words):
    with pytest.raises(argparse.ArgumentTypeError) as err:
        argtypes.int_in(20, 200_000)(text)
    assert words in str(err.value) and len(str(err.value)) < 200


def test_int_in_accepts_whole_numbers_written_as_floats():
    assert argtypes.int_in(20, 200_000)("1e3") == 1000
    assert isinstance(argtypes.int_in(20, 200_000)("1e3"), int)


@pytest.mark.parametrize("text", ["0", "-1", "1e400", "inf", "nan", "x", "11"])
def test_float_in_refuses(text):
    with pytest.raises(argparse.ArgumentTypeError, match="above 0 up to 10 s"):
        argtypes.float_in(0, 10, "s", low_open=True)(text)


@pytest.mark.parametrize("text, expected", [
    ("[::1]:9000", ("::1", 9000)), ("::1:9000", ("::1", 9000)),
    ("255.255.255.255:9000", ("255.255.255.255", 9000)),
    ("fe80::1:57120", ("fe80::1", 57120)),
])
def test_host_port_takes_ipv6(text, expected):
    assert argtypes.host_port(text) == expected


@pytest.mark.parametrize("text", ["[::1]", "[::1]9000", "fe80::zz:9000", "[]:9000", "::1"])
def test_host_port_refuses_malformed_ipv6(text):
    with pytest.raises(argparse.ArgumentTypeError):
        argtypes.host_port(text)


@pytest.mark.parametrize("text, expected", [
    ("6448", ("127.0.0.1", 6448)), ("0.0.0.0:6448", ("0.0.0.0", 6448)),
    ("[::]:6448", ("::", 6448)),
])
def test_listen_address(text, expected):
    assert argtypes.listen_address(text) == expected


def test_model_dir_says_a_file_is_not_a_model(tmp_path):
    model = tmp_path / "mine"
    model.mkdir()
    (model / "config.json").write_text("{}")
    with pytest.raises(argparse.ArgumentTypeError, match="is a file, not a model directory") as err:
        argtypes.model_dir(str(model / "config.json"))
    assert f"--model {model}" in str(err.value)
    with pytest.raises(argparse.ArgumentTypeError, match="does not exist; train one"):
        argtypes.model_dir(str(tmp_path / "nothing"))
    assert argtypes.model_dir(str(model)) == str(model)


@pytest.mark.parametrize("argv, words", [
    (["train", "--gestures", "recordings/demo.jsonl", "--out", "x", "--sounds", "1e10"],
     "argument --sounds: 1e10 is out of range; use a whole number in 20..200000"),
    (["train", "--gestures", "recordings/demo.jsonl", "--out", "x", "--layers", "1000"],
     "argument --layers: 1000 is out of range; use a whole number in 1..8"),
    (["train", "--gestures", "recordings/demo.jsonl", "--out", "x", "--seed", "1e20"],
     "argument --seed: 1e20 is out of range; use a whole number in 0..4294967295"),
    (["gestures", "synth", "--out", "x.jsonl", "--width", "1e308"], "argument --width"),
    (["gestures", "synth", "--out", "x.jsonl", "--seconds", "1e12"], "argument --seconds"),
    (["perform", "--model", "models/default", "--buffer", "100000000"], "16..16384 samples"),
    (["perform", "--model", "models/default", "--rate", "1e9"], "8000..192000 Hz"),
    (["perform", "--model", "recordings/demo.jsonl"], "is a file, not a model directory"),
    (["render", "--model", "recordings/demo.jsonl", "--gestures", "recordings/demo.jsonl",
      "--out", "x.wav"], "is a file, not a model directory"),
    (["sounds", "build", "--n", "1e10", "--out", "x.npz"], "20..200000"),
    (["synth", "--seconds", "1e9", "--out", "x.wav"], "argument --seconds"),
])
def test_cli_numbers_out_of_range_are_one_line_exit_2(capsys, argv, words):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1, err


@pytest.mark.parametrize("func, text, words", [
    (argtypes.positive_int, "3000000000", "must be <= 2147483647"),
    (argtypes.nonnegative_int, "9" * 5000, "(5000 characters) is out of range"),
    (argtypes.positive_float, "1e300", "must be <= 1000000000.0"),
])
def test_generic_types_are_bounded_too(func, text, words):
    with pytest.raises(argparse.ArgumentTypeError) as err:
        func(text)
    assert words in str(err.value)
