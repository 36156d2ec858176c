"""serve.py driven packet by packet (injected arrival times, no threads unless stated):
bad input on every path is counted, never fatal; recording, names, examples set aside,
resume after a restart, and a model swap between two frames with no gap in gesture time."""

import json
import os
import threading

import numpy as np
import pytest
from tiny_model import tiny_parts

from instrument.formats.bundle import save_bundle
from instrument.formats.osc import encode_message
from instrument.formats.osc_bundle import encode_bundle
from instrument.live.serve import ServeOptions, Service, summary

PERIOD = 0.01          # the tiny model's gesture rate is 100 Hz: one frame every 10 ms


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve-models")
    paths = []
    for seed in (3, 4):
        config, arrays, _ = tiny_parts(seed=seed)
        save_bundle(folder / f"m{seed}", config, arrays)
        paths.append(str(folder / f"m{seed}"))
    return paths


def control(name, tags="", values=()):
    from instrument.formats.osc_control import encode_reply

    return encode_reply(f"/wekinator/control/{name}", list(values))


def inputs(*values):
    return encode_message("/wek/inputs", "f" * len(values), values)


def make_service(tmp_path, model=None, **kw):
    logs = []
    opts = ServeOptions(project=str(tmp_path / "project"), model=model,
                        osc=[("127.0.0.1", 9)], **kw)
    service = Service(opts, logs.append, still_frames=False).open()
    return service, logs


def capture_frames(service):
    """Wrap the loop's on_frame: every frame's gesture time, in order."""
    times = []
    original = service.loop.on_frame

    def on_frame(t, sound, physical):
        times.append(t)
        original(t, sound, physical)

    service.loop.on_frame = on_frame
    return times


def test_bad_input_on_every_path_is_counted_never_fatal(tmp_path, models):
    service, logs = make_service(tmp_path, models[0])
    t0 = service.t0
    service.handle_datagram(inputs(0.5, 0.5), t0 + 0.01)
    service.handle_datagram(inputs(0.1, 0.2, 0.3), t0 + 0.02)          # wrong width
    service.handle_datagram(inputs(float("nan"), 0.5), t0 + 0.03)      # NaN
    service.handle_datagram(inputs(float("inf"), 0.5), t0 + 0.03)
    service.handle_datagram(inputs(1e12, 0.5), t0 + 0.04)              # absurd
    service.handle_datagram(inputs(5.0, 0.5), t0 + 0.04)               # off the pointer plane
    service.handle_datagram(b"\x00garbage", t0 + 0.05)                 # not OSC
    service.handle_datagram(b"/" + b"a" * 70000, t0 + 0.05)            # huge
    service.handle_datagram(encode_message("/wek/inputs", "", ()), t0 + 0.06)
    service.handle_datagram(control("setInputNames", values=["a", 1]), t0 + 0.06)
    service.handle_datagram(encode_reply_like("/wek/inputs", ["x", "y"]), t0 + 0.07)
    service.handle_datagram(encode_message("/other", "f", [1.0]), t0 + 0.07)
    for _ in range(3):
        service.handle_datagram(control("noSuchThing"), t0 + 0.08)
    # a good packet after all of that still plays, also inside a bundle
    service.handle_datagram(encode_bundle(1, [inputs(0.6, 0.5), inputs(0.7, 0.5)]), t0 + 0.09)
    counts = service.counts
    assert counts["inputs"] == 3
    assert counts["wrong_width"] == 1 and counts["non_finite"] == 2 and counts["absurd"] == 2
    assert counts["not_osc"] == 1 and counts["too_large"] == 1 and counts["no_values"] == 1
    assert counts["wrong_types"] == 1 and counts["wrong_address"] == 1
    assert service.unknown == {"noSuchThing": 3} and service.unknown_total == 3
    assert sum("unknown control message" in line for line in logs) == 1   # logged once
    assert any("setInputsNames ignored" in line or "Names ignored" in line for line in logs)
    assert service.loop.sample_frames == 3
    text = summary(service)
    assert "3 inputs" in text and "unknown 3" in text
    service.close()


def encode_reply_like(address, args):
    from instrument.formats.osc_control import encode_reply

    return encode_reply(address, args)


