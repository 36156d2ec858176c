"""`instrument record --source osc|midi|gamepad`: headless recording as a user runs it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import mido
import pytest
from _jack import jack_server
from conftest import default_sigint, free_port

from instrument.formats import osc
from instrument.formats.recording import read_recording


def start(*args):
    proc = subprocess.Popen([sys.executable, "-m", "instrument", "record", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)
    line = proc.stderr.readline()
    assert line.startswith("recording "), line + proc.stderr.read()
    return proc


def test_osc_stream_of_16_floats_is_recorded_and_garbage_counted(tmp_path):
    out, port = tmp_path / "osc.jsonl", free_port()
    proc = start("--source", "osc", "--osc-in", str(port), "--out", str(out))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        for i in range(30):
            client.sendto(osc.encode_message("/wek/inputs", "f" * 16, [i / 30] * 16),
                          ("127.0.0.1", port))
            time.sleep(0.005)
        for dgram in (osc.encode_message("/wek/inputs", "fff", [1, 2, 3]),
                      osc.encode_message("/wek/inputs", "f" * 16, [float("nan")] * 16),
                      osc.encode_message("/wek/inputs", "f" * 16, [1e30] * 16), b"junk"):
            client.sendto(dgram, ("127.0.0.1", port))
        time.sleep(0.3)
    proc.send_signal(signal.SIGINT)                       # Ctrl-C finishes the file
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "recorded 30 samples of 16 channels (in1..in16)" in stdout
    assert "stopped: Ctrl-C" in stdout
    assert "1 wrong arity" in stdout and "1 non finite" in stdout and "1 absurd" in stdout
    rec = read_recording(out)
    assert rec.source == "osc" and len(rec) == 30 and rec.values.shape == (30, 16)
    assert [c.name for c in rec.channels][-1] == "in16" and not rec.is_pointer
    assert rec.values[-1, 0] == pytest.approx(29 / 30, abs=1e-6)
    assert (rec.t[1:] >= rec.t[:-1]).all()


def test_osc_width_can_be_given_and_seconds_stop_it(tmp_path, run_cli):
    out, port = tmp_path / "three.jsonl", free_port()
    proc = start("--source", "osc", "--osc-in", str(port), "--inputs", "3", "--seconds", "1.5",
                 "--out", str(out))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.sendto(osc.encode_message("/wek/inputs", "ff", [1, 2]), ("127.0.0.1", port))
        client.sendto(osc.encode_message("/wek/inputs", "fff", [1, 2, 3]), ("127.0.0.1", port))
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "stopped: 1.5 s" in stdout
    rec = read_recording(out)
    assert len(rec.channels) == 3 and rec.values.tolist() == [[1, 2, 3]]


def test_no_osc_message_writes_nothing_and_says_so(tmp_path, run_cli):
    out = tmp_path / "none.jsonl"
    res = run_cli("record", "--source", "osc", "--osc-in", str(free_port()), "--seconds",
                  "0.5", "--out", str(out), "--quiet")
    assert res.code == 2 and "no /wek/inputs message arrived" in res.err
    assert len(res.err.strip().splitlines()) == 1 and not out.exists()
    assert not os.path.exists(f"{out}.part")


def test_missing_devices_are_one_line_exit_2(tmp_path, run_cli):
    out = tmp_path / "x.jsonl"
    env = {"SDL_VIDEODRIVER": "dummy", "JACK_NO_START_SERVER": "1",
           "JACK_DEFAULT_SERVER": f"no-such-server-{os.getpid()}"}
    res = run_cli("record", "--source", "gamepad", "--out", str(out), env=env)
    assert res.code == 2 and "no gamepad or joystick 1 found" in res.err, res.err
    assert len(res.err.strip().splitlines()) == 1
    if not os.path.exists("/dev/snd/seq"):
        res = run_cli("record", "--source", "midi", "--midi-port", "nanoKONTROL", "--out",
                      str(out), env=env)
        assert res.code == 2 and "no MIDI input port 'nanoKONTROL'" in res.err, res.err
        assert len(res.err.strip().splitlines()) == 1
    for flags, words in ((["--midi-cc", "1,200"], "--midi-cc"),
                         (["--inputs", "5000", "--source", "osc"], "1..4096")):
        res = run_cli("record", "--source", "midi", *flags, "--out", str(out), env=env)
        assert res.code == 2 and words in res.err, res.err
    assert not out.exists()


@pytest.mark.slow
def test_midi_controller_through_a_real_jack_port(tmp_path):
    out = tmp_path / "midi.jsonl"
    with jack_server(period=64):
        proc = start("--source", "midi", "--midi-port", "virtual", "--midi-cc", "1,7",
                     "--out", str(out))
        try:
            jack = mido.Backend("mido.backends.rtmidi/UNIX_JACK")
            target = [n for n in jack.get_output_names() if "instrument" in n]
            assert target, jack.get_output_names()
            with jack.open_output(target[0]) as controller:
                time.sleep(1.0)          # JACK connects the two in a later cycle (busy: later)
                for v in (10, 20, 30):
                    controller.send(mido.Message("control_change", control=7, value=v))
                    time.sleep(0.02)
                controller.send(mido.Message("note_on", note=60, velocity=100))
                controller.send(mido.Message("clock"))
                time.sleep(0.3)
        finally:
            proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    rec = read_recording(out)
    assert [c.name for c in rec.channels] == ["cc1", "cc7", "note", "velocity", "aftertouch",
                                              "pitchbend"]
    assert rec.values[:, 1].tolist() == [10, 20, 30, 30]
    assert rec.values[-1, 2:4].tolist() == [60, 100]
    assert "recorded 4 samples" in stdout and "1 ignored" in stdout
