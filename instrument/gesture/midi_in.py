"""MIDI in (mido + python-rtmidi): controllers, notes and pressure as a stream's channels.

A MIDI controller is stateful: every message changes one number (a fader, a key) and the
stream's sample is the whole state after it. The channels, in order:

- ``cc<n>`` for each controller number asked for (``--midi-cc``, default 1..8), 0..127;
- ``note`` (the sounding note number, 0..127; the last one pressed, "last note priority",
  and it keeps its value after release), ``velocity`` (0..127 while a key is held, 0 when
  none is), ``aftertouch`` (channel or polyphonic pressure of the sounding note, 0..1, 0
  when no key is held; kind ``pressure``), ``pitchbend`` (-1..1).

Messages of every MIDI channel are merged unless ``midi_channel`` (1..16) is given. Any other
message (clock, sysex, program change, a controller not asked for, another MIDI channel) is
counted as ``ignored``; something that is not a MIDI message is counted as ``bad``; neither
ever stops the input.
"""

from __future__ import annotations

import collections
import os
import threading
import time

import numpy as np

from instrument.errors import BadInput, DeviceError
from instrument.formats.channels import PRESSURE, VALUE, Channel

DEFAULT_CCS = (1, 2, 3, 4, 5, 6, 7, 8)
MAX_PENDING = 65536            # samples kept between two polls (a stuck consumer loses the oldest)
_APIS = ("mido.backends.rtmidi", "mido.backends.rtmidi/UNIX_JACK")


def parse_cc_list(text: str) -> tuple[int, ...]:
    """``"1,2,7"`` -> (1, 2, 7): controller numbers 0..127, no repeats (BadInput otherwise)."""
    try:
        numbers = tuple(int(part) for part in str(text).split(","))
    except ValueError:
        raise BadInput(f"--midi-cc {text!r} must be controller numbers like 1,2,7") from None
    if not numbers or any(not 0 <= n <= 127 for n in numbers) or len(set(numbers)) != len(numbers):
        raise BadInput(f"--midi-cc {text!r}: give 1..128 different controller numbers in 0..127")
    return numbers


class MidiDecoder:
    """MIDI messages -> the state of every channel (see the module docstring).

    Args:
        ccs: Controller numbers that become channels, in this order.
        midi_channel: 1..16 to listen to one MIDI channel only, None for all.

    Attributes:
        channels: The stream's channels.
        values: float64 [C], the state after the last message (read it after decode()).
        counts: {"ok", "ignored", "bad"} message counts.
    """

    def __init__(self, ccs=DEFAULT_CCS, midi_channel: int | None = None):
        self.ccs = tuple(ccs)
        if midi_channel is not None and not 1 <= int(midi_channel) <= 16:
            raise BadInput(f"MIDI channel {midi_channel!r} must be 1..16")
        self.midi_channel = None if midi_channel is None else int(midi_channel) - 1
        self._cc_index = {n: i for i, n in enumerate(self.ccs)}
        k = len(self.ccs)
        self._note, self._velocity, self._touch, self._bend = k, k + 1, k + 2, k + 3
        self.channels = tuple(
            [Channel(f"cc{n}", VALUE, "midi", 0.0, 127.0) for n in self.ccs]
            + [Channel("note", VALUE, "midi", 0.0, 127.0),
               Channel("velocity", VALUE, "midi", 0.0, 127.0),
               Channel("aftertouch", PRESSURE, "", 0.0, 1.0),
               Channel("pitchbend", VALUE, "", -1.0, 1.0)])
        self.values = np.zeros(len(self.channels))
        self._held: dict[int, int] = {}          # note -> velocity, in pressing order
        self.counts = {"ok": 0, "ignored": 0, "bad": 0}

    def decode(self, msg) -> bool:
        """Apply one message; True when it changed the state (one sample of the stream)."""
        kind = getattr(msg, "type", None)
        if not isinstance(kind, str):
            self.counts["bad"] += 1
            return False
        channel = getattr(msg, "channel", None)
        if channel is None or (self.midi_channel is not None and channel != self.midi_channel):
            self.counts["ignored"] += 1          # system messages, other MIDI channels
            return False
        v = self.values
        if kind == "control_change" and msg.control in self._cc_index:
            v[self._cc_index[msg.control]] = msg.value
        elif kind == "note_on" and msg.velocity > 0:
            self._held.pop(msg.note, None)
            self._held[msg.note] = msg.velocity
            v[self._note], v[self._velocity] = msg.note, msg.velocity
        elif kind == "note_off" or (kind == "note_on" and msg.velocity == 0):
            if self._held.pop(msg.note, None) is None:
                self.counts["ignored"] += 1      # a release of a key we never saw pressed
                return False
            if self._held:                       # back to the last key still held
                note = next(reversed(self._held))
                v[self._note], v[self._velocity] = note, self._held[note]
            else:
                v[self._velocity] = v[self._touch] = 0.0
        elif kind == "aftertouch":
            v[self._touch] = msg.value / 127.0
        elif kind == "polytouch" and self._held and msg.note == int(v[self._note]):
            v[self._touch] = msg.value / 127.0
        elif kind == "pitchwheel":
            v[self._bend] = max(msg.pitch / 8191.0, -1.0)
        else:
            self.counts["ignored"] += 1
            return False
        self.counts["ok"] += 1
        return True


