"""Control frames as MIDI messages: 14-bit or 7-bit CCs per synth parameter, or MPE notes.

Pure (no mido, no ports): a frame's parameters in, the raw MIDI messages that changed out, as
tuples of byte values ``(status, data1[, data2])``. :mod:`instrument.output.midi_out` sends
them to a port and :mod:`instrument.formats.midi_file` writes them to a Standard MIDI File;
both get exactly the same messages for the same frames.

CC mode (the default): parameter ``i`` of the table is CC ``ccs[i]`` on ``channel``. In
14-bit resolution (the default) the value ``round(u * 16383)`` of its 0..1 value ``u`` goes
as MSB on CC n and LSB on CC n + 32 (MIDI 1.0's pairs 0..31 / 32..63), MSB first, both sent
whenever the 14-bit value changes (some receivers reset the LSB on every MSB, so never the
LSB alone). In 7-bit resolution only CC n carries ``round(u * 127)``. Only changed values are
sent: a held sound costs no bandwidth.

MPE mode (MIDI Polyphonic Expression, lower zone): channel 1 is the master channel, channels
2..1+members the member channels. One note per stroke (a stroke starts with a moving frame
and ends once the pointer has rested ``rest_s``), each on the next member channel: its note
number is the nearest to ``carrier_hz``, per-note pitch bend (±48 semitones) carries the rest
and follows the carrier while the note sounds, CC74 carries ``index`` (timbre) and channel
pressure carries ``amplitude``. Every other parameter (``ratio``) goes as a 14-bit CC pair on
the master channel (zone-wide). The setup (MPE Configuration Message, pitch-bend range RPN
on each member channel) comes first, from :meth:`MidiEncoder.setup`.
"""

from __future__ import annotations

import math

from instrument.errors import BadInput

# General Purpose Controllers 1-4 and the undefined CCs after them: no synth gives them a
# fixed meaning, so they never fight a receiver's own controls (LSBs on 48..63).
DEFAULT_FIRST_CC = 16
MAX_PARAMS_14BIT = 32 - DEFAULT_FIRST_CC
# CC 0 (bank select) and CC 6 (data entry) drive a synth's own machinery; as MSBs their LSBs
# 32 and 38 too. 120..127 are channel mode messages, never controllers.
RESERVED_CCS = frozenset({0, 6})
MPE_BEND_SEMITONES = 48
MPE_TIMBRE_CC = 74
DEFAULT_MPE_MEMBERS = 15
RESOLUTIONS = (7, 14)

CONTROL_CHANGE = 0xB0
NOTE_ON = 0x90
NOTE_OFF = 0x80
CHANNEL_PRESSURE = 0xD0
PITCH_BEND = 0xE0


def parse_cc_list(text: str) -> tuple[int, ...]:
    """``"16,17,18,19"`` -> (16, 17, 18, 19); one BadInput line for anything else."""
    try:
        ccs = tuple(int(part) for part in str(text).split(","))
    except ValueError:
        raise BadInput(f"--midi-cc {text!r} is not a comma-separated list of CC numbers",
                       "give one CC number per synth parameter, e.g. --midi-cc 16,17,18,19"
                       ) from None
    return ccs


def default_ccs(n_params: int) -> tuple[int, ...]:
    """CC 16, 17, ... one per parameter (14-bit pairs need MSBs below 32)."""
    if n_params > MAX_PARAMS_14BIT:
        raise BadInput(f"{n_params} synth parameters do not fit the default CCs 16..31",
                       "give CC numbers with --midi-cc (7-bit: --midi-7bit)")
    return tuple(range(DEFAULT_FIRST_CC, DEFAULT_FIRST_CC + n_params))


