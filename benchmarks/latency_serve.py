"""Latency rows of ``instrument serve``, part of benchmarks/latency.py's table (run that).

1. 16-channel OSC input -> OSC out: ``instrument serve --model M16`` (a model of the default
   architecture trained quickly on a synthetic 16-channel stream) as a user runs it; a client
   sends ``/wek/inputs`` with 16 floats every 5 ms and timestamps the ``/wek/outputs`` it gets
   back on the same clock. serve's own figure (packet arrival -> every sink done) beside it.
2. 16-channel OSC input -> MIDI message: the same with ``--midi-out`` to a JACK MIDI port on a
   private ``jackd -d dummy -p 64`` server; the client timestamps each MIDI message its JACK
   input port delivers. JACK MIDI moves once per period (64 frames = 1.45 ms), so this row is
   the control path plus up to one period.
3. ``train`` -> the new model playing, for recordings/demo.jsonl (7 minutes) with serve's
   live-session defaults (1000 sounds, 10 epochs): from the client sending
   ``/wekinator/control/train`` to ``/instrument/trained`` arriving.

``python benchmarks/latency.py`` prints these rows after its own; ``--json`` has them under
``"serve"``.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
WIDTH = 16


def stats(values_s) -> dict:
    """p50/p95/p99/max/jitter in milliseconds (as latency.py)."""
    v = np.asarray(values_s, dtype=np.float64) * 1e3
    if len(v) == 0:
        return {"n": 0}
    return {"n": int(len(v)), "p50": float(np.percentile(v, 50)),
            "p95": float(np.percentile(v, 95)), "p99": float(np.percentile(v, 99)),
            "max": float(v.max()), "jitter": float(np.percentile(v, 99) - np.percentile(v, 1))}


def stream_model(directory: str, seconds: float = 120.0) -> str:
    """A default-size model trained fast on a synthetic 16-channel stream."""
    import torch

    from instrument.config import FeatureConfig, GestureConfig, SoundConfig, TrainConfig
    from instrument.formats.bundle import save_bundle
    from instrument.formats.channels import Channel
    from instrument.formats.recording import read_recording
    from instrument.formats.recording_v2 import StreamWriter
    from instrument.learn.training import train_instrument

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    phase, freq = rng.uniform(0, 2 * np.pi, WIDTH), rng.uniform(0.1, 1.5, WIDTH)
    path = os.path.join(directory, "stream.jsonl")
    with StreamWriter(path, [Channel(f"in{i + 1}") for i in range(WIDTH)]) as writer:
        for k in range(int(seconds * 100)):
            t = k / 100
            writer.add(t, np.sin(2 * np.pi * freq * t + phase) * (1 + 0.5 * np.sin(0.3 * t)))
    config, arrays, _ = train_instrument([read_recording(path)],
                                         TrainConfig(sae_epochs=2, mapping_epochs=2),
                                         GestureConfig(), SoundConfig(n_sounds=5000, seconds=0.25),
                                         FeatureConfig())
    out = os.path.join(directory, "model16")
    save_bundle(out, config, arrays)
    return out


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(args, env=None):
    proc = subprocess.Popen([sys.executable, "-m", "instrument", "serve", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=ROOT, env=env)
    lines: list[str] = []

    def read():
        for line in proc.stdout:
            lines.append(line.rstrip())

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 60
    while not any("listening on UDP" in line for line in lines):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"serve did not start: {lines[-5:]}")
        time.sleep(0.05)
    return proc, lines


def _stop(proc, lines) -> str:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    time.sleep(0.1)
    return next((line for line in reversed(lines) if line.startswith("serve: ") and
                 " inputs, " in line), "")


def _inside(summary: str) -> dict | None:
    found = re.search(r"p50 ([\d.]+) ms, p99 ([\d.]+) ms", summary)
    n = re.search(r"\((\d+) from inputs", summary)
    if not found:
        return None
    return {"n": int(n.group(1)) if n else 0, "p50": float(found.group(1)),
            "p99": float(found.group(2))}


def _drive(port: int, n_inputs: int, interval: float, arrivals: list, stop: threading.Event):
    """Send n 16-float /wek/inputs; returns the send times (perf_counter)."""
    from instrument.formats.osc import encode_message

    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = np.zeros(n_inputs)
    start = time.perf_counter()
    for i in range(n_inputs):
        values = [math.sin(0.05 * i + c) for c in range(WIDTH)]
        packet = encode_message("/wek/inputs", "f" * WIDTH, values)
        delay = start + i * interval - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent[i] = time.perf_counter()
        client.sendto(packet, ("127.0.0.1", port))
    time.sleep(0.3)
    stop.set()
    client.close()
    return sent


def _match(sent, arrivals) -> list[float]:
    """Each input's latency: the first arrival after it and before the next input."""
    got = np.sort(np.asarray(arrivals))
    out = []
    for i in range(len(sent)):
        end = sent[i + 1] if i + 1 < len(sent) else math.inf
        k = np.searchsorted(got, sent[i])
        if k < len(got) and got[k] < end:
            out.append(got[k] - sent[i])
    return out


