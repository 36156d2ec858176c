"""Latency of the live instrument, in one table (milliseconds).

1. input -> OSC out: ``instrument perform --headless --audio none --osc-in P --osc R`` runs as
   a user runs it; a client sends ``/wek/inputs`` (a moving pointer, every 5 ms) and receives
   ``/wek/outputs``, timestamping both on one clock. perform's own ``--latency-report``
   (packet arrival -> frame sent, measured inside) is shown beside it.
2. input -> audio (pyo, as soon as possible): the control loop feeds pyo's jack backend on a
   private ``jackd -d dummy`` server. A pyo callback timestamps the start of every audio
   block; a frame is carried by the first block that starts after its parameters were set,
   and is heard JACK's playback latency (read from ``jack_lsp -l``) after that block starts. So
   ``input -> audio = (block start - input) + playback latency``; jitter = p99 - p1.
3. input -> audio (sounddevice voice, ``perform --fixed-latency``): every change is scheduled
   for the sample heard a fixed delay after its input (one block + the output latency + 2 ms);
   see :func:`fixed_latency` for how the heard time is measured.

Usage: python benchmarks/latency.py [--model M] [--inputs N] [--seconds S]
       [--buffers 256 128 64 32] [--fixed-buffers 64 32] [--json]
Without --model it uses the shipped models/default, or, when that is missing, trains a model of
the default architecture quickly on synthetic gestures (latency depends on the network and
bank sizes, not on how well they were trained).
"""

from __future__ import annotations

import argparse
import json
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
import uuid

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("PYO_GUI_WX", "0")
from latency_serve import serve_latency, serve_rows  # noqa: E402 - benchmarks/ is on sys.path


def stats(values_s) -> dict:
    """p50/p95/p99/max/jitter in milliseconds."""
    v = np.asarray(values_s, dtype=np.float64) * 1e3
    if len(v) == 0:
        return {"n": 0}
    return {"n": int(len(v)), "p50": float(np.percentile(v, 50)),
            "p95": float(np.percentile(v, 95)), "p99": float(np.percentile(v, 99)),
            "max": float(v.max()), "jitter": float(np.percentile(v, 99) - np.percentile(v, 1))}


def quick_model(directory: str) -> str:
    """Train a default-size model fast (few epochs) on synthetic gestures."""
    import torch

    from instrument.config import FeatureConfig, GestureConfig, SoundConfig, TrainConfig
    from instrument.formats.bundle import save_bundle
    from instrument.gesture.synthetic import synthesize
    from instrument.learn.training import train_instrument

    torch.set_num_threads(2)
    train_cfg = TrainConfig(sae_epochs=2, mapping_epochs=2)
    config, arrays, _ = train_instrument([synthesize(120.0, seed=1)], train_cfg, GestureConfig(),
                                         SoundConfig(n_sounds=5000, seconds=0.25),
                                         FeatureConfig())
    path = os.path.join(directory, "model")
    save_bundle(path, config, arrays)
    return path


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def osc_round_trip(model: str, n_inputs: int, interval: float = 0.005) -> dict:
    """Part 1: a client's /wek/inputs -> perform -> /wek/outputs back to the client."""
    from instrument.formats.osc import encode_message

    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    receiver.bind(("127.0.0.1", 0))
    in_port = free_udp_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "instrument", "perform", "--model", model, "--headless",
         "--audio", "none", "--osc-in", str(in_port), "--latency-report",
         "--osc", f"127.0.0.1:{receiver.getsockname()[1]}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    arrivals = np.zeros(n_inputs * 8)
    count = [0]
    stop = threading.Event()

    def receive():
        receiver.settimeout(0.1)
        while not stop.is_set():
            try:
                packet = receiver.recv(2048)
            except socket.timeout:
                continue
            now = time.perf_counter()
            if packet.startswith(b"/wek/outputs\0") and count[0] < len(arrivals):
                arrivals[count[0]] = now
                count[0] += 1

    line = proc.stdout.readline()
    if "Listening" not in line:
        proc.kill()
        raise RuntimeError(f"perform did not start: {line}{proc.stderr.read()}")
    thread = threading.Thread(target=receive, daemon=True)
    thread.start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = np.zeros(n_inputs)
    start = time.perf_counter()
    for i in range(n_inputs):
        phase = 2 * math.pi * i / 200
        packet = encode_message("/wek/inputs", "ff", [0.5 + 0.3 * math.cos(phase),
                                                      0.5 + 0.3 * math.sin(phase)])
        delay = start + i * interval - time.perf_counter()
        if delay > 0:
            time.sleep(delay)                    # one sleep: no busy loop stealing the CPU
        sent[i] = time.perf_counter()
        client.sendto(packet, ("127.0.0.1", in_port))
    time.sleep(0.3)
    stop.set()
    thread.join()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    client.close()
    receiver.close()
    got = np.sort(arrivals[:count[0]])
    latencies = []
    for i in range(n_inputs):
        end = sent[i + 1] if i + 1 < n_inputs else math.inf
        k = np.searchsorted(got, sent[i])
        if k < len(got) and got[k] < end:
            latencies.append(got[k] - sent[i])
    inside = re.search(r"input -> control frame sent\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+"
                       r"([\d.]+)\s+([\d.]+)", out)
    result = {"round_trip": stats(latencies), "answered": len(latencies), "sent": n_inputs}
    if inside:
        n, p50, p95, p99, mx = inside.groups()
        result["inside_perform"] = {"n": int(n), "p50": float(p50), "p95": float(p95),
                                    "p99": float(p99), "max": float(mx)}
    return result


