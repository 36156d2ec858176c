"""MIDI from a gesture file: `render --midi-file` is the control stream, encoded, read back."""

import numpy as np
import pytest
from tiny_model import tiny_parts, write_strokes

from instrument.formats.bundle import save_bundle

mido = pytest.importorskip("mido")

TICK_TOLERANCE_S = 0.25e-3      # the file's tick is 0.5 ms


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("midi")
    config, arrays, _ = tiny_parts(seed=3)
    save_bundle(folder / "model", config, arrays)
    return folder / "model", write_strokes(folder / "g.jsonl", seconds=4, seed=5)


def cc_values(path, channel=0):
    """Per CC number: [(t, value)] read back from a .mid file."""
    out, t = {}, 0.0
    for message in mido.MidiFile(path):
        t += message.time
        if message.type == "control_change" and message.channel == channel:
            out.setdefault(message.control, []).append((t, message.value))
    return out


def test_render_midi_file_is_the_control_stream(run_cli, model, tmp_path):
    from instrument.formats.controls import read_controls_csv
    from instrument.sound.params import PARAM_TABLE

    folder, gestures = model
    mid, csv = tmp_path / "out.mid", tmp_path / "c.csv"
    result = run_cli("render", "--model", str(folder), "--gestures", gestures, "--out",
                     str(tmp_path / "o.wav"), "--controls", str(csv), "--midi-file", str(mid),
                     "--midi-channel", "2")
    assert result.code == 0, result.err
    assert "MIDI messages" in result.out
    controls = read_controls_csv(csv)
    times, params = controls[1], controls[3]
    unit = np.clip(PARAM_TABLE.to_unit(params), 0, 1)
    values = cc_values(mid, channel=1)
    assert sorted(values) == [16, 17, 18, 19, 48, 49, 50, 51]
    # Replay the CC pairs: after every frame, the 14-bit value is that frame's to 1/16383.
    for i, cc in enumerate((16, 17, 18, 19)):
        msb, lsb = values[cc], values[cc + 32]
        assert len(msb) == len(lsb)
        decoded_t = np.array([t for t, _ in msb])
        decoded = np.array([(m << 7 | l) / 16383 for (_, m), (_, l) in zip(msb, lsb)])
        # each change lands on its frame's time (within half a tick)
        idx = np.searchsorted(times, decoded_t - TICK_TOLERANCE_S - 1e-9)
        assert np.all(np.abs(times[idx] - decoded_t) <= TICK_TOLERANCE_S + 1e-9)
        assert np.all(np.abs(decoded - unit[idx, i]) <= 0.5 / 16383 + 1e-6)
        # and the last value sent is the last frame's
        assert abs(decoded[-1] - unit[-1, i]) <= 0.5 / 16383 + 1e-6
    # an existing file is refused without --force
    again = run_cli("render", "--model", str(folder), "--gestures", gestures, "--out",
                    str(tmp_path / "o2.wav"), "--midi-file", str(mid))
    assert again.code == 2 and "already exists" in again.err and "Traceback" not in again.err


def test_render_mpe_notes_are_paired_and_on_member_channels(run_cli, model, tmp_path):
    folder, gestures = model
    mid = tmp_path / "mpe.mid"
    result = run_cli("render", "--model", str(folder), "--gestures", gestures, "--out",
                     str(tmp_path / "o.wav"), "--midi-file", str(mid), "--mpe")
    assert result.code == 0, result.err
    sounding = {}
    notes = 0
    for message in mido.MidiFile(mid):
        if message.type == "note_on":
            assert 1 <= message.channel <= 15 and message.channel not in sounding
            sounding[message.channel] = message.note
            notes += 1
        elif message.type == "note_off":
            assert sounding.pop(message.channel) == message.note
        elif message.type == "pitchwheel":
            assert message.channel >= 1
    assert notes >= 2 and sounding == {}        # strokes and pauses: several notes, all ended


@pytest.mark.parametrize("flags, words", [
    (["--midi-file", "x.wav"], "does not end in .mid"),
    (["--midi-file", "m.mid", "--midi-cc", "16,17"], "2 CC numbers for 4"),
    (["--midi-file", "m.mid", "--midi-cc", "a,b"], "comma-separated"),
    (["--midi-file", "m.mid", "--midi-channel", "0"], "1..16"),
])
def test_bad_midi_options_are_one_line(run_cli, model, tmp_path, flags, words):
    folder, gestures = model
    flags = [str(tmp_path / f) if f.endswith((".mid", ".wav")) else f for f in flags]
    result = run_cli("render", "--model", str(folder), "--gestures", gestures, "--out",
                     str(tmp_path / "o.wav"), *flags)
    assert result.code == 2 and words in result.err and "Traceback" not in result.err
