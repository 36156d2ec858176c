"""midi_encoding.py: 14-bit/7-bit CC values, only changes sent, MPE notes per stroke."""

import numpy as np
import pytest

from instrument.errors import BadInput
from instrument.output.midi_encoding import (
    MidiEncoder,
    check_ccs,
    default_ccs,
    parse_cc_list,
)
from instrument.sound.params import PARAM_TABLE as TABLE


def frame(encoder, unit, t=0.0, moved=True):
    unit = np.asarray(unit, dtype=np.float64)
    return encoder.frame(t, unit, TABLE.to_physical(unit), moved)


def test_14_bit_pairs_msb_then_lsb_on_n_and_n_plus_32():
    enc = MidiEncoder(TABLE, channel=3)
    out = frame(enc, [0.0, 1.0, 0.5, 0.25])
    # value = round(u * 16383): 0, 16383, 8192 (8191.5 rounds to even), 4096
    assert out == [(0xB2, 16, 0), (0xB2, 48, 0), (0xB2, 17, 127), (0xB2, 49, 127),
                   (0xB2, 18, 64), (0xB2, 50, 0), (0xB2, 19, 32), (0xB2, 51, 0)]


def test_14_bit_resolution_is_exact_to_one_step(rng):
    enc = MidiEncoder(TABLE)
    for unit in rng.uniform(size=(50, 4)):
        out = frame(enc, unit)
        pairs = {cc: value for _, cc, value in out}
        for i, cc in enumerate(enc.ccs):
            if cc in pairs:
                decoded = (pairs[cc] << 7 | pairs[cc + 32]) / 16383
                assert abs(decoded - unit[i]) <= 0.5 / 16383 + 1e-12


def test_only_changes_are_sent_and_values_are_clipped():
    enc = MidiEncoder(TABLE)
    assert len(frame(enc, [0.2, 0.2, 0.2, 0.2])) == 8
    assert frame(enc, [0.2, 0.2, 0.2, 0.2]) == []          # a held sound costs nothing
    assert frame(enc, [0.2, 0.2, 0.2, 0.3]) == [(0xB0, 19, 38), (0xB0, 51, 51)]
    assert frame(enc, [0.2, 0.2, 0.2, 7.0])[0] == (0xB0, 19, 127)  # clipped to 1


def test_7_bit_and_custom_ccs():
    enc = MidiEncoder(TABLE, channel=16, ccs=(70, 71, 72, 73), resolution=7)
    assert frame(enc, [0.0, 1.0, 0.5, 0.1]) == [(0xBF, 70, 0), (0xBF, 71, 127),
                                               (0xBF, 72, 64), (0xBF, 73, 13)]


@pytest.mark.parametrize("ccs, resolution, words", [
    ((16, 17, 18), 14, "3 CC numbers for 4"),
    ((16, 17, 18, 16), 14, "given twice"),
    ((1, 33, 2, 3), 14, "cannot carry"),                   # 33 is not an MSB
    ((1, 2, 3, 33), 14, "cannot carry"),
    ((1, 2, 3, 6), 7, "cannot carry"),                      # data entry
    ((1, 2, 3, 120), 7, "cannot carry"),                    # channel mode
])
def test_bad_cc_assignments_are_one_line(ccs, resolution, words):
    with pytest.raises(BadInput, match=words):
        check_ccs(ccs, 4, resolution)


def test_bad_lists_and_channels():
    with pytest.raises(BadInput, match="comma-separated"):
        parse_cc_list("16,x")
    with pytest.raises(BadInput, match="1..16"):
        MidiEncoder(TABLE, channel=17)
    with pytest.raises(BadInput, match="do not fit"):
        default_ccs(20)
    assert default_ccs(4) == (16, 17, 18, 19)


def test_mpe_setup_declares_the_lower_zone_and_48_semitone_bend():
    enc = MidiEncoder(TABLE, mpe=True, mpe_members=3)
    setup = enc.setup()
    assert setup[:3] == [(0xB0, 101, 0), (0xB0, 100, 6), (0xB0, 6, 3)]
    for member in (1, 2, 3):
        assert (0xB0 | member, 6, 48) in setup
    assert not any(status & 0x0F > 3 for status, *_ in setup)


def test_mpe_a_note_per_stroke_with_bend_timbre_and_pressure():
    enc = MidiEncoder(TABLE, mpe=True, mpe_members=2, rest_s=0.05)
    unit = np.array([0.5, 0.3, 0.4, 0.8])
    hz = float(TABLE.to_physical(unit)[0])
    semitones = 69 + 12 * np.log2(hz / 440)
    out = frame(enc, unit, t=1.0)
    note_on = [m for m in out if m[0] & 0xF0 == 0x90]
    assert note_on == [(0x91, int(round(semitones)), 102)]
    bend = [m for m in out if m[0] == 0xE1][0]
    bend_value = bend[1] | bend[2] << 7
    assert abs((bend_value - 8192) / 8192 * 48 - (semitones - round(semitones))) < 48 / 8192
    assert (0xB1, 74, 51) in out and (0xD1, 102) in out
    assert out.index(bend) < out.index(note_on[0])          # expression before the note
    assert (0xB0, 17, 38) in out                            # ratio: zone-wide on channel 1
    # the carrier glides: the note stays, the bend follows
    glide = frame(enc, [0.52, 0.3, 0.4, 0.8], t=1.01)
    assert [m[0] for m in glide] == [0xE1]
    # still frames shorter than the rest keep the note; the rest ends the stroke
    assert frame(enc, [0.52, 0.3, 0.4, 0.8], t=1.04, moved=False) == []
    assert frame(enc, [0.52, 0.3, 0.4, 0.8], t=1.06, moved=False) == [(0x81, note_on[0][1], 0)]
    # the next stroke rotates to the next member channel
    again = frame(enc, unit, t=2.0)
    assert [m for m in again if m[0] & 0xF0 == 0x90][0][0] == 0x92
    assert enc.finish() == [(0x82, note_on[0][1], 0)]
    assert enc.finish() == []


def test_mpe_needs_pitch_timbre_and_pressure_parameters():
    from instrument.sound.params import Param, ParamTable

    table = ParamTable((Param("cutoff_hz", 20.0, 20000.0, "log", "Hz"),))
    with pytest.raises(BadInput, match="MPE needs"):
        MidiEncoder(table, mpe=True)
