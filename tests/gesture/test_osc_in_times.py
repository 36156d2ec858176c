"""OSC input: every message of a bundle plays, in order, at its own time; IPv6 and listen
addresses. Real UDP sockets on loopback (ephemeral ports)."""

from __future__ import annotations

import socket
import time

import pytest

from instrument.config import GestureConfig
from instrument.formats.osc import encode_message
from instrument.formats.osc_bundle import IMMEDIATELY, encode_bundle, ntp_timetag
from instrument.gesture.osc_in import MAX_AHEAD_S, STEP_S, OscIn
from instrument.gesture.tracker import GestureTracker


def _wait_for(predicate, timeout=10.0):
    """Polls until true; the timeout only guards against a hang (nothing is timed)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and not predicate():
        time.sleep(0.002)
    return predicate()


def _inputs(x, y):
    return encode_message("/wek/inputs", "ff", [x, y])


def test_every_message_of_a_bundle_is_played_in_order_over_udp():
    calls = []
    tracker = GestureTracker(GestureConfig(), 800, 600)

    def on_pointer(t, x, y):
        calls.append((t, x, y))
        tracker.push(t, x * 800, y * 600)

    points = [(0.2 + 0.01 * i, 0.5) for i in range(60)]
    bundle = encode_bundle(IMMEDIATELY, [_inputs(x, y) for x, y in points])
    with OscIn(0, on_pointer, host="127.0.0.1") as osc_in:
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.sendto(bundle, ("127.0.0.1", osc_in.port))
        assert _wait_for(lambda: len(calls) == 60)
        client.close()
    # in the order sent; float32 on the wire (relative error < 6e-8)
    assert [v for c in calls for v in c[1:]] == pytest.approx([v for p in points for v in p],
                                                              rel=1e-7)
    arrival = calls[0][0]
    assert arrival == osc_in.arrival                             # one packet, one arrival
    # arrival + i µs, to float rounding of perf_counter values (~1e-10 s)
    assert [c[0] - arrival for c in calls] == pytest.approx([i * STEP_S for i in range(60)],
                                                            abs=1e-9)
    assert tracker.accepted == 60 and tracker.rejected == 0      # none "not later"


def test_a_future_timetag_sets_the_time_bounded_and_a_past_one_is_immediate():
    got = []
    osc_in = OscIn(0, lambda t, x, y: got.append(t), host="127.0.0.1")
    try:
        wall, arrival = 1_800_000_000.0, 500.0
        two = [_inputs(0.1, 0.1), _inputs(0.2, 0.2)]
        osc_in.handle_datagram(encode_bundle(ntp_timetag(wall + 0.25), two), arrival, wall)
        assert got == pytest.approx([arrival + 0.25, arrival + 0.25 + STEP_S], abs=1e-6)
        got.clear()
        osc_in.handle_datagram(encode_bundle(ntp_timetag(wall + 100.0), two), arrival + 1, wall + 1)
        assert got[0] == pytest.approx(arrival + 1 + MAX_AHEAD_S, abs=1e-6)   # a clock far off
        got.clear()
        # a late tag plays at arrival; an immediate bundle nested in a future one inherits it
        osc_in.handle_datagram(encode_bundle(ntp_timetag(wall), two), arrival + 3, wall + 3)
        nested = encode_bundle(ntp_timetag(wall + 4.5), [encode_bundle(IMMEDIATELY, two)])
        osc_in.handle_datagram(nested, arrival + 4, wall + 4)
        assert got == pytest.approx([arrival + 3, arrival + 3 + STEP_S,
                                     arrival + 4.5, arrival + 4.5 + STEP_S], abs=1e-6)
    finally:
        osc_in.stop()


def test_separate_packets_keep_their_arrival_times():
    got = []
    osc_in = OscIn(0, lambda t, x, y: got.append(t), host="127.0.0.1")
    try:
        osc_in.handle_datagram(_inputs(0.1, 0.1), 10.0, 0.0)
        osc_in.handle_datagram(_inputs(0.2, 0.1), 10.5, 0.5)
        osc_in.handle_datagram(_inputs(0.3, 0.1), 10.5, 0.5)    # same arrival: still later
        assert got == [10.0, 10.5, 10.5 + STEP_S]
    finally:
        osc_in.stop()


def test_listens_on_ipv6_loopback():
    calls = []
    with OscIn(0, lambda t, x, y: calls.append((x, y)), host="::1") as osc_in:
        client = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        client.sendto(_inputs(0.25, 0.75), ("::1", osc_in.port))
        assert _wait_for(lambda: len(calls) == 1)
        client.close()
    assert calls == [(0.25, 0.75)]


def test_default_host_is_this_machine_only():
    with OscIn(0, None) as osc_in:
        assert osc_in.host == "127.0.0.1"
        assert osc_in._sock.getsockname()[0] == "127.0.0.1"
