"""OscOut with --osc-bundles: one time-tagged bundle per frame over real UDP, decoded by
python-osc; the tag is the frame's input time plus the latency, exactly (injected times)."""

import socket

import numpy as np
import pytest

from instrument.errors import BadInput
from instrument.output.osc import OscOut
from instrument.sound.params import PARAM_TABLE

osc_bundle = pytest.importorskip("pythonosc.osc_bundle")

# NTP fractions are 1/2**32 s and time.time() is a double near 1.8e9 s: ~0.3 us of rounding.
TAG_TOLERANCE_S = 1e-6


def receiver():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    return sock


def test_each_frame_is_one_bundle_tagged_input_time_plus_latency():
    rx = receiver()
    latency = 0.02
    unit = np.array([0.1, 0.5, 0.9, 0.3])
    physical = PARAM_TABLE.to_physical(unit)
    arrivals = [100.0, 100.01, 100.0215]          # perf_counter times of three inputs
    with OscOut([("127.0.0.1", rx.getsockname()[1])], PARAM_TABLE,
                bundle_latency=latency) as out:
        for i, at in enumerate(arrivals):
            assert out.send_frame(i, unit, physical, at=at) == 0
        offset = out._wall_offset
        assert out.packets == 3 and out.frames == 3
    for i, at in enumerate(arrivals):
        data = rx.recv(4096)
        assert osc_bundle.OscBundle.dgram_is_bundle(data)
        bundle = osc_bundle.OscBundle(data)
        contents = list(bundle)
        assert [m.address for m in contents] == ["/wek/outputs", "/instrument/params",
                                                 "/instrument/sound"]
        np.testing.assert_array_equal(contents[0].params, unit.astype(np.float32))
        np.testing.assert_allclose(contents[1].params, physical.astype(np.float32), rtol=1e-6)
        assert contents[2].params == [i]
        assert abs(bundle.timestamp - (at + offset + latency)) < TAG_TOLERANCE_S
    rx.close()


def test_plain_messages_without_bundles_and_bad_latency():
    rx = receiver()
    unit = np.full(4, 0.5)
    with OscOut([("127.0.0.1", rx.getsockname()[1])], PARAM_TABLE) as out:
        out.send_frame(0, unit, PARAM_TABLE.to_physical(unit), at=1.0)
    assert rx.recv(4096).startswith(b"/wek/outputs")
    rx.close()
    with pytest.raises(BadInput, match="bundle latency"):
        OscOut([("127.0.0.1", 9)], PARAM_TABLE, bundle_latency=-1.0)
