"""OSC out to IPv6 and broadcast addresses: supported deliberately, over real sockets."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from pythonosc.osc_message import OscMessage

from instrument.errors import BadInput
from instrument.output.osc import OscOut
from instrument.sound.params import PARAM_TABLE

UNIT = np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32)
PHYS = PARAM_TABLE.to_physical(UNIT).astype(np.float32)


def test_ipv6_target_gets_the_frames():
    receiver = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    receiver.bind(("::1", 0))
    receiver.settimeout(5.0)
    with OscOut([("::1", receiver.getsockname()[1])], PARAM_TABLE) as out:
        assert out.send_frame(7, UNIT, PHYS) == 0
    message = OscMessage(receiver.recv(1024))
    receiver.close()
    assert message.address == "/wek/outputs"
    assert message.params == pytest.approx(UNIT.tolist(), rel=1e-7)


def test_localhost_prefers_ipv4_where_synths_listen():
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5.0)
    with OscOut([("localhost", receiver.getsockname()[1])], PARAM_TABLE) as out:
        out.send_frame(7, UNIT, PHYS)
        assert out._sockets[0].family == socket.AF_INET
    assert OscMessage(receiver.recv(1024)).address == "/wek/outputs"
    receiver.close()


def test_broadcast_target_is_allowed_and_never_raises():
    # The receiver must listen on all interfaces to hear a broadcast (test-only, 2 s).
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("0.0.0.0", 0))
    receiver.settimeout(2.0)
    try:
        with OscOut([("255.255.255.255", receiver.getsockname()[1])], PARAM_TABLE) as out:
            sock = out._sockets[0]
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST) == 1
            failed = out.send_frame(7, UNIT, PHYS)       # no PermissionError
        if failed == 0:        # a machine with a broadcast-capable interface hears it back
            assert OscMessage(receiver.recv(1024)).address == "/wek/outputs"
        else:                  # no network at all: counted, as any unreachable receiver
            assert out.error_count == failed
    finally:
        receiver.close()


def test_unresolvable_host_is_one_line():
    with pytest.raises(BadInput, match="cannot resolve OSC host"):
        OscOut([("no-such-host.invalid", 9000)], PARAM_TABLE)
