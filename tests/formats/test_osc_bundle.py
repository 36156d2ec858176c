"""osc_bundle.py: NTP time tags and bundles, decoded by python-osc (an independent decoder)."""

import pytest

from instrument.formats.osc import encode_message
from instrument.formats.osc_bundle import (
    IMMEDIATELY,
    encode_bundle,
    ntp_timetag,
    timetag_seconds,
)

osc_bundle = pytest.importorskip("pythonosc.osc_bundle")


def test_timetag_round_trip_to_a_fraction_of_a_microsecond():
    for unix in (0.0, 1.5, 1_796_000_000.123456, 2_000_000_000.999999):
        assert abs(timetag_seconds(ntp_timetag(unix)) - unix) < 1e-6
    assert ntp_timetag(0.0) >> 32 == 2_208_988_800


def test_python_osc_reads_our_bundle():
    messages = [encode_message("/wek/outputs", "ff", [0.25, 0.5]),
                encode_message("/instrument/sound", "i", [42])]
    unix = 1_796_000_000.25
    data = encode_bundle(ntp_timetag(unix), messages)
    bundle = osc_bundle.OscBundle(data)
    assert bundle.num_contents == 2
    contents = list(bundle)
    assert contents[0].address == "/wek/outputs" and contents[0].params == [0.25, 0.5]
    assert contents[1].address == "/instrument/sound" and contents[1].params == [42]
    # python-osc gives the time tag as Unix seconds
    assert abs(bundle.timestamp - unix) < 1e-6


def test_immediately():
    assert encode_bundle(IMMEDIATELY, [])[8:16] == b"\0" * 7 + b"\1"