def check_ccs(ccs, n_params: int, resolution: int) -> tuple[int, ...]:
    """Validate a CC assignment: one distinct, usable controller per parameter."""
    if resolution not in RESOLUTIONS:
        raise BadInput(f"MIDI resolution {resolution} is not 7 or 14 bits")
    ccs = tuple(int(cc) for cc in ccs)
    if len(ccs) != n_params:
        raise BadInput(f"--midi-cc gives {len(ccs)} CC numbers for {n_params} synth parameters",
                       "give exactly one CC number per parameter, in table order")
    high = 31 if resolution == 14 else 119
    used: set[int] = set()
    for cc in ccs:
        if not 0 <= cc <= high or cc in RESERVED_CCS:
            raise BadInput(f"CC {cc} cannot carry a {resolution}-bit parameter",
                           f"use CCs 1..{high} except 6 (data entry)"
                           + (" (14-bit MSBs are 1..31; LSBs are MSB + 32)"
                              if resolution == 14 else ""))
        pair = {cc, cc + 32} if resolution == 14 else {cc}
        if pair & used:
            raise BadInput(f"CC {cc} is given twice (or collides with another parameter's LSB)",
                           "give distinct CC numbers")
        used |= pair
    return ccs


def check_channel(channel: int) -> int:
    """MIDI channel 1..16 (as users count them) -> 0..15."""
    if not isinstance(channel, int) or not 1 <= channel <= 16:
        raise BadInput(f"MIDI channel {channel!r} is not in 1..16", "use e.g. --midi-channel 1")
    return channel - 1


def _seven(u: float) -> int:
    return min(127, max(0, int(round(u * 127.0))))


def _fourteen(u: float) -> int:
    return min(16383, max(0, int(round(u * 16383.0))))


