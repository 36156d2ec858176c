"""midi_out.py: frames to a real MIDI port (JACK MIDI on the dummy driver, ALSA where it
exists) arrive as the encoder's messages; a missing port or MIDI system is one line."""

import os
import threading
import time

import numpy as np
import pytest
from _jack import jack_server
from midi_helpers import assert_delivered

from instrument.errors import AudioDeviceError
from instrument.output.midi_encoding import MidiEncoder
from instrument.output.midi_out import MidiOut, open_port
from instrument.sound.params import PARAM_TABLE as TABLE

mido = pytest.importorskip("mido")
pytest.importorskip("rtmidi")
JACK = "mido.backends.rtmidi/UNIX_JACK"


class Inbox:
    """A port callback collecting messages, with a wait for the n-th."""

    def __init__(self):
        self.messages, self._cond = [], threading.Condition()

    def __call__(self, message):
        with self._cond:
            self.messages.append(tuple(message.bytes()))
            self._cond.notify_all()

    def wait(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < n and time.monotonic() < deadline:
                self._cond.wait(0.05)
        return list(self.messages)


def frames(n=20, seed=0):
    rng = np.random.default_rng(seed)
    return [u for u in rng.uniform(size=(n, 4))]


def expected_messages(units, **kw):
    encoder = MidiEncoder(TABLE, **kw)
    out = list(encoder.setup())
    for i, unit in enumerate(units):
        out += encoder.frame(i * 0.01, unit, TABLE.to_physical(unit), True)
    return out


@pytest.mark.slow
def test_virtual_port_delivers_every_message_in_order():
    with jack_server(period=64):
        port = open_port("virtual")
        try:
            names = mido.Backend(JACK).get_input_names()
            assert any("instrument" in name for name in names), names
            inbox = Inbox()
            listener = mido.Backend(JACK).open_input(
                [n for n in names if "instrument" in n][0], callback=inbox)
            time.sleep(0.2)                         # let JACK connect the two
            units = frames()
            midi = MidiOut(MidiEncoder(TABLE, channel=5), port)
            for i, unit in enumerate(units):
                midi.frame(i * 0.01, unit, TABLE.to_physical(unit))
                time.sleep(0.01)        # frames come at the gesture rate (JACK MIDI carries
                # a period's buffer of messages per cycle; a burst of 160 would overflow it)
            want = expected_messages(units, channel=5)
            assert_delivered(inbox.wait(len(want)), want)
            assert midi.errors == 0 and midi.messages == len(want)
            listener.close()
        finally:
            port.close()


@pytest.mark.slow
def test_named_port_connects_to_a_synth_and_mpe_arrives():
    with jack_server(period=64):
        inbox = Inbox()
        synth = mido.Backend(JACK).open_input("synth", virtual=True, callback=inbox)
        try:
            names = mido.Backend(JACK).get_output_names()
            name = [n for n in names if "synth" in n][0]
            midi = MidiOut(MidiEncoder(TABLE, mpe=True, mpe_members=4), open_port(name))
            units = frames(10, seed=1)
            time.sleep(0.05)            # the MPE setup (95 messages) leaves in a few cycles
            for i, unit in enumerate(units):
                midi.frame(i * 0.01, unit, TABLE.to_physical(unit))
                time.sleep(0.01)
            midi.close()
            encoder = MidiEncoder(TABLE, mpe=True, mpe_members=4)
            want = encoder.setup()
            for i, unit in enumerate(units):
                want += encoder.frame(i * 0.01, unit, TABLE.to_physical(unit), True)
            want += encoder.finish()
            assert_delivered(inbox.wait(len(want)), want)
        finally:
            synth.close()


def test_no_midi_system_or_no_such_port_is_one_line(monkeypatch):
    # No ALSA sequencer here and no JACK server of this name: both APIs fail.
    monkeypatch.setenv("JACK_DEFAULT_SERVER", f"no-such-server-{os.getpid()}")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    if os.path.exists("/dev/snd/seq"):
        pytest.skip("this machine has an ALSA sequencer: a virtual port would open")
    with pytest.raises(AudioDeviceError, match="virtual MIDI port") as err:
        open_port("virtual")
    assert "\n" not in str(err.value)
    with pytest.raises(AudioDeviceError, match="no MIDI output port 'Nope'"):
        open_port("Nope")


def test_alsa_virtual_port_where_the_os_has_one():
    if not os.path.exists("/dev/snd/seq"):
        pytest.skip("no ALSA sequencer on this machine (/dev/snd/seq missing); the JACK "
                    "tests cover a real port")
    port = open_port("virtual")
    port.send(mido.Message("control_change", control=16, value=1))
    port.close()


RECEIVER = """
import sys, threading, time, mido
got, lock = [], threading.Lock()
def on_message(message):
    with lock:
        got.append(message.hex())
port = mido.Backend("mido.backends.rtmidi/UNIX_JACK").open_input("synth", virtual=True,
                                                                    callback=on_message)
print("ready", flush=True)
sys.stdin.readline()
time.sleep(0.3)
with lock:
    print("\\n".join(got), flush=True)
"""


@pytest.mark.slow
def test_paced_frames_arrive_in_another_process():
    """300 frames (about 1200 7-bit CCs) 2 ms apart reach a synth in another process through
    JACK MIDI, in order."""
    import subprocess
    import sys

    with jack_server(period=64):
        synth = subprocess.Popen([sys.executable, "-c", RECEIVER], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert synth.stdout.readline().strip() == "ready"
            name = [n for n in mido.Backend(JACK).get_output_names() if "synth" in n][0]
            midi = MidiOut(MidiEncoder(TABLE, resolution=7), open_port(name))
            units = frames(300, seed=2)
            for i, unit in enumerate(units):
                midi.frame(i * 0.01, unit, TABLE.to_physical(unit))
                time.sleep(0.002)
            midi.close()
            out = synth.communicate("done\n", timeout=30)[0]
        finally:
            if synth.poll() is None:
                synth.kill()
    got = [tuple(bytes.fromhex(line)) for line in out.split("\n") if line.strip()]
    want = expected_messages(units, resolution=7)
    assert len(want) > 1000
    assert_delivered(got, want)
