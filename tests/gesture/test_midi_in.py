"""midi_in.py: MIDI messages -> stream channels (mido messages), and a real JACK MIDI port."""

from __future__ import annotations

import os
import time

import mido
import pytest
from _jack import jack_server

from instrument.errors import BadInput, DeviceError
from instrument.gesture.midi_in import MidiDecoder, MidiSource, input_names, parse_cc_list

JACK = "mido.backends.rtmidi/UNIX_JACK"


def state(decoder):
    return dict(zip([c.name for c in decoder.channels], decoder.values.tolist()))


def test_channels_are_the_ccs_then_note_velocity_aftertouch_pitchbend():
    d = MidiDecoder(ccs=(1, 74))
    assert [c.name for c in d.channels] == ["cc1", "cc74", "note", "velocity", "aftertouch",
                                            "pitchbend"]
    assert [c.kind for c in d.channels] == ["value"] * 4 + ["pressure", "value"]
    assert (d.channels[0].low, d.channels[0].high) == (0, 127)


def test_controllers_and_pitch_bend():
    d = MidiDecoder(ccs=(1, 74))
    assert d.decode(mido.Message("control_change", control=74, value=100))
    assert d.decode(mido.Message("control_change", channel=9, control=1, value=5))
    assert d.decode(mido.Message("pitchwheel", pitch=8191))
    s = state(d)
    assert (s["cc1"], s["cc74"], s["pitchbend"]) == (5, 100, 1.0)
    d.decode(mido.Message("pitchwheel", pitch=-8192))
    assert state(d)["pitchbend"] == -1.0


def test_notes_use_last_note_priority_and_release_to_zero_velocity():
    d = MidiDecoder(ccs=())
    d.decode(mido.Message("note_on", note=60, velocity=90))
    d.decode(mido.Message("note_on", note=64, velocity=70))
    assert (state(d)["note"], state(d)["velocity"]) == (64, 70)
    d.decode(mido.Message("aftertouch", value=127))
    assert state(d)["aftertouch"] == 1.0
    d.decode(mido.Message("polytouch", note=64, value=0))
    assert state(d)["aftertouch"] == 0.0
    d.decode(mido.Message("note_off", note=64))
    assert (state(d)["note"], state(d)["velocity"]) == (60, 90)   # back to the held key
    d.decode(mido.Message("note_on", note=60, velocity=0))         # note-on 0 = release
    s = state(d)
    assert (s["note"], s["velocity"], s["aftertouch"]) == (60, 0, 0)
    assert d.counts == {"ok": 6, "ignored": 0, "bad": 0}


def test_unknown_and_foreign_messages_are_counted_never_fatal():
    d = MidiDecoder(ccs=(1,), midi_channel=2)
    before = d.values.copy()
    ignored = [mido.Message("program_change", channel=1, program=3),
               mido.Message("control_change", channel=1, control=7, value=1),   # not asked
               mido.Message("control_change", channel=0, control=1, value=1),   # channel 1
               mido.Message("clock"), mido.Message("sysex", data=[1, 2, 3]),
               mido.Message("note_off", channel=1, note=10)]                   # never pressed
    for msg in ignored:
        assert not d.decode(msg)
    for junk in (None, "note_on", 42, object()):
        assert not d.decode(junk)
    assert (d.values == before).all()
    assert d.counts == {"ok": 0, "ignored": len(ignored), "bad": 4}
    assert d.decode(mido.Message("control_change", channel=1, control=1, value=9))


def test_cc_lists_and_channels_are_checked():
    assert parse_cc_list("1,2,74") == (1, 2, 74)
    for bad in ("", "1,,2", "128", "-1", "1,1", "a"):
        with pytest.raises(BadInput, match="--midi-cc"):
            parse_cc_list(bad)
    with pytest.raises(BadInput, match="1..16"):
        MidiDecoder(midi_channel=17)


def test_no_midi_system_is_one_line(monkeypatch):
    # No ALSA sequencer here and no JACK server of this name: every MIDI API fails.
    monkeypatch.setenv("JACK_DEFAULT_SERVER", f"no-such-server-{os.getpid()}")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    if os.path.exists("/dev/snd/seq"):
        pytest.skip("this machine has an ALSA sequencer, so MIDI ports can exist")
    with pytest.raises(DeviceError) as err:
        MidiSource("nanoKONTROL", MidiDecoder())
    assert "no MIDI input port 'nanoKONTROL'" in str(err.value) and "\n" not in str(err.value)
    assert input_names() == {} or all(not names for names in input_names().values())


@pytest.mark.slow
def test_a_real_virtual_port_records_what_a_controller_sends():
    """Through JACK MIDI on the dummy driver (there is no ALSA sequencer on CI machines)."""
    with jack_server(period=64):
        samples = []
        with MidiSource("virtual", MidiDecoder(ccs=(1, 2))) as source:
            names = mido.Backend(JACK).get_output_names()
            target = [n for n in names if "instrument" in n]
            assert target, names
            controller = mido.Backend(JACK).open_output(target[0])
            # JACK connects the two in a later cycle (later still on a busy machine): probe
            # with cc2 until one arrives, then forget the probes.
            end = time.monotonic() + 10
            while not source.poll() and time.monotonic() < end:
                controller.send(mido.Message("control_change", control=2, value=1))
                time.sleep(0.05)
            time.sleep(0.05)
            source.poll()
            sent = [mido.Message("control_change", control=1, value=v) for v in (10, 20, 30)]
            sent += [mido.Message("note_on", note=62, velocity=99),
                     mido.Message("program_change", program=1)]
            for msg in sent:
                controller.send(msg)
                time.sleep(0.01)
            end = time.monotonic() + 5
            while len(samples) < 4 and time.monotonic() < end:
                samples += source.poll()
                time.sleep(0.01)
            controller.close()
        assert [v[0] for _, v in samples] == [10, 20, 30, 30]
        assert samples[-1][1][2:4].tolist() == [62, 99]             # note, velocity
        assert all(a[0] <= b[0] for a, b in zip(samples, samples[1:]))
        assert source.counts["ignored"] == 1          # the program change
