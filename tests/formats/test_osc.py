"""OSC in/out: pure parsing first, then real UDP sockets on 127.0.0.1 (ephemeral ports)."""

from __future__ import annotations

import math
import socket
import struct
import time

import numpy as np
import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from instrument.errors import BadInput
from instrument.formats import osc
from instrument.gesture.osc_in import OscIn
from instrument.output.osc import OscOut
from instrument.sound.params import PARAM_TABLE


def _receiver() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2.0)
    return sock


def _free_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    sock = _receiver()
    port = sock.getsockname()[1]
    sock.close()
    return port


def _wait_for(predicate, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.002)
    return predicate()


# --- pure parsing ---------------------------------------------------------------------------

@pytest.mark.parametrize("tags", ["ff", "ii", "fd", "hf", "dd"])
def test_parse_accepts_two_numbers_of_any_numeric_type(tags):
    values = [0.25 if t in "fd" else 1 for t in tags]
    kind, x, y = osc.parse_pointer(osc.encode_message("/wek/inputs", tags, values))
    assert kind == osc.OK
    assert (x, y) == (values[0], values[1])


def test_parse_matches_python_osc_builder():
    """A message built by python-osc (what a client sends) parses to the same values."""
    builder = OscMessageBuilder("/wek/inputs")
    builder.add_arg(0.125)
    builder.add_arg(0.75)
    assert osc.parse_pointer(builder.build().dgram) == (osc.OK, 0.125, 0.75)


def _msg(address, tags, *payload):
    return osc.message_prefix(address, tags) + b"".join(payload)


F = struct.Struct(">f").pack


@pytest.mark.parametrize("dgram, kind", [
    (b"hello world", osc.NOT_OSC),
    (b"/wek/inputs", osc.NOT_OSC),                                   # no NUL terminator
    (b"/wek/inputs\0\0\0\0ff\0\0" + F(0.5) * 2, osc.NOT_OSC),        # tags without comma
    (osc.encode_message("/wek/inputs", "ff", [0.5, 0.5])[:-2], osc.NOT_OSC),   # truncated
    (osc.encode_message("/wek/inputs", "ff", [0.5, 0.5]) + b"\0" * 4, osc.NOT_OSC),
    (b"/wek/\xff\xfe\0\0", osc.NOT_OSC),                              # not ASCII
    (osc.encode_message("/wek/outputs", "ff", [0.5, 0.5]), osc.WRONG_ADDRESS),
    (osc.encode_message("/wek/inputs/x", "ff", [0.5, 0.5]), osc.WRONG_ADDRESS),
    (_msg("/wek/inputs", "fs", F(0.5), osc.osc_string("x")), osc.WRONG_TYPES),
    (_msg("/wek/inputs", "fT", F(0.5)), osc.WRONG_TYPES),
    (osc.osc_string("/wek/inputs"), osc.WRONG_ARITY),                  # no type tags
    (osc.encode_message("/wek/inputs", "f", [0.5]), osc.WRONG_ARITY),
    (osc.encode_message("/wek/inputs", "fff", [0.5, 0.5, 0.5]), osc.WRONG_ARITY),
    (osc.encode_message("/wek/inputs", "ff", [math.nan, 0.5]), osc.NON_FINITE),
    (osc.encode_message("/wek/inputs", "fd", [0.5, -math.inf]), osc.NON_FINITE),
    (osc.encode_message("/wek/inputs", "ff", [1e30, 0.5]), osc.ABSURD),
    (osc.encode_message("/wek/inputs", "ii", [2**31 - 1, 0]), osc.ABSURD),
    (osc.osc_string("/wek/inputs") + b"\0" * 1000, osc.TOO_LARGE),
])
def test_parse_rejects_with_the_right_kind(dgram, kind):
    assert osc.parse_pointer(dgram)[0] == kind


