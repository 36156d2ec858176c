"""A 16-channel stream end to end: train, evaluate, render, perform (replay and OSC in)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import default_sigint, free_port
from pythonosc.osc_message import OscMessage
from stream_helpers import write_stream_file

from instrument.config import FeatureConfig, GestureConfig, SoundConfig, TrainConfig
from instrument.formats import osc
from instrument.formats.bundle import save_bundle
from instrument.formats.recording import read_recording

SMALL = dict(layer_size=24, sae_epochs=3, mapping_hidden=32, mapping_epochs=15)
WIDTH = 16


@pytest.fixture(scope="module")
def stream_model(tmp_path_factory):
    """(model dir, held-out 16-channel file, 3-channel file) of a tiny 16-channel instrument."""
    from instrument.learn.training import train_instrument
    from instrument.sound.bank import build_sound_bank

    folder = tmp_path_factory.mktemp("stream")
    train = read_recording(write_stream_file(folder / "train.jsonl", WIDTH, seconds=15))
    bank = build_sound_bank(SoundConfig(n_sounds=300, seconds=0.1), FeatureConfig(n_bands=24),
                            workers=1)
    config, arrays, summary = train_instrument(
        [train], TrainConfig(**SMALL), GestureConfig(window_steps=8), bank.sound_config,
        bank.feature_config, sound_bank=bank)
    path = str(folder / "model")
    save_bundle(path, config, arrays)
    held = write_stream_file(folder / "held.jsonl", WIDTH, seconds=6, seed=5)
    narrow = write_stream_file(folder / "narrow.jsonl", 3, seconds=3, seed=6)
    return path, held, narrow, config, summary


@pytest.mark.slow
def test_training_learns_and_stores_the_stream(stream_model):
    from instrument.runtime import Runtime

    path, _, _, config, summary = stream_model
    stream = config["stream"]
    assert [c["name"] for c in stream["channels"]] == [f"in{i + 1}" for i in range(WIDTH)]
    dim = 8 * 2 * WIDTH
    assert summary["windows"].shape[1] == dim
    assert config["runtime"]["still_columns"] == list(range(dim - WIDTH, dim))
    model, chance = summary["metrics"]["model"], summary["metrics"]["random"]
    assert model["trustworthiness"] > chance["trustworthiness"] + 0.1, summary["metrics"]
    runtime = Runtime.from_bundle(path)
    assert runtime.stream_spec.width == WIDTH and runtime.window_dim == dim


@pytest.mark.slow
def test_render_evaluate_and_replay_give_the_same_frames(stream_model, run_cli, tmp_path):
    path, held, _, _, _ = stream_model
    res = run_cli("render", "--model", path, "--gestures", held, "--out",
                  str(tmp_path / "a.wav"), "--controls", str(tmp_path / "a.csv"))
    assert res.code == 0, res.err
    res = run_cli("perform", "--model", path, "--replay", held, "--headless", "--audio",
                  "none", "--no-osc", "--fast", "--controls", str(tmp_path / "live.csv"))
    assert res.code == 0, res.err
    offline = (tmp_path / "a.csv").read_text()
    assert (tmp_path / "live.csv").read_text() == offline      # byte for byte
    assert len(offline.splitlines()) > 500
    from instrument.learn.evaluation import evaluation_windows, measure
    from instrument.runtime import Runtime

    runtime = Runtime.from_bundle(path)
    windows, frames = evaluation_windows(read_recording(held), runtime.gesture_config, 1.0,
                                         runtime.stream_spec)
    result = measure(runtime, windows, frames)
    assert result["n_windows"] == len(windows) > 100
    assert result["model"]["stability"] >= result["random"]["stability"]


@pytest.mark.slow
def test_another_width_is_one_line_naming_both(stream_model, run_cli, tmp_path):
    path, _, narrow, _, _ = stream_model
    for args in (["render", "--gestures", narrow, "--out", str(tmp_path / "n.wav")],
                 ["perform", "--replay", narrow, "--headless", "--audio", "none"],
                 ["render", "--gestures", "recordings/demo.jsonl", "--out",
                  str(tmp_path / "d.wav")]):
        res = run_cli(args[0], "--model", path, *args[1:])
        assert res.code == 2, res.err
        assert len(res.err.strip().splitlines()) == 1 and "Traceback" not in res.err
        assert "trained on 16 channels (in1..in16)" in res.err
    res = run_cli("render", "--model", "models/default", "--gestures", narrow, "--out",
                  str(tmp_path / "x.wav"))
    assert res.code == 2 and "trained on a 2-D pointer (x, y)" in res.err
    assert "is 3 channels (in1, in2, in3)" in res.err


@pytest.mark.slow
def test_perform_takes_16_floats_over_osc_and_counts_other_widths(stream_model):
    path, _, _, _, _ = stream_model
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5.0)
    in_port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "instrument", "perform", "--model", path, "--headless",
         "--audio", "none", "--osc-in", str(in_port), "--seconds", "60",
         "--osc", f"127.0.0.1:{receiver.getsockname()[1]}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        line = proc.stdout.readline()
        assert "Listening" in line and "16 values per message" in line, line
        for dgram in (osc.encode_message("/wek/inputs", "ff", [0.5, 0.5]),      # 2, not 16
                      osc.encode_message("/wek/inputs", "f" * 16, [float("nan")] * 16),
                      osc.encode_message("/wek/inputs", "f" * 16, [1e12] * 16), b"junk"):
            client.sendto(dgram, ("127.0.0.1", in_port))
        rng = np.random.default_rng(0)
        outputs = []
        for i in range(20):
            client.sendto(osc.encode_message("/wek/inputs", "f" * 16,
                                             rng.uniform(0, 1, 16).tolist()),
                          ("127.0.0.1", in_port))
            time.sleep(0.01)
        while len(outputs) < 20:
            msg = OscMessage(receiver.recv(4096))
            if msg.address == "/wek/outputs":
                outputs.append(msg.params)
        assert all(0.0 <= v <= 1.0 for params in outputs for v in params)
    finally:
        client.close()
        receiver.close()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "20 good packets" in out, out
    assert "1 wrong arity" in out and "1 non finite" in out and "1 absurd" in out, out
