"""output/sampler_voice.py: the live callback == the offline render, mute, and
/instrument/slice on a real UDP socket (the pyo sampler: test_pyo_sampler.py)."""

import socket
import struct

import numpy as np
import pytest
import soundfile as sf

from instrument.output.sampler_voice import SamplerVoice
from instrument.output.slice_osc import SliceMessages, slice_message
from instrument.sound.sampler import render_slices

RATE = 22050


@pytest.fixture(scope="module")
def slices():
    rng = np.random.default_rng(0)
    return [(rng.standard_normal(int(RATE * d)) * 0.3).astype(np.float32)
            for d in (0.3, 0.05, 0.5, 0.2)]


def test_the_live_callback_plays_what_render_writes(slices):
    voice = SamplerVoice(slices, RATE, blocksize=256, mode="loop")
    changes = {0: 0, 3: 2, 4: 1, 9: 3, 30: 0}   # block -> slice chosen before it
    live = []
    for block in range(60):
        if block in changes:
            voice.set_params(np.array([changes[block]], np.float32))
        out = np.zeros((256, 1), np.float32)
        voice.callback(out, 256, None, None)
        live.append(out[:, 0])
    times = np.array(sorted(changes)) * 256 / RATE
    offline = render_slices(times, np.array([changes[b] for b in sorted(changes)]), slices,
                            60 * 256 / RATE, RATE, mode="loop")
    np.testing.assert_array_equal(np.concatenate(live), offline)


def test_mute_fades_out_without_a_click(slices):
    dc = [np.full(RATE, 0.8, np.float32)]
    voice = SamplerVoice(dc, RATE, blocksize=64)
    voice.set_params([0])
    outs = []
    for block in range(40):
        if block == 20:
            voice.mute(True)
        out = np.zeros((64, 1), np.float32)
        voice.callback(out, 64, None, None)
        outs.append(out[:, 0])
    audio = np.concatenate(outs)
    assert np.abs(np.diff(audio)).max() < 0.8 / (0.005 * RATE) * 1.6
    assert np.all(audio[-64:] == 0)


def test_slice_messages_name_the_file_start_and_duration():
    packet = slice_message("/samples/tä.wav", 1.5, 0.25)
    assert packet.startswith(b"/instrument/slice\0\0\0,sff\0\0\0\0")
    assert "/samples/tä.wav".encode() in packet
    assert struct.unpack(">ff", packet[-8:]) == (1.5, 0.25)
    assert len(packet) % 4 == 0


@pytest.mark.slow
def test_perform_sends_instrument_slice_for_an_audio_model(run_cli, audio_model):
    samples, gestures, model = audio_model   # conftest: 2 takes' slices, 12 s of strokes
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    port = receiver.getsockname()[1]
    res = run_cli("perform", "--model", model, "--replay", gestures, "--fast", "--headless",
                  "--audio", "none", "--osc", f"127.0.0.1:{port}")
    assert res.code == 0, res.err
    # perform has exited: every datagram it sent to 127.0.0.1 is already queued here, so the
    # drain below needs no long wait for stragglers (5 s did nothing but wait)
    receiver.settimeout(0.5)
    got = []
    try:
        while True:
            data = receiver.recv(65536)
            if data.startswith(b"/instrument/slice\0"):
                got.append(data)
    except socket.timeout:
        pass
    finally:
        receiver.close()
    assert got, "no /instrument/slice message arrived"
    last = got[-1]
    path = last[28:last.index(b"\0", 28)].decode()  # after the address and ",sff"
    start, duration = struct.unpack(">ff", last[-8:])
    info = sf.info(path)
    assert path.startswith(samples) and 0 <= start < info.duration and 0 < duration <= 4.0


def test_slice_messages_cache_per_slice():
    class Sources:
        rate = 100
        slices = np.array([[0, 50, 25]], np.int64)

        @staticmethod
        def file_path(i):
            return "/x.wav"

    messages = SliceMessages(Sources())
    assert messages(0) is messages(0)
    assert struct.unpack(">ff", messages(0)[-8:]) == (0.5, 0.25)
