"""argparse validators used by every subcommand."""

import argparse

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