def osc_16(model: str, n_inputs: int, interval: float = 0.005) -> dict:
    """Row 1: 16-channel /wek/inputs -> serve -> /wek/outputs back."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(0.1)
    port = _free_port()
    with tempfile.TemporaryDirectory() as project:
        proc, lines = _serve(["--project", project, "--model", model, "--port", str(port),
                              "--osc", f"127.0.0.1:{receiver.getsockname()[1]}"])
        arrivals: list[float] = []
        stop = threading.Event()

        def receive():
            while not stop.is_set():
                try:
                    packet = receiver.recv(4096)
                except socket.timeout:
                    continue
                if packet.startswith(b"/wek/outputs\0"):
                    arrivals.append(time.perf_counter())

        thread = threading.Thread(target=receive, daemon=True)
        thread.start()
        sent = _drive(port, n_inputs, interval, arrivals, stop)
        thread.join()
        summary = _stop(proc, lines)
    receiver.close()
    return {"round_trip": stats(_match(sent, arrivals)), "inside": _inside(summary)}


def midi_16(model: str, n_inputs: int, jack, interval: float = 0.005, period: int = 64) -> dict:
    """Row 2: 16-channel /wek/inputs -> serve --midi-out -> a JACK MIDI input port.

    ``jack`` is latency.py's (start_jackd, stop_jackd).
    """
    import mido

    start_jackd, stop_jackd = jack
    jackd, name = start_jackd(44100, period)
    if jackd is None:
        return {"error": "jackd is not installed (apt-get install jackd2)"}
    port = _free_port()
    arrivals: list[float] = []
    try:
        backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK")
        synth = backend.open_input("bench", virtual=True,
                                   callback=lambda message: arrivals.append(time.perf_counter()))
        target = [n for n in backend.get_output_names() if "bench" in n][0]
        with tempfile.TemporaryDirectory() as project:
            proc, lines = _serve(["--project", project, "--model", model, "--port", str(port),
                                  "--osc", "127.0.0.1:9",
                                  "--midi-out", target], env=dict(os.environ))
            time.sleep(0.5)                     # the MIDI connection settles
            arrivals.clear()
            stop = threading.Event()
            sent = _drive(port, n_inputs, interval, arrivals, stop)
            summary = _stop(proc, lines)
        synth.close()
    finally:
        stop_jackd(jackd)
    return {"round_trip": stats(_match(sent, arrivals)), "inside": _inside(summary),
            "period": period}


def train_to_swap(demo: str) -> dict:
    """Row 3: /wekinator/control/train -> /instrument/trained, demo recording, serve defaults."""
    from instrument.formats.osc_control import encode_reply, parse_message

    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(0.2)
    port = _free_port()
    with tempfile.TemporaryDirectory() as project:
        os.makedirs(os.path.join(project, "recordings"))
        shutil.copy(demo, os.path.join(project, "recordings", "demo.jsonl"))
        proc, lines = _serve(["--project", project, "--port", str(port),
                              "--osc", f"127.0.0.1:{receiver.getsockname()[1]}"])
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        start = time.perf_counter()
        client.sendto(encode_reply("/wekinator/control/train", []), ("127.0.0.1", port))
        reply, deadline = None, time.monotonic() + 600
        while reply is None and time.monotonic() < deadline:
            try:
                packet = receiver.recv(65536)
            except socket.timeout:
                continue
            if packet.startswith(b"/instrument/trained"):
                reply = parse_message(packet)[1]
        seconds = time.perf_counter() - start
        _stop(proc, lines)
        client.close()
    receiver.close()
    if reply is None:
        return {"error": "no /instrument/trained within 10 minutes"}
    figures = dict(zip(reply[1::2], reply[2::2]))
    return {"seconds": seconds, "inside_seconds": figures.get("seconds"),
            "trustworthiness": figures.get("trustworthiness")}


def serve_latency(n_inputs: int, jack) -> dict:
    """Every serve row (what latency.py adds to its table); ``jack``: (start, stop) jackd."""
    with tempfile.TemporaryDirectory() as tmp:
        model = stream_model(tmp)
        return {"osc16": osc_16(model, n_inputs), "midi16": midi_16(model, n_inputs, jack),
                "train": train_to_swap(os.path.join(ROOT, "recordings", "demo.jsonl"))}


def serve_rows(results: dict | None, row) -> list[str]:
    """Table rows in latency.py's layout (``row(name, stats)`` appends one)."""
    extra: list[str] = []
    if not results:
        return extra
    row("16-channel OSC input -> OSC out (serve, round trip)", results["osc16"]["round_trip"])
    row("  inside serve: arrival -> frame sent", results["osc16"].get("inside"))
    midi = results["midi16"]
    if "error" in midi:
        extra.append(f"16-channel OSC input -> MIDI: {midi['error']}")
    else:
        row(f"16-channel OSC input -> MIDI message (JACK, period {midi['period']})",
            midi["round_trip"])
        row("  inside serve: arrival -> MIDI + OSC sent", midi.get("inside"))
    train = results["train"]
    extra.append("train -> new model playing (serve, demo recording, 1000 sounds, 10 epochs): "
                 + (train["error"] if "error" in train else f"{train['seconds']:.1f} s"))
    return extra
