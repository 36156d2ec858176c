"""perform --midi-file and --osc-bundles end to end: a replayed file records exactly the MIDI
render writes, and OSC out sends one time-tagged bundle per control frame."""

import socket

import pytest
from tiny_model import tiny_parts, write_strokes

from instrument.formats.bundle import save_bundle

osc_bundle = pytest.importorskip("pythonosc.osc_bundle")
pytest.importorskip("mido")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("perform-midi")
    config, arrays, _ = tiny_parts(seed=4)
    save_bundle(folder / "model", config, arrays)
    return str(folder / "model"), write_strokes(folder / "g.jsonl", seconds=3, seed=6)


@pytest.mark.parametrize("flags", [[], ["--mpe"], ["--midi-7bit", "--midi-cc", "70,71,72,73"]])
def test_replay_records_exactly_the_midi_render_writes(model, run_cli, tmp_path, flags):
    path, gestures = model
    rendered, played = tmp_path / "render.mid", tmp_path / "perform.mid"
    result = run_cli("render", "--model", path, "--gestures", gestures, "--out",
                     str(tmp_path / "o.wav"), "--midi-file", str(rendered), *flags)
    assert result.code == 0, result.err
    result = run_cli("perform", "--model", path, "--replay", gestures, "--fast", "--headless",
                     "--audio", "none", "--no-osc", "--midi-file", str(played), *flags)
    assert result.code == 0, result.err
    assert "MIDI out to" in result.out
    assert played.read_bytes() == rendered.read_bytes()


@pytest.mark.slow
def test_osc_bundles_one_per_frame_with_increasing_tags(model, run_cli, tmp_path):
    from instrument.formats.controls import read_controls_csv

    path, gestures = model
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    rx.settimeout(0.5)
    csv = tmp_path / "c.csv"
    result = run_cli("perform", "--model", path, "--replay", gestures, "--headless",
                     "--audio", "none", "--osc", f"127.0.0.1:{rx.getsockname()[1]}",
                     "--osc-bundles", "15", "--controls", str(csv))
    assert result.code == 0, result.err
    bundles = []
    try:
        while True:
            bundles.append(rx.recv(65536))
    except socket.timeout:
        pass
    rx.close()
    _, times, sounds, _ = read_controls_csv(csv)
    assert len(bundles) == len(times)
    decoded = [osc_bundle.OscBundle(b) for b in bundles]
    assert all(b.num_contents == 3 for b in decoded)
    assert [list(b)[2].params[0] for b in decoded] == sounds.tolist()
    tags = [b.timestamp for b in decoded]
    assert all(b >= a for a, b in zip(tags, tags[1:]))


def test_bad_flags_are_one_line(model, run_cli, tmp_path):
    path, gestures = model
    result = run_cli("perform", "--model", path, "--replay", gestures, "--headless", "--audio",
                     "none", "--no-osc", "--osc-bundles", "5")
    assert result.code == 2 and "contradict" in result.err
    result = run_cli("perform", "--model", path, "--replay", gestures, "--headless", "--audio",
                     "none", "--osc-bundles", "-3")
    assert result.code == 2 and "Traceback" not in result.err
    result = run_cli("perform", "--model", path, "--replay", gestures, "--headless", "--audio",
                     "none", "--no-osc", "--midi-out", "No Such Synth",
                     env={"JACK_DEFAULT_SERVER": "no-such-jack-server", "JACK_NO_START_SERVER": "1"})
    assert result.code == 2 and "no MIDI output port" in result.err
    assert "Traceback" not in result.err


@pytest.mark.slow
def test_perform_midi_out_to_a_real_port_equals_the_file(model, run_cli, tmp_path):
    """perform --midi-out NAME on a JACK MIDI port (jackd -d dummy): the synth receives the
    messages the .mid file holds, in order."""
    import threading
    import time

    import mido
    from _jack import jack_server

    path, gestures = model
    got, lock = [], threading.Lock()

    def on_message(message):
        with lock:
            got.append(tuple(message.bytes()))

    with jack_server(period=64):
        backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK")
        synth = backend.open_input("synth", virtual=True, callback=on_message)
        try:
            name = [n for n in backend.get_output_names() if "synth" in n][0]
            result = run_cli("perform", "--model", path, "--replay", gestures, "--headless",
                             "--audio", "none", "--no-osc", "--midi-out", name, "--midi-7bit",
                             "--midi-file", str(tmp_path / "p.mid"))
            assert result.code == 0, result.err
            time.sleep(0.3)
        finally:
            synth.close()
    written = [tuple(m.bytes()) for m in mido.MidiFile(tmp_path / "p.mid") if not m.is_meta]
    assert len(written) > 50
    # In order, nothing invented; a loaded machine's JACK may drop or repeat a late cycle.
    from midi_helpers import assert_delivered

    assert_delivered(got, written)
