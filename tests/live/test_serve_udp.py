"""`instrument serve` end to end over real UDP on 127.0.0.1, as Wekinator's users drive it:
record -> train (a real, tiny training in the background) -> run -> swap, while inputs keep
flowing; a restart resumes the trained model; bad arguments are one line."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from conftest import ROOT, default_sigint, free_port
from tiny_model import tiny_parts

from instrument.formats.bundle import save_bundle
from instrument.formats.osc import encode_message
from instrument.formats.osc_control import encode_reply, parse_message

PERIOD = 0.01


class Serve:
    """`python -m instrument serve ...` as a child, its stdout collected line by line."""

    def __init__(self, *args):
        env = dict(os.environ, INSTRUMENT_TORCH_THREADS="1")
        self.proc = subprocess.Popen([sys.executable, "-m", "instrument", "serve", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, cwd=ROOT, env=env, preexec_fn=default_sigint)
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())

    def wait_for(self, text, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} in serve's output: {self.lines[-10:]}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)          # how systemd stops it
        code = self.proc.wait(timeout=30)
        self._reader.join(5)
        return code


class Client:
    """Sends /wek/inputs and control messages; collects what serve sends back."""

    def __init__(self, port):
        self.dest = ("127.0.0.1", port)
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.rx.bind(("127.0.0.1", 0))
        self.rx.settimeout(0.0005)
        self.received = []
        self.sent = 0
        self.k = 0

    @property
    def port(self):
        return self.rx.getsockname()[1]

    def control(self, name, *args):
        self.tx.sendto(encode_reply(f"/wekinator/control/{name}", list(args)), self.dest)

    def pump(self):
        while True:
            try:
                self.received.append((time.monotonic(), self.rx.recv(65536)))
            except (socket.timeout, BlockingIOError):
                return

    def stream(self, seconds, width=2):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            angle = self.k * 0.04
            if width == 2:
                values = [0.5 + 0.35 * np.cos(angle), 0.5 + 0.3 * np.sin(1.7 * angle)]
            else:            # 16 sensors: sines of different speeds
                values = [np.sin(angle * (1 + 0.3 * c) + c) for c in range(width)]
            self.tx.sendto(encode_message("/wek/inputs", "f" * width, values), self.dest)
            self.sent += 1
            self.k += 1
            self.pump()
            time.sleep(PERIOD)

    def replies(self, address):
        out = []
        for when, data in self.received:
            if data.startswith(address.encode()):
                parsed = parse_message(data)
                out.append((when, parsed[1]))
        return out


@pytest.mark.slow
def test_record_train_run_swap_and_resume(tmp_path):
    config, arrays, _ = tiny_parts(seed=3)
    save_bundle(tmp_path / "tiny", config, arrays)
    project = tmp_path / "project"
    port = free_port()
    client = Client(port)
    serve = Serve("--project", str(project), "--model", str(tmp_path / "tiny"),
                  "--port", str(port), "--osc", f"127.0.0.1:{client.port}",
                  "--train-sounds", "60", "--train-epochs", "2")
    try:
        serve.wait_for("listening on UDP 127.0.0.1")
        client.stream(0.3)                              # the old model plays at once
        assert client.replies("/wek/outputs")
        client.control("startRecording")
        client.stream(4.0)
        client.control("stopRecording")
        client.control("setOutputNames", "carrier", "ratio", "index", "gain")
        client.control("selectInputsForOutput", 1, 1)   # accepted, not applicable here
        client.control("noSuchControl")
        client.stream(0.2)
        sent_train = time.monotonic()
        client.control("train")
        deadline = time.monotonic() + 240
        while not client.replies("/instrument/trained") and time.monotonic() < deadline:
            client.stream(0.2)
        (when, trained), = client.replies("/instrument/trained")
        client.stream(0.5)
    finally:
        code = serve.stop()
    assert code == 0, serve.lines[-5:]
    model = trained[0]
    assert model == str(project / "models" / "model-0001") and os.path.isdir(model)
    figures = dict(zip(trained[1::2], trained[2::2]))
    assert figures["seconds"] > 0 and 0 <= figures["trustworthiness"] <= 1
    # playing went on while training: outputs arrived between 'train' and '/instrument/trained'
    during = [w for w, d in client.received if d.startswith(b"/wek/outputs")
              and sent_train < w < when]
    assert len(during) > 10
    summary = serve.lines[-1]
    assert summary.startswith("serve: ") and "swapped to" in summary, serve.lines[-3:]
    # every input accepted made a frame, across the swap too: none lost
    inputs = int(summary.split(" inputs")[0].split()[-1])
    from_inputs = int(summary.split(" from inputs")[0].split("(")[-1])
    assert inputs == from_inputs and inputs >= 0.95 * client.sent
    assert "unknown 1" in summary
    assert (project / "recordings" / "take-0001.jsonl").exists()
    # a restart resumes the trained model by itself
    again = Serve("--project", str(project), "--port", str(port), "--osc",
                  f"127.0.0.1:{client.port}", "--seconds", "1")
    again.proc.wait(timeout=60)
    again._reader.join(5)
    assert any(f"playing {model}" in line for line in again.lines), again.lines


def test_bad_arguments_are_one_line(run_cli, tmp_path):
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    try:
        result = run_cli("serve", "--project", str(tmp_path / "p"), "--port",
                         str(busy.getsockname()[1]), "--seconds", "1")
    finally:
        busy.close()
    assert result.code == 2 and "already in use" in result.err
    (tmp_path / "file").write_text("x")
    result = run_cli("serve", "--project", str(tmp_path / "file"), "--port", str(free_port()),
                     "--seconds", "1")
    assert result.code == 2 and "is a file" in result.err
    result = run_cli("serve", "--train-sounds", "5", "--seconds", "1")
    assert result.code == 2 and "too few" in result.err
    for result in (run_cli("serve", "--port", "70000"), run_cli("serve", "--inputs", "5000")):
        assert result.code == 2 and "Traceback" not in result.err


@pytest.mark.slow
def test_sixteen_wide_inputs_record_train_and_play(tmp_path):
    """No model at first: 16-wide inputs are recorded, trained on in the background, and
    played as soon as the model is ready."""
    project = tmp_path / "project"
    port = free_port()
    client = Client(port)
    serve = Serve("--project", str(project), "--port", str(port), "--osc",
                  f"127.0.0.1:{client.port}", "--train-sounds", "60", "--train-epochs", "2")
    try:
        serve.wait_for("listening on UDP 127.0.0.1")
        client.control("startRecording")
        client.stream(5.0, width=16)
        client.control("stopRecording")
        assert not client.replies("/wek/outputs")          # nothing to play yet
        client.control("train")
        deadline = time.monotonic() + 240
        while not client.replies("/instrument/trained") and time.monotonic() < deadline:
            client.stream(0.2, width=16)
        assert client.replies("/instrument/trained"), serve.lines[-5:]
        client.stream(0.5, width=16)
        client.stream(0.1, width=15)                        # wrong width: counted
    finally:
        code = serve.stop()
    assert code == 0
    outputs = [d for _, d in client.received if d.startswith(b"/wek/outputs")]
    assert len(outputs) > 20
    assert len(parse_message(outputs[-1])[1]) == 4          # the synth's 4 parameters
    assert any("16 values wide" in line for line in serve.lines)
    assert "'wrong_width'" in serve.lines[-1]