def input_names() -> dict[str, list[str]]:
    """{api: [MIDI input port names]} for every MIDI API that works here."""
    from instrument.output.sounddevice_voice import quiet_stderr

    mido = _import_mido()
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    found = {}
    for api in _APIS:
        try:
            with quiet_stderr():        # ALSA and JACK print their failures on fd 2
                found[api] = list(mido.Backend(api).get_input_names())
        except Exception:  # noqa: BLE001 - rtmidi raises SystemError/RuntimeError variants
            continue
    return found


def _import_mido():
    try:
        import mido
    except ImportError:
        raise BadInput("MIDI needs mido and python-rtmidi",
                       "pip install 'instrument[midi]' (make setup installs them)") from None
    return mido


class MidiSource:
    """A MIDI input port as a stream source: messages arrive on rtmidi's thread, samples are
    taken with :meth:`poll` (the recorder's loop) or handed to ``on_values`` at once.

    Args:
        port: Input port name (or its start), or "virtual" for a new port called
            ``instrument`` that other programs connect to.
        decoder: The MidiDecoder (its channels are the stream's).
        clock: Time source of the samples (seconds).
        on_values: Optional ``callback(t, values)`` called at once on rtmidi's thread
            (live performance); otherwise samples queue for :meth:`poll`.

    Raises:
        DeviceError: One line when no MIDI system works or there is no such port (the line
            lists the ports there are).
    """

    def __init__(self, port: str, decoder: MidiDecoder, clock=time.perf_counter,
                 on_values=None):
        self.decoder, self.clock, self.on_values = decoder, clock, on_values
        self.channels = decoder.channels
        self._pending: collections.deque = collections.deque(maxlen=MAX_PENDING)
        self._lock = threading.Lock()
        self.port = self._open(port)

    def _open(self, name: str):
        from instrument.output.sounddevice_voice import quiet_stderr

        with quiet_stderr():            # ALSA and JACK print their failures on fd 2
            return self._open_quietly(name)

    def _open_quietly(self, name: str):
        mido = _import_mido()
        os.environ.setdefault("JACK_NO_START_SERVER", "1")
        problems = []
        for api in _APIS:
            try:
                backend = mido.Backend(api)
                if name == "virtual":
                    return backend.open_input("instrument", virtual=True, callback=self._on_message)
                names = backend.get_input_names()
            except Exception as err:  # noqa: BLE001 - no ALSA sequencer, no JACK server...
                problems.append(f"{api.rsplit('/', 1)[-1]}: {str(err).splitlines()[0][:80]}")
                continue
            for candidate in names:
                if candidate == name or candidate.startswith(name):
                    return backend.open_input(candidate, callback=self._on_message)
            problems.append(f"{api.rsplit('/', 1)[-1]}: no port {name!r} among "
                            f"{', '.join(names) or 'no ports'}")
        raise DeviceError(f"no MIDI input port {name!r} (" + "; ".join(problems) + ")",
                          "connect the controller and give its name with --midi-port, or "
                          "'virtual'; on Linux the ALSA sequencer (modprobe snd-seq) or a "
                          "running jackd is needed")

    def _on_message(self, msg) -> None:
        # rtmidi's thread: decode and time-stamp at once; never raise into rtmidi.
        t = self.clock()
        try:
            with self._lock:
                if not self.decoder.decode(msg):
                    return
                values = self.decoder.values.copy()
                if self.on_values is None:
                    self._pending.append((t, values))
                    return
            self.on_values(t, values)
        except Exception:  # noqa: BLE001 - a broken message or handler must not stop MIDI
            self.decoder.counts["bad"] += 1

    def poll(self) -> list:
        """Every (t, values) sample since the last poll, oldest first."""
        with self._lock:
            out = list(self._pending)
            self._pending.clear()
        return out

    def start(self) -> "MidiSource":
        """Nothing to start: messages flow from the moment it is open."""
        return self

    @property
    def counts(self) -> dict:
        return self.decoder.counts

    def close(self) -> None:
        """Close the port (idempotent)."""
        if self.port is not None:
            self.port.close()
            self.port = None

    def __enter__(self) -> "MidiSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def decoder_for_channels(channels, midi_channel: int | None = None) -> MidiDecoder:
    """The decoder that gives exactly ``channels`` (a model trained on a MIDI recording).

    Raises:
        BadInput: The channels are not those of ``record --source midi``.
    """
    names = [ch.name for ch in channels]
    tail = ["note", "velocity", "aftertouch", "pitchbend"]
    ccs = names[:-4]
    if names[-4:] != tail or not all(n.startswith("cc") and n[2:].isdigit() for n in ccs):
        raise BadInput("--midi-in needs a model trained on a MIDI recording (record --source "
                       f"midi); this one was trained on channels {', '.join(names[:6])}"
                       f"{'...' if len(names) > 6 else ''}")
    return MidiDecoder(tuple(int(n[2:]) for n in ccs), midi_channel)
