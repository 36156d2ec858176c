"""OSC /wek/inputs with N floats: parse_inputs, and OscIn / OscSource over real UDP."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from instrument.formats import osc
from instrument.formats.osc import MAX_INPUTS, parse_inputs
from instrument.gesture.osc_in import OscIn
from instrument.gesture.sources import OscSource


def bundle(*messages: bytes) -> bytes:
    return b"#bundle\0" + b"\0" * 7 + b"\1" + b"".join(
        struct.pack(">i", len(m)) + m for m in messages)


def test_parse_inputs_takes_any_width_and_mixed_number_types():
    msg = osc.encode_message("/wek/inputs", "f" * 16, [i / 16 for i in range(16)])
    kind, values = parse_inputs(msg)
    assert kind == osc.OK and len(values) == 16 and values[4] == 0.25
    assert parse_inputs(msg, width=16)[0] == osc.OK
    assert parse_inputs(msg, width=3) == (osc.WRONG_ARITY, None)
    mixed = osc.encode_message("/wek/inputs", "fidh", [0.5, 7, 0.25, -3])
    assert parse_inputs(mixed) == (osc.OK, (0.5, 7.0, 0.25, -3.0))
    wide = osc.encode_message("/wek/inputs", "f" * MAX_INPUTS, [0.0] * MAX_INPUTS)
    assert parse_inputs(wide)[0] == osc.OK


@pytest.mark.parametrize("dgram, kind", [
    (b"junk", osc.NOT_OSC),
    (osc.encode_message("/wek/other", "f", [1.0]), osc.WRONG_ADDRESS),
    (osc.encode_message("/wek/inputs", "ff", [float("nan"), 1.0]), osc.NON_FINITE),
    (osc.encode_message("/wek/inputs", "ff", [float("inf"), 1.0]), osc.NON_FINITE),
    (osc.encode_message("/wek/inputs", "fd", [1.0, 1e12]), osc.ABSURD),
    (osc.encode_message("/wek/inputs", "", []), osc.WRONG_ARITY),
    (osc.encode_message("/wek/inputs", "f" * (MAX_INPUTS + 1), [0.0] * (MAX_INPUTS + 1)),
     osc.WRONG_ARITY),
    (osc.encode_message("/wek/inputs", "d" * 5000, [0.0] * 5000), osc.TOO_LARGE),
    (osc.encode_message("/wek/inputs", "ff", [1.0, 2.0])[:-2], osc.NOT_OSC),   # truncated
    (osc.encode_message("/wek/inputs", "ff", [1.0, 2.0]) + b"\0\0\0\0", osc.NOT_OSC),
    (b"/wek/inputs\0,fs\0" + struct.pack(">f", 1.0) + b"ab\0\0", osc.WRONG_TYPES),
])
def test_parse_inputs_rejects_garbage_by_kind(dgram, kind):
    assert parse_inputs(dgram) == (kind, None)


def _send(port: int, *dgrams: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        for dgram in dgrams:
            client.sendto(dgram, ("127.0.0.1", port))


def _wait(condition, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.005)


def test_osc_in_takes_its_width_from_the_first_good_packet_and_counts_the_rest():
    got = []
    with OscIn(0, on_values=lambda t, values: got.append((t, values))) as osc_in:
        assert osc_in.host == "127.0.0.1" and osc_in.width is None
        three = [osc.encode_message("/wek/inputs", "fff", [0.1 * i, 0.2, 0.3])
                 for i in range(5)]
        _send(osc_in.port, b"junk", three[0],
              osc.encode_message("/wek/inputs", "ff", [0.5, 0.5]),        # another width
              osc.encode_message("/wek/inputs", "fff", [float("nan"), 0, 0]),
              osc.encode_message("/wek/inputs", "fff", [1e10, 0, 0]),
              bundle(*three[1:]))
        _wait(lambda: len(got) == 5 and osc_in.rejected == 4)
    assert osc_in.width == 3
    assert [round(v[0], 6) for _, v in got] == [0.0, 0.1, 0.2, 0.3, 0.4]  # bundle in order
    assert all(a[0] <= b[0] for a, b in zip(got, got[1:]))
    assert osc_in.counts[osc.OK] == 5 and osc_in.counts[osc.WRONG_ARITY] == 1
    assert osc_in.counts[osc.NON_FINITE] == 1 and osc_in.counts[osc.ABSURD] == 1
    assert osc_in.counts[osc.NOT_OSC] == 1


def test_osc_in_with_a_given_width_and_a_handler_that_fails():
    def handler(t, values):
        raise RuntimeError("boom")

    with OscIn(0, on_values=handler, inputs=16) as osc_in:
        _send(osc_in.port, osc.encode_message("/wek/inputs", "f" * 3, [0.0] * 3),
              osc.encode_message("/wek/inputs", "f" * 16, [0.0] * 16))
        _wait(lambda: osc_in.counts[osc.HANDLER_ERROR] == 1)
    assert osc_in.counts[osc.WRONG_ARITY] == 1 and osc_in.width == 16
    assert "boom" in osc_in.last_handler_error


def test_osc_source_polls_samples_with_channels_in1_to_inN():
    source = OscSource(0).start()
    try:
        assert source.channels is None
        _send(source.port, *[osc.encode_message("/wek/inputs", "f" * 16, [i] * 16)
                             for i in range(3)])
        samples = []
        _wait(lambda: samples.extend(source.poll()) or len(samples) == 3)
    finally:
        source.close()
    assert [c.name for c in source.channels] == [f"in{i + 1}" for i in range(16)]
    assert [v[0] for _, v in samples] == [0.0, 1.0, 2.0]
