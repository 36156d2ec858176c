"""The serve examples: Pd patches that send N-wide /wek/inputs and drive `instrument serve`
(run by Pd itself, packets decoded by python-osc and by serve), the systemd unit, the .mid."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from conftest import ROOT

from instrument.formats.osc_control import parse_message
from instrument.live.serve import ALIASES

EXAMPLES = os.path.join(ROOT, "examples")
PD = shutil.which("pd") or shutil.which("puredata")
needs_pd = pytest.mark.skipif(PD is None, reason="Pd is not installed (apt-get install "
                                                 "puredata-core; CI installs it)")
CONTROLS = ["startRecording", "stopRecording", "train", "cancelTrain", "startRunning",
            "stopRunning", "deleteAllExamples"]


def receiver():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(3)
    return sock


def drain(sock, seconds=None):
    out, end = [], None if seconds is None else time.monotonic() + seconds
    try:
        while end is None or time.monotonic() < end:
            out.append(sock.recv(65536))
    except socket.timeout:
        pass
    return out


@needs_pd
def test_serve_control_patch_sends_every_control_message():
    rx = receiver()
    sends = [arg for name in CONTROLS for arg in ("-send", f"serve_control {name}")]
    proc = subprocess.run([PD, "-batch", "-nogui", "-nosound", "-nomidi", "-stderr", "-open",
                           os.path.join(EXAMPLES, "serve_control.pd"), "-send",
                           f"serve_port {rx.getsockname()[1]}", "-send", "serve_reply_port 0",
                           *sends, "-send", "pd quit"], capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 0 and "error" not in proc.stderr.lower(), proc.stderr
    rx.settimeout(0.5)   # pd has quit: what it sent to 127.0.0.1 is queued here already
    messages = [parse_message(d) for d in drain(rx)]
    rx.close()
    assert [m[0] for m in messages] == [f"/wekinator/control/{n}" for n in CONTROLS]
    assert all(m[1] == () for m in messages)
    assert all(name in ALIASES for name in CONTROLS)       # serve answers every one


@needs_pd
def test_slider_patch_sends_eight_wide_inputs():
    rx = receiver()
    proc = subprocess.Popen([PD, "-nogui", "-nosound", "-nomidi", "-stderr", "-open",
                             os.path.join(EXAMPLES, "wek_sliders.pd"), "-send",
                             f"wek_port {rx.getsockname()[1]}", "-send", "wek_in3 0.7",
                             "-send", "wek_in8 0.25"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        packets = drain(rx, seconds=1.0)
    finally:
        proc.kill()
        proc.communicate()
        rx.close()
    assert len(packets) >= 10                               # 50 a second, in real time
    address, values = parse_message(packets[-1])
    assert address == "/wek/inputs" and len(values) == 8
    assert values[2] == pytest.approx(0.7, abs=1e-6) and values[7] == pytest.approx(0.25)
    assert values[0] == 0.0


@needs_pd
@pytest.mark.slow
def test_pd_drives_serve_and_it_records_eight_channels(tmp_path):
    from instrument.formats.recording import read_recording

    port = receiver()
    number = port.getsockname()[1]
    port.close()
    serve = subprocess.Popen([sys.executable, "-m", "instrument", "serve", "--project",
                              str(tmp_path / "p"), "--port", str(number), "--osc",
                              "127.0.0.1:9"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    first = serve.stdout.readline()
    assert "listening on UDP" in first, first
    pd = subprocess.Popen([PD, "-nogui", "-nosound", "-nomidi", "-stderr",
                           "-open", os.path.join(EXAMPLES, "wek_sliders.pd"),
                           "-open", os.path.join(EXAMPLES, "serve_control.pd"),
                           "-send", f"wek_port {number}", "-send", f"serve_port {number}",
                           "-send", "serve_reply_port 0", "-send", "wek_in5 0.5",
                           "-send", "serve_control startRecording"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    pd.kill()
    pd.wait()
    serve.send_signal(signal.SIGTERM)
    out = serve.communicate(timeout=30)[0]
    assert serve.returncode == 0, out
    (take,) = sorted((tmp_path / "p" / "recordings").glob("*.jsonl"))
    rec = read_recording(take)
    assert len(rec.channels) == 8 and len(rec.t) >= 10
    assert abs(rec.channel_values()[:, 4] - 0.5).max() < 1e-6
    assert "inputs are 8 values wide" in out


def test_systemd_unit_runs_serve_with_a_project():
    unit = open(os.path.join(EXAMPLES, "instrument-serve.service")).read()
    assert "[Service]" in unit and "[Install]" in unit
    exec_line = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    assert " serve " in exec_line and "--project " in exec_line
    assert "Restart=on-failure" in unit and "KillSignal=SIGTERM" in unit


def test_demo_midi_file_reads_back():
    mido = pytest.importorskip("mido")
    path = os.path.join(EXAMPLES, "demo.mid")
    midi = mido.MidiFile(path)
    assert midi.type == 0 and midi.ticks_per_beat == 1000
    assert 419 < midi.length < 421                          # the 7-minute demo recording
    controls = {m.control for m in midi if m.type == "control_change"}
    assert controls == {16, 17, 18, 19, 48, 49, 50, 51}


@needs_pd
def test_pd_oscparse_plays_osc_bundles(tmp_path):
    """--osc-bundles is safe for the Pd examples: [oscparse] unpacks a bundle's messages."""
    import numpy as np

    from instrument.output.osc import OscOut
    from instrument.sound.params import PARAM_TABLE

    port = receiver()
    number = port.getsockname()[1]
    port.close()
    patch = tmp_path / "bundles.pd"
    patch.write_text("#N canvas 0 0 400 300 12;\n"
                     f"#X obj 20 20 netreceive -u -b {number};\n#X obj 20 50 oscparse;\n"
                     "#X obj 20 80 list trim;\n#X obj 20 110 route wek;\n"
                     "#X obj 20 140 route outputs;\n#X obj 20 170 print outputs;\n"
                     "#X connect 0 0 1 0;\n#X connect 1 0 2 0;\n#X connect 2 0 3 0;\n"
                     "#X connect 3 0 4 0;\n#X connect 4 0 5 0;\n")
    proc = subprocess.Popen([PD, "-nogui", "-nosound", "-nomidi", "-stderr", "-open",
                             str(patch)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        time.sleep(1.0)                                   # Pd opens its port
        unit = np.array([0.5, 0.25, 0.75, 1.0])
        with OscOut([("127.0.0.1", number)], PARAM_TABLE, bundle_latency=0.01) as out:
            for _ in range(3):
                out.send_frame(1, unit, PARAM_TABLE.to_physical(unit))
                time.sleep(0.05)
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=10)[0]
    assert output.count("outputs: 0.5 0.25 0.75 1") == 3, output