def test_pixel_limits_accept_screen_coordinates():
    dgram = osc.encode_message("/wek/inputs", "ff", [1920.0, 1080.0])
    assert osc.parse_pointer(dgram, osc.NORMALIZED_LIMITS)[0] == osc.ABSURD
    assert osc.parse_pointer(dgram, osc.PIXEL_LIMITS) == (osc.OK, 1920.0, 1080.0)


def test_parse_never_raises_on_random_bytes(rng):
    kinds = set()
    for _ in range(3000):
        n = int(rng.integers(0, 80))
        dgram = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        if rng.random() < 0.5:      # make many of them look like OSC so deeper paths run
            dgram = b"/wek/inputs\0" + dgram
        kind, _, _ = osc.parse_pointer(dgram)
        kinds.add(kind)
    assert osc.OK not in kinds and kinds <= set(osc.REJECT_KINDS)


def test_bundle_elements():
    inner = osc.encode_message("/wek/inputs", "ff", [0.1, 0.2])
    bundle = b"#bundle\0" + b"\0" * 8 + struct.pack(">i", len(inner)) + inner
    assert osc.bundle_elements(bundle) == [inner]
    assert osc.bundle_elements(bundle[:-3]) is None
    assert osc.bundle_elements(b"#bundle\0" + b"\0" * 8 + struct.pack(">i", -4)) is None


# --- OSC out over UDP -----------------------------------------------------------------------

def test_out_sends_three_messages_per_frame_to_every_target():
    receivers = [_receiver(), _receiver()]
    targets = [("127.0.0.1", r.getsockname()[1]) for r in receivers]
    unit = np.array([0.1, 0.5, 1.7, -0.2], dtype=np.float64)   # out-of-range: clipped on send
    physical = PARAM_TABLE.to_physical(np.clip(unit, 0, 1))
    with OscOut(targets, PARAM_TABLE) as out:
        assert out.send_frame(7, unit, physical) == 0
        assert out.packets == 6 and out.frames == 1 and out.error_count == 0
    n = len(PARAM_TABLE.names)
    for receiver in receivers:
        messages = [receiver.recv(1024) for _ in range(3)]
        receiver.close()
        parsed = [OscMessage(m) for m in messages]
        assert [m.address for m in parsed] == ["/wek/outputs", "/instrument/params",
                                               "/instrument/sound"]
        assert (",f" + "f" * (n - 1)).encode() in messages[0]
        assert (",f" + "f" * (n - 1)).encode() in messages[1]
        assert b",i\0\0" in messages[2]
        np.testing.assert_array_equal(parsed[0].params,
                                      np.clip(unit, 0, 1).astype(np.float32))
        np.testing.assert_allclose(parsed[1].params, physical.astype(np.float32))
        assert parsed[2].params == [7]


def test_missing_receiver_is_counted_and_never_fatal():
    live = _receiver()
    dead = ("127.0.0.1", _free_port())
    out = OscOut([dead, ("127.0.0.1", live.getsockname()[1])], PARAM_TABLE)
    unit = np.full(len(PARAM_TABLE.names), 0.5)
    physical = PARAM_TABLE.to_physical(unit)
    for _ in range(20):
        out.send_frame(1, unit, physical)
        time.sleep(0.001)            # give the kernel time to deliver the ICMP unreachable
    out.close()
    assert out.frames == 20
    assert out.errors["refused"] > 0
    assert out.errors_by_target[0] == out.error_count and out.errors_by_target[1] == 0
    received = 0
    live.settimeout(0.5)
    while True:
        try:
            live.recv(1024)
        except socket.timeout:
            break
        received += 1
    live.close()
    assert received == 60            # the live receiver got every packet of every frame


def test_out_rejects_bad_targets():
    with pytest.raises(BadInput, match="resolve"):
        OscOut([("no-such-host.invalid", 12000)], PARAM_TABLE)
    with pytest.raises(BadInput, match="no OSC target"):
        OscOut([], PARAM_TABLE)


# --- OSC in over UDP ------------------------------------------------------------------------

