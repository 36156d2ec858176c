"""MIDI out: control frames to a MIDI port (named or virtual) and/or a Standard MIDI File.

The messages are :mod:`instrument.output.midi_encoding`'s, so the port and the file get the
same bytes. Ports are opened with mido's rtmidi backend: ALSA's sequencer on Linux (where
``/dev/snd/seq`` exists), else JACK MIDI when a JACK server runs (``jackd -d dummy`` is
enough: this is how the tests reach a real port on machines without the sequencer), CoreMIDI
on macOS, Windows MM. ``virtual`` creates a port other programs connect to (ALSA, JACK,
CoreMIDI; not Windows). A send error is counted, never raised: a DAW that goes away cannot
stop the show.
"""

from __future__ import annotations

import os
import threading
import time

from instrument.errors import AudioDeviceError, BadInput
from instrument.output.midi_encoding import MidiEncoder

VIRTUAL = "virtual"
PORT_NAME = "instrument"
JACK_CONNECT_S = 0.1
_APIS = ("mido.backends.rtmidi", "mido.backends.rtmidi/UNIX_JACK")


def _import_mido():
    try:
        import mido
    except ImportError:
        raise BadInput("MIDI needs mido and python-rtmidi",
                       "pip install 'instrument[midi]' (make setup installs them)") from None
    return mido


def output_names() -> dict[str, list[str]]:
    """{api: [port names]} for every API that works here (an empty dict: none does)."""
    mido = _import_mido()
    found = {}
    # JACK clients must never start a server themselves (it would run with our lifetime).
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    for api in _APIS:
        try:
            found[api] = list(mido.Backend(api).get_output_names())
        except Exception:  # noqa: BLE001 - rtmidi raises SystemError/RuntimeError variants
            continue
    return found


def open_port(name: str, client_name: str = PORT_NAME):
    """Open the output port ``name`` ("virtual": a new port called ``client_name``).

    Raises:
        AudioDeviceError: One line when no MIDI system is available or no port of that name
            exists (the line lists the ports there are).
    """
    mido = _import_mido()
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    problems = []
    for api in _APIS:
        try:
            backend = mido.Backend(api)
            if name == VIRTUAL:
                return backend.open_output(client_name, virtual=True)
            names = backend.get_output_names()
        except Exception as err:  # noqa: BLE001 - no ALSA sequencer, no JACK server, ...
            problems.append(f"{api.rsplit('/', 1)[-1]}: {str(err).splitlines()[0][:80]}")
            continue
        for candidate in names:
            if candidate == name or candidate.startswith(name):
                port = backend.open_output(candidate)
                if "JACK" in api:
                    # JACK makes the connection in a later process cycle; what is sent before
                    # it is lost (the MPE setup, the first frame). A few periods are enough.
                    time.sleep(JACK_CONNECT_S)
                return port
        problems.append(f"{api.rsplit('/', 1)[-1]}: no port {name!r} among "
                        f"{', '.join(names) or 'no ports'}")
    if name == VIRTUAL:
        raise AudioDeviceError("cannot create a virtual MIDI port (" + "; ".join(problems) + ")",
                               "on Linux load the ALSA sequencer (modprobe snd-seq) or start "
                               "jackd; or write a file with --midi-file out.mid")
    raise AudioDeviceError(f"no MIDI output port {name!r} (" + "; ".join(problems) + ")",
                           "give one of the ports listed, 'virtual', or --midi-file out.mid")


class MidiOut:
    """Sends every control frame as MIDI to a port and/or records it to a .mid file.

    Args:
        encoder: The :class:`MidiEncoder` deciding what is sent.
        port: An open mido output port, or None.
        file_writer: A :class:`instrument.formats.midi_file.MidiFileWriter`, or None.
    """

    def __init__(self, encoder: MidiEncoder, port=None, file_writer=None):
        self.encoder = encoder
        self.port = port
        self.file = file_writer
        self.messages = 0
        self.errors = 0
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self._mido = _import_mido() if port is not None else None
        self._closed = False
        self._last_t = 0.0
        self._emit(0.0, encoder.setup())

    def frame(self, t: float, unit, physical, moved: bool = True) -> int:
        """Encode one control frame and send/record what changed; returns messages sent.

        After :meth:`close` (a frame from a thread still stopping) nothing happens.
        """
        if self._closed:
            return 0
        messages = self.encoder.frame(t, unit, physical, moved)
        self._last_t = t
        if messages:
            self._emit(t, messages)
        return len(messages)

    def _emit(self, t: float, messages) -> None:
        if not messages:
            return
        with self._lock:
            if self.file is not None:
                self.file.add(t, messages)
            if self.port is not None:
                from_bytes = self._mido.Message.from_bytes
                for message in messages:
                    try:
                        self.port.send(from_bytes(message))
                    except Exception as err:  # noqa: BLE001 - a vanished port is counted
                        self.errors += 1
                        self.last_error = f"{type(err).__name__}: {err}"
            self.messages += len(messages)

    def close(self, t: float | None = None) -> None:
        """Send the closing messages (MPE note off) at ``t`` (default: the last frame's time),
        close the port, write the file."""
        if self._closed:
            return
        self._closed = True
        self._emit(self._last_t if t is None else t, self.encoder.finish())
        try:
            if self.port is not None:
                self.port.close()
        finally:
            if self.file is not None:
                self.file.close()

    def describe(self) -> str:
        """One clause for the performance summary."""
        where = []
        if self.port is not None:
            where.append(f"port {getattr(self.port, 'name', '?')}")
        if self.file is not None:
            where.append(self.file.path)
        errors = f", {self.errors} send errors" if self.errors else ""
        dropped = (f", {self.file.dropped} not written (file full)"
                   if self.file is not None and self.file.dropped else "")
        return f"MIDI out to {' and '.join(where)}: {self.messages} messages{errors}{dropped}"

    def __enter__(self) -> "MidiOut":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_midi_out(table, port: str | None = None, midi_file: str | None = None,
                  channel: int = 1, ccs=None, seven_bit: bool = False, mpe: bool = False,
                  rest_s: float = 0.05, start: float = 0.0) -> MidiOut | None:
    """The MIDI sink asked for on the command line, or None when neither port nor file.

    Args:
        table: The model's parameter table.
        port: A port name, "virtual", or None.
        midi_file: A .mid path to write on close, or None.
        channel, ccs, seven_bit, mpe: See :class:`MidiEncoder`.
        rest_s: The model's rest time (a stroke ends after it; MPE note off).
        start: Time of the file's tick 0.

    Raises:
        BadInput / AudioDeviceError: One line for a bad option or a missing port.
    """
    if port is None and midi_file is None:
        return None
    from instrument.formats.midi_file import MidiFileWriter

    encoder = MidiEncoder(table, channel=channel, ccs=ccs, resolution=7 if seven_bit else 14,
                          mpe=mpe, rest_s=rest_s)
    writer = MidiFileWriter(midi_file, start=start) if midi_file is not None else None
    opened = open_port(port) if port is not None else None
    return MidiOut(encoder, opened, writer)
