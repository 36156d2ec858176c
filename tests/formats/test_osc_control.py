"""osc_control.py: any OSC message (checked against python-osc's builder), bounded, never
raising on garbage; replies python-osc can read."""

import struct

import pytest

from instrument.formats.osc import encode_message
from instrument.formats.osc_bundle import encode_bundle
from instrument.formats.osc_control import (
    MAX_ARGUMENTS,
    encode_reply,
    messages,
    parse_message,
)

builder = pytest.importorskip("pythonosc.osc_message_builder")
osc_message = pytest.importorskip("pythonosc.osc_message")


def build(address, *args):
    b = builder.OscMessageBuilder(address)
    for arg in args:
        b.add_arg(arg)
    return b.build().dgram


def test_every_argument_type_python_osc_writes():
    dgram = build("/wekinator/control/setInputNames", "x", "accel y", 3, 0.5, True, False,
                  None, b"\x01\x02\x03")
    address, args = parse_message(dgram)
    assert address == "/wekinator/control/setInputNames"
    assert args == ("x", "accel y", 3, 0.5, True, False, None, b"\x01\x02\x03")
    assert parse_message(build("/wekinator/control/train")) == ("/wekinator/control/train", ())
    assert parse_message(b"/old\0\0\0\0") == ("/old", ())      # no type tags at all


def test_float_fast_path_equals_the_general_path():
    values = [0.25, -1.5, 3.0e6, 0.0] * 4
    dgram = encode_message("/wek/inputs", "f" * 16, values)
    assert parse_message(dgram) == ("/wek/inputs", tuple(values))
    mixed = encode_message("/wek/inputs", "fd", [0.25, 0.5])
    assert parse_message(mixed) == ("/wek/inputs", (0.25, 0.5))


@pytest.mark.parametrize("dgram", [
    b"", b"no slash", b"/a", b"/a\0\0" + b"xx\0\0",               # bad tag string
    encode_message("/wek/inputs", "ff", [1, 2])[:-2],              # truncated floats
    encode_message("/wek/inputs", "ff", [1, 2]) + b"\0\0\0\0",     # trailing bytes
    b"/a\0\0,r\0\0\0\0\0\0",                                      # a type we cannot skip
    b"/a\0\0,s\0\0abc",                                            # unterminated string
    b"/a\0\0,b\0\0" + struct.pack(">i", 100) + b"xx",              # blob past the end
    b"/a\0\0" + (",".encode() + b"f" * (MAX_ARGUMENTS + 1) + b"\0").ljust(8192, b"\0"),
    b"/\xff\xfe\0",                                                # not UTF-8
])
def test_garbage_is_none_never_an_exception(dgram):
    assert parse_message(dgram) is None


def test_bundles_in_order_and_bounded_depth():
    a, b = build("/wek/inputs", 0.1, 0.2), build("/wekinator/control/train")
    assert messages(encode_bundle(1, [a, encode_bundle(1, [b])])) == [
        ("/wek/inputs", (pytest.approx(0.1), pytest.approx(0.2))),
        ("/wekinator/control/train", ())]
    deep = a
    for _ in range(6):
        deep = encode_bundle(1, [deep])
    assert messages(deep) is None
    assert messages(encode_bundle(1, [a, b"garbage!"])) is None


def test_replies_python_osc_can_read():
    dgram = encode_reply("/instrument/trained", ["models/m-0001", "seconds", 12.5, "n", 3])
    message = osc_message.OscMessage(dgram)
    assert message.address == "/instrument/trained"
    assert message.params == ["models/m-0001", "seconds", 12.5, "n", 3]
    assert parse_message(dgram)[1] == ("models/m-0001", "seconds", 12.5, "n", 3)