def start_jackd(rate: int, period: int):
    jackd = shutil.which("jackd")
    if jackd is None:
        return None, None
    name = f"instrument-bench-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1", JACK_NO_START_SERVER="1",
               JACK_DEFAULT_SERVER=name)
    proc = subprocess.Popen([jackd, "-n", name, "--no-realtime", "-d", "dummy", "-r", str(rate),
                             "-p", str(period)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        ready = subprocess.run(["jack_wait", "-s", name, "-c"], capture_output=True, text=True,
                               env=env).stdout.strip()
        if ready == "running":
            os.environ["JACK_DEFAULT_SERVER"] = name
            os.environ["JACK_NO_START_SERVER"] = "1"
            return proc, name
        time.sleep(0.05)
    proc.kill()
    return None, None


def stop_jackd(jackd: subprocess.Popen) -> None:
    """Stop a server from :func:`start_jackd` and forget it as the default JACK server."""
    os.environ.pop("JACK_DEFAULT_SERVER", None)
    jackd.terminate()
    try:
        jackd.wait(timeout=5)
    except subprocess.TimeoutExpired:
        jackd.kill()


def playback_latency_frames(name: str) -> int:
    env = dict(os.environ, JACK_DEFAULT_SERVER=name)
    text = subprocess.run(["jack_lsp", "-l"], capture_output=True, text=True, env=env).stdout
    match = re.search(r"system:playback_1\s+port playback latency = \[ (\d+) (\d+) \]", text)
    return int(match.group(2)) if match else 0


def drive_circle(loop, seconds: float) -> tuple[list[float], list[float]]:
    """Feed ``loop`` a pointer circling at mouse-like, irregular intervals (4-12 ms, seeded,
    not locked to the audio) for ``seconds``; returns each sample's arrival time and the time
    its control frame was done (both ``time.perf_counter()``)."""
    rng = np.random.default_rng(0)
    inputs, done = [], []
    start, t = time.perf_counter(), 0.0
    while time.perf_counter() - start < seconds:
        t += float(rng.uniform(0.004, 0.012))
        pause = start + t - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        arrival = time.perf_counter()
        phase = 2 * math.pi * t / 2.0
        loop.sample(t, 400 + 200 * math.cos(phase), 300 + 200 * math.sin(phase), arrival)
        inputs.append(arrival)
        done.append(time.perf_counter())
    return inputs, done


def audio_latency(model: str, rate: int, period: int, seconds: float) -> dict:
    """Part 2: control frame -> the jack audio block that carries it (pyo, jackd dummy)."""
    from instrument.gesture import tracker as gestures
    from instrument.live import loop as perform
    from instrument.output.pyo_voice import PyoVoice
    from instrument.runtime import Runtime

    jackd, name = start_jackd(rate, period)
    if jackd is None:
        return {"error": "jackd (jackd2) is not installed or did not start"}
    voice = None
    try:
        runtime = Runtime.from_bundle(model)
        cfg = runtime.gesture_config
        voice = PyoVoice("jack", rate, period, table=runtime.table).start()
        blocks = np.zeros(int(seconds * rate / period * 2) + 1000)
        n_blocks = [0]

        def on_block():
            if n_blocks[0] < len(blocks):
                blocks[n_blocks[0]] = time.perf_counter()
                n_blocks[0] += 1

        voice.server.setCallback(on_block)
        loop = perform.ControlLoop(runtime, gestures.GestureTracker(cfg, 800, 600),
                                   voices=[voice])
        time.sleep(0.3)                      # let the audio run settle
        inputs, done = drive_circle(loop, seconds)
        time.sleep(0.1)
        starts = np.sort(blocks[:n_blocks[0]])
        latency_frames = playback_latency_frames(name)
        to_block, to_audio = [], []
        for arrival, sent in zip(inputs, done):
            k = np.searchsorted(starts, sent)
            if k < len(starts):
                to_block.append(starts[k] - arrival)
                to_audio.append(starts[k] - arrival + latency_frames / rate)
        return {"period": period, "rate": rate, "playback_latency_frames": latency_frames,
                "frames": len(inputs), "blocks": int(n_blocks[0]),
                "to_block": stats(to_block), "to_audio": stats(to_audio),
                "control": stats(np.array(done) - np.array(inputs))}
    finally:
        if voice is not None:
            voice.stop()
        stop_jackd(jackd)


def fixed_latency(model: str, rate: int, period: int, seconds: float,
                  margin_s: float = 0.002) -> dict:
    """Part 3: the sounddevice voice with a constant delay (``perform --fixed-latency``).

    Each change is scheduled for the sample heard ``delay`` after its input. Independently of
    the voice's smoothed stream clock, every block's raw DAC time (PortAudio's
    outputBufferDacTime on perf_counter's clock, read at callback entry) and the sample each
    change landed on are recorded, so heard = raw block DAC time + offset in the block; a
    change too late for its sample lands at the start of the block that took it.
    """
    from instrument.gesture import tracker as gestures
    from instrument.live import loop as perform
    from instrument.output.sounddevice_voice import SoundDeviceVoice, quiet_stderr
    from instrument.runtime import Runtime

    jackd, name = start_jackd(rate, period)
    if jackd is None:
        return {"error": "jackd (jackd2) is not installed or did not start"}
    voice = None
    try:
        runtime = Runtime.from_bundle(model)
        voice = SoundDeviceVoice(rate, period, table=runtime.table)
        n_max = int(seconds * rate / period * 2) + 1000
        block_dac, block_start = np.zeros(n_max), np.zeros(n_max, dtype=np.int64)
        count = [0]
        landed = []                               # (block index, sample) per scheduled change
        original_callback, original_schedule = voice.callback, voice.voice.schedule_prepared

        def callback(outdata, frames, time_info, status):
            k = count[0]
            if k < n_max:
                offset = time.perf_counter() - time_info.currentTime
                block_dac[k] = time_info.outputBufferDacTime + offset
                block_start[k] = voice.voice.samples_rendered
                count[0] += 1
            original_callback(outdata, frames, time_info, status)

        def schedule(sample, smooth):
            landed.append((count[0] - 1, sample))
            return original_schedule(sample, smooth)

        voice.callback = callback                 # the stream is opened with voice.callback
        voice.voice.schedule_prepared = schedule
        voice.start()
        time.sleep(0.3)
        delay = voice.on_time_delay + margin_s
        loop = perform.ControlLoop(runtime, gestures.GestureTracker(runtime.gesture_config,
                                                                    800, 600),
                                   voices=[voice], fixed_latency=delay)
        inputs, _ = drive_circle(loop, seconds)
        time.sleep(delay + 0.1)
        heard = [block_dac[k] + max(sample - block_start[k], 0) / rate
                 for k, sample in landed[:len(inputs)] if 0 <= k < count[0]]
        return {"period": period, "rate": rate, "delay_ms": delay * 1e3,
                "changes": len(inputs), "late": int(voice.late_changes),
                "to_audio": stats(np.array(heard) - np.array(inputs[:len(heard)]))}
    finally:
        if voice is not None:
            voice.stop()
        import sounddevice as sd

        # PortAudio must let go of this JACK server while it still runs (its exit handler
        # asserts otherwise), then start again without it for the next run.
        sd._terminate()
        stop_jackd(jackd)
        with quiet_stderr():  # PortAudio probing ALSA prints a page on a machine without
            sd._initialize()


def table(results: dict) -> str:
    head = f"{'path':56s} {'n':>6s} {'p50':>7s} {'p95':>7s} {'p99':>7s} {'max':>7s} {'jitter':>7s}"
    rows = [head, "-" * len(head)]

    def row(name, s):
        if not s or not s.get("n"):
            rows.append(f"{name:56s} {'-':>6s}")
            return
        cells = " ".join(f"{s[k]:7.3f}" if k in s else f"{'':7s}"
                         for k in ("p50", "p95", "p99", "max", "jitter"))
        rows.append(f"{name:56s} {s['n']:6d} {cells}")

    osc = results.get("osc")
    if osc:
        row("input -> OSC out (client round trip)", osc["round_trip"])
        row("  inside perform: arrival -> frame sent", osc.get("inside_perform"))
    for audio in results.get("audio", []):
        if "error" in audio:
            rows.append(f"input -> audio: {audio['error']}")
            continue
        tag = f"{audio['period']} @ {audio['rate'] / 1000:g} kHz"
        row(f"input -> audio, pyo, block {tag}", audio["to_audio"])
        row("  of which: wait for the next block", audio["to_block"])
        row("  of which: control path (set_params)", audio["control"])
    for fixed in results.get("fixed", []):
        if "error" in fixed:
            rows.append(f"fixed latency: {fixed['error']}")
            continue
        row(f"input -> audio, sounddevice, block {fixed['period']}, --fixed-latency "
            f"{fixed['delay_ms']:.1f}", fixed["to_audio"])
        rows.append(f"  ({fixed['late']} of {fixed['changes']} changes late)")
    rows += serve_rows(results.get("serve"), row)   # serve's 16-channel, MIDI and train rows
    rows.append("milliseconds, on jackd -d dummy. pyo: wait for the next block + JACK playback "
                "latency (" + ", ".join(f"{a['playback_latency_frames']} frames @ {a['period']}"
                                        for a in results.get("audio", []) if "error" not in a)
                + ").")
    rows.append("sounddevice --fixed-latency: each change at its own sample; heard = the raw DAC "
                "time of its block + its offset in the block.")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model bundle (default: models/default, else a quickly "
                                         "trained one)")
    parser.add_argument("--inputs", type=int, default=2000, help="OSC inputs to send")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per audio run")
    parser.add_argument("--buffers", type=int, nargs="*", default=[256, 128, 64, 32])
    parser.add_argument("--fixed-buffers", type=int, nargs="*", default=[64, 32],
                        help="block sizes for the sounddevice fixed-latency runs")
    parser.add_argument("--rate", type=int, default=44100)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        shipped = os.path.join(ROOT, "models", "default")
        model = args.model or (shipped if os.path.isdir(shipped) else quick_model(tmp))
        results = {"osc": osc_round_trip(model, args.inputs),
                   "audio": [audio_latency(model, args.rate, b, args.seconds)
                             for b in args.buffers],
                   "fixed": [fixed_latency(model, args.rate, b, args.seconds)
                             for b in args.fixed_buffers],
                   "serve": serve_latency(args.inputs, (start_jackd, stop_jackd))}
    results["model"] = os.path.relpath(model, ROOT) if args.model or model == shipped else \
        "(quickly trained, default architecture)"
    print(json.dumps(results, indent=1) if args.json else
          f"model: {results['model']}\n" + table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