def test_recording_takes_names_and_setting_examples_aside(tmp_path, models):
    from instrument.formats.recording import read_recording

    service, logs = make_service(tmp_path, models[0])
    t0 = service.t0
    service.handle_datagram(control("setInputNames", values=["x", "y"]), t0)
    service.handle_datagram(control("startRecording"), t0)
    for k in range(50):
        service.handle_datagram(inputs(0.25 + 0.01 * k, 0.5), t0 + 1.0 + k * PERIOD)
    service.handle_datagram(control("stopRecording"), t0 + 2.0)
    files = service.project.recordings()
    assert len(files) == 1 and files[0].endswith("take-0001.jsonl")
    rec = read_recording(files[0])
    assert len(rec.t) == 50 and rec.t[0] == 0.0
    np.testing.assert_allclose(np.diff(rec.t), PERIOD, atol=1e-6)
    np.testing.assert_allclose(rec.x, (0.25 + 0.01 * np.arange(50)) * 800, atol=1e-3)
    assert service.project.names()["inputs"] == ["x", "y"]
    # the next take gets the next name; deleteAllExamples moves both aside, deleting nothing
    service.handle_datagram(control("startRecording"), t0 + 3)
    service.handle_datagram(inputs(0.5, 0.5), t0 + 3.1)
    service.handle_datagram(control("stopRecording"), t0 + 3.2)
    assert [os.path.basename(p) for p in service.project.recordings()] == [
        "take-0001.jsonl", "take-0002.jsonl"]
    service.handle_datagram(control("deleteAllExamples"), t0 + 4)
    assert service.project.recordings() == []
    aside = os.path.join(service.project.root, "set-aside")
    (stamp,) = os.listdir(aside)
    assert sorted(os.listdir(os.path.join(aside, stamp))) == ["take-0001.jsonl",
                                                               "take-0002.jsonl"]
    # training with no examples says so (a reply and a log line), never fails the service
    service.handle_datagram(control("train"), t0 + 5)
    assert any("no examples to train on" in line for line in logs)
    service.close()


def test_sixteen_wide_inputs_record_a_stream(tmp_path):
    from instrument.formats.recording import read_recording

    service, logs = make_service(tmp_path)                 # no model: width from the first
    t0 = service.t0
    service.handle_datagram(control("startRecording"), t0)
    rng = np.random.default_rng(0)
    values = rng.uniform(-1, 1, size=(40, 16))
    for k, row in enumerate(values):
        service.handle_datagram(inputs(*row), t0 + 0.5 + k * PERIOD)
    service.handle_datagram(inputs(*values[0][:15]), t0 + 1.0)      # wrong width: counted
    service.handle_datagram(control("stopRecording"), t0 + 1.1)
    assert service.width == 16 and service.counts["wrong_width"] == 1
    rec = read_recording(service.project.recordings()[0])
    assert [ch.name for ch in rec.channels] == [f"in{i}" for i in range(1, 17)]
    np.testing.assert_allclose(rec.channel_values(), values.astype(np.float32), atol=1e-5)
    assert any("16 values wide" in line for line in logs)
    service.close()


def test_swap_between_two_frames_no_gap_in_gesture_time(tmp_path, models):
    """Samples every 10 ms from one thread, the model swapped back and forth from another:
    every sample makes a frame and consecutive frames are never more than 10 ms apart."""
    from instrument.runtime import Runtime

    service, _ = make_service(tmp_path, models[0])
    frames = capture_frames(service)
    runtimes = [Runtime.from_bundle(path) for path in models]
    n, swaps = 600, 30
    t0 = service.t0
    ready = threading.Event()

    def feed():
        for k in range(n):
            angle = k * 0.05
            service.handle_datagram(inputs(0.5 + 0.3 * np.cos(angle), 0.5 + 0.3 * np.sin(angle)),
                                    t0 + 1.0 + k * PERIOD)
            if k == 10:
                ready.set()

    feeder = threading.Thread(target=feed)
    feeder.start()
    ready.wait(5)
    for i in range(swaps):
        service._swap(runtimes[(i + 1) % 2], models[(i + 1) % 2])
    feeder.join(30)
    assert service.loop.sample_frames == n and len(frames) == n
    gaps = np.diff(frames)
    assert gaps.max() <= PERIOD + 1e-9
    done = [s for s in service.swaps if s["gap_s"] is not None]
    assert done and all(s["gap_s"] <= PERIOD + 1e-9 for s in done)
    service.close()