def _garbage(rng, kind: str, i: int) -> bytes:
    if kind == "random":
        return rng.integers(0, 256, int(rng.integers(1, 200)), dtype=np.uint8).tobytes()
    if kind == osc.WRONG_ADDRESS:
        return osc.encode_message(f"/wek/input{i % 10}", "ff", [0.5, 0.5])
    if kind == osc.WRONG_TYPES:
        return _msg("/wek/inputs", "sf", osc.osc_string(str(i)), F(0.5))
    if kind == osc.WRONG_ARITY:
        n = int(rng.choice([0, 1, 3, 4]))
        return osc.encode_message("/wek/inputs", "f" * n, [0.5] * n)
    if kind == osc.NON_FINITE:
        return osc.encode_message("/wek/inputs", "ff", [[math.nan, math.inf, -math.inf][i % 3],
                                                        0.5])
    if kind == osc.ABSURD:
        return osc.encode_message("/wek/inputs", "df", [1e300, 0.5])
    if kind == osc.TOO_LARGE:
        return osc.osc_string("/wek/inputs") + b"\0" * int(rng.integers(600, 4000))
    raise AssertionError(kind)


def test_in_survives_ten_thousand_malformed_packets(rng):
    got = []
    kinds = ["random", osc.WRONG_ADDRESS, osc.WRONG_TYPES, osc.WRONG_ARITY, osc.NON_FINITE,
             osc.ABSURD, osc.TOO_LARGE]
    with OscIn(0, lambda t, x, y: got.append((x, y)), normalized=True,
                   host="127.0.0.1") as osc_in:
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        address = ("127.0.0.1", osc_in.port)
        sent = {kind: 0 for kind in kinds}
        total = 0
        for batch in range(400):        # small batches keep the kernel buffer from overflowing
            for i in range(25):
                kind = kinds[(batch * 25 + i) % len(kinds)]
                client.sendto(_garbage(rng, kind, i), address)
                sent[kind] += 1
            total += 25
            assert _wait_for(lambda: sum(osc_in.counts.values()) >= total), osc_in.counts
        assert total == 10_000
        assert osc_in.counts[osc.OK] == 0 and got == []
        assert osc_in.rejected == 10_000
        for kind in kinds[1:]:
            assert osc_in.counts[kind] >= sent[kind], (kind, osc_in.counts)
        # ... and it still answers good packets, plain and in a bundle
        client.sendto(osc.encode_message("/wek/inputs", "ff", [0.25, 0.75]), address)
        inner = osc.encode_message("/wek/inputs", "ii", [1, 0])
        client.sendto(b"#bundle\0" + b"\0\0\0\0\0\0\0\1" + struct.pack(">i", len(inner)) + inner,
                      address)
        assert _wait_for(lambda: len(got) == 2)
        assert got == [(0.25, 0.75), (1.0, 0.0)]
        client.close()


def test_in_delivers_arrival_time_and_survives_a_failing_handler():
    calls = []

    def handler(t, x, y):
        calls.append((t, x, y))
        if x == 1.0:
            raise RuntimeError("boom")

    with OscIn(0, handler, normalized=False, host="127.0.0.1") as osc_in:
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        before = time.perf_counter()
        for x in (1.0, 640.0):
            client.sendto(osc.encode_message("/wek/inputs", "ff", [x, 480.0]),
                          ("127.0.0.1", osc_in.port))
        assert _wait_for(lambda: len(calls) == 2)
        client.close()
    assert osc_in.counts[osc.HANDLER_ERROR] == 1 and "boom" in osc_in.last_handler_error
    assert before <= calls[0][0] <= calls[1][0] <= time.perf_counter()
    assert calls[1][1:] == (640.0, 480.0)


def test_in_port_in_use_is_one_clear_error():
    with OscIn(0, None, host="127.0.0.1") as first:
        with pytest.raises(BadInput) as info:
            OscIn(first.port, None, host="127.0.0.1")
    message = str(info.value)
    assert str(first.port) in message and "--osc-in" in message and "\n" not in message