class MidiEncoder:
    """Turns control frames into the MIDI messages that changed.

    Args:
        table: The parameter table (``names``) of the model.
        channel: MIDI channel 1..16 of the CCs (CC mode).
        ccs: One CC number per parameter; default 16, 17, ... (see module doc).
        resolution: 14 (MSB/LSB pairs, default) or 7 bits.
        mpe: MPE lower zone instead of plain CCs (needs carrier_hz, index and amplitude).
        mpe_members: Member channels of the zone (1..15; default 15, channels 2..16).
        rest_s: A stroke ends once the pointer has rested this long (MPE note off).

    Raises:
        BadInput: One line naming the bad channel, CC list or missing MPE parameter.
    """

    def __init__(self, table, channel: int = 1, ccs=None, resolution: int = 14,
                 mpe: bool = False, mpe_members: int = DEFAULT_MPE_MEMBERS,
                 rest_s: float = 0.05):
        self.table = table
        self.names = tuple(table.names)
        n = len(self.names)
        self.mpe = bool(mpe)
        self.resolution = 14 if self.mpe else int(resolution)
        if self.mpe:
            missing = [p for p in ("carrier_hz", "index", "amplitude") if p not in self.names]
            if missing:
                raise BadInput(f"MPE needs the synth parameters carrier_hz, index and amplitude; "
                               f"this model has no {', '.join(missing)}",
                               "send plain CCs instead (leave out --mpe)")
            if not isinstance(mpe_members, int) or not 1 <= mpe_members <= 15:
                raise BadInput(f"MPE zone of {mpe_members!r} member channels",
                               "use 1..15 member channels")
            self.channel = 0                     # the lower zone's master channel
            self.members = mpe_members
            self._pitch = self.names.index("carrier_hz")
            self._timbre = self.names.index("index")
            self._pressure = self.names.index("amplitude")
            zone_params = [i for i in range(n) if i not in (self._pitch, self._timbre,
                                                             self._pressure)]
        else:
            self.channel = check_channel(channel)
            zone_params = list(range(n))
        given = default_ccs(n) if ccs is None else tuple(ccs)
        self.ccs = check_ccs(given, n, self.resolution)
        self._cc_params = [(i, self.ccs[i]) for i in zone_params]
        self._last_cc = [-1] * n
        self.rest_s = float(rest_s)
        self._note: int | None = None
        self._note_channel = 0
        self._next_member = 0
        self._last_bend = self._last_timbre = self._last_pressure = -1
        self._last_moved: float | None = None

    # --- setup and end ---------------------------------------------------------------------

    def setup(self) -> list[tuple[int, ...]]:
        """Messages a receiver needs before the first frame (MPE: zone and bend range)."""
        if not self.mpe:
            return []
        cc = CONTROL_CHANGE
        out = [(cc, 101, 0), (cc, 100, 6), (cc, 6, self.members),   # MPE Configuration Message
               (cc, 101, 127), (cc, 100, 127)]                      # RPN null: no stray edits
        for member in range(1, self.members + 1):
            out += [(cc | member, 101, 0), (cc | member, 100, 0),   # RPN 0: pitch-bend range
                    (cc | member, 6, MPE_BEND_SEMITONES), (cc | member, 38, 0),
                    (cc | member, 101, 127), (cc | member, 100, 127)]
        return out

    def finish(self) -> list[tuple[int, ...]]:
        """Messages that end the performance cleanly (MPE: the sounding note off)."""
        return self._note_off() if self.mpe else []

    # --- frames ------------------------------------------------------------------------------

    def frame(self, t: float, unit, physical, moved: bool = True) -> list[tuple[int, ...]]:
        """The messages for one control frame (only what changed since the last frame).

        Args:
            t: Frame time in seconds (decides MPE strokes).
            unit: Parameters in 0..1, table order (values outside are clipped); None: from
                ``physical`` through the table.
            physical: The same in physical units (MPE reads carrier_hz in Hz).
            moved: True for a frame made by a pointer sample, False for a still frame.
        """
        out: list[tuple[int, ...]] = []
        if unit is None:
            unit = self.table.to_unit(physical)
        if self.mpe:
            self._mpe_frame(t, unit, physical, moved, out)
        self._cc_frame(unit, out)
        return out

    def _cc_frame(self, unit, out: list) -> None:
        status = CONTROL_CHANGE | self.channel
        fourteen = self.resolution == 14
        for i, cc in self._cc_params:
            u = float(unit[i])
            value = _fourteen(u) if fourteen else _seven(u)
            if value == self._last_cc[i]:
                continue
            self._last_cc[i] = value
            if fourteen:
                out.append((status, cc, value >> 7))
                out.append((status, cc + 32, value & 0x7F))
            else:
                out.append((status, cc, value))

    def _note_off(self) -> list[tuple[int, ...]]:
        if self._note is None:
            return []
        message = (NOTE_OFF | self._note_channel, self._note, 0)
        self._note = None
        return [message]

    def _mpe_frame(self, t: float, unit, physical, moved: bool, out: list) -> None:
        if moved:
            self._last_moved = t
        elif self._note is not None and self._last_moved is not None \
                and t - self._last_moved >= self.rest_s - 1e-9:
            out.extend(self._note_off())        # the pointer rested: the stroke is over
        hz = float(physical[self._pitch])
        semitones = 69.0 + 12.0 * math.log2(hz / 440.0) if hz > 0 and math.isfinite(hz) else 0.0
        starting = moved and self._note is None
        if starting:
            self._note = min(127, max(0, int(round(semitones))))
            self._note_channel = 1 + self._next_member
            self._next_member = (self._next_member + 1) % self.members
            self._last_bend = self._last_timbre = self._last_pressure = -1
        if self._note is None:
            return
        ch = self._note_channel
        bend = (semitones - self._note) / MPE_BEND_SEMITONES
        bend_value = min(16383, max(0, int(round(8192 + bend * 8192))))
        timbre = _seven(float(unit[self._timbre]))
        pressure = _seven(float(unit[self._pressure]))
        # Expression before the note-on, so the note starts with its own pitch and timbre.
        if bend_value != self._last_bend:
            self._last_bend = bend_value
            out.append((PITCH_BEND | ch, bend_value & 0x7F, bend_value >> 7))
        if timbre != self._last_timbre:
            self._last_timbre = timbre
            out.append((CONTROL_CHANGE | ch, MPE_TIMBRE_CC, timbre))
        if pressure != self._last_pressure:
            self._last_pressure = pressure
            out.append((CHANNEL_PRESSURE | ch, pressure))
        if starting:
            out.append((NOTE_ON | ch, self._note, max(1, pressure)))