def test_restart_resumes_the_last_model_and_survives_a_broken_state(tmp_path, models):
    service, _ = make_service(tmp_path)
    assert service.loop is None
    service.project.set_current(models[1], {"trustworthiness": 0.9})
    service.close()
    again, logs = make_service(tmp_path)
    assert again.model_path == models[1] and again.running
    again.close()
    state = tmp_path / "project" / "current.json"
    state.write_text("{not json")
    broken, logs = make_service(tmp_path, models[0])
    assert broken.model_path == models[0]           # falls back to --model, says why
    assert any("cannot read" in line for line in logs)
    broken.close()
    state.write_text(json.dumps({"model": "models/gone"}))
    gone, logs = make_service(tmp_path)
    assert gone.loop is None and any("is gone" in line for line in logs)
    gone.close()


def test_running_stops_and_starts_outputs(tmp_path, models):
    service, _ = make_service(tmp_path, models[0])
    t0 = service.t0
    service.handle_datagram(inputs(0.5, 0.5), t0 + 0.1)
    service.handle_datagram(control("stopRunning"), t0 + 0.2)
    service.handle_datagram(inputs(0.6, 0.5), t0 + 0.3)
    service.handle_datagram(control("enableModelRunning", values=[1]), t0 + 0.4)  # old spelling
    service.handle_datagram(inputs(0.7, 0.5), t0 + 0.5)
    assert service.loop.sample_frames == 2 and service.controls["enableModelRunning"] == 1
    service.handle_datagram(control("disableModelRunning", values=[1]), t0 + 0.6)
    assert not service.running
    service.close()


def wait_for(predicate, timeout=120.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_training_failure_is_a_reply_and_cancel_leaves_nothing(tmp_path, models):
    """Real `instrument train` children: too few examples fail with train's own one-line
    reason (sent as /instrument/trainingFailed), and cancelTrain leaves no model behind."""
    import socket

    from instrument.formats.osc_control import parse_message

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.1)
    logs = []
    opts = ServeOptions(project=str(tmp_path / "project"), model=models[0],
                        osc=[("127.0.0.1", rx.getsockname()[1])], train_sounds=50,
                        train_epochs=1)
    service = Service(opts, logs.append, still_frames=False).open()
    t0 = service.t0
    service.handle_datagram(control("startRecording"), t0)
    for k in range(5):
        service.handle_datagram(inputs(0.3 + 0.01 * k, 0.5), t0 + 1 + k * PERIOD)
    service.handle_datagram(control("stopRecording"), t0 + 2)
    service.handle_datagram(control("train"), t0 + 2)
    assert wait_for(lambda: any("training failed" in line for line in logs))
    replies = []
    try:
        while True:
            replies.append(parse_message(rx.recv(65536)))
    except socket.timeout:
        pass
    failed = [args for address, args in replies if address == "/instrument/trainingFailed"]
    assert len(failed) == 1 and "training windows" in failed[0][0]
    assert service.model_path == models[0]                 # the old model plays on
    # cancel: the child is interrupted like Ctrl-C and writes nothing
    service.handle_datagram(control("train"), t0 + 3)
    assert service.trainer.busy
    service.handle_datagram(control("cancelTrain"), t0 + 3)
    assert wait_for(lambda: any("training cancelled" in line for line in logs), 30)
    assert os.listdir(service.project.models_dir) == []
    service.close()
    rx.close()


def test_serve_never_imports_torch(tmp_path, models):
    """The service is on the live path: training runs in a child, so torch stays out."""
    import subprocess
    import sys

    code = (
        "import sys, threading\n"
        "from instrument.live.serve import ServeOptions, run_service\n"
        "stop = threading.Event(); threading.Timer(0.5, stop.set).start()\n"
        f"run_service(ServeOptions(project={str(tmp_path / 'p')!r}, model={models[0]!r}, "
        "port=0, osc=[('127.0.0.1', 9)]), stop, lambda *a: None)\n"
        "print(sorted(m for m in ('torch', 'pygame', 'pyo') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_an_empty_take_is_not_kept(tmp_path, models):
    service, logs = make_service(tmp_path, models[0])
    service.handle_datagram(control("startRecording"), service.t0)
    service.handle_datagram(control("stopRecording"), service.t0 + 1)
    assert service.project.recordings() == [] and os.listdir(service.project.recordings_dir) == []
    assert any("nothing kept" in line for line in logs)
    service.close()
