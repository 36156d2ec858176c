"""perform: the live loop equals the offline frames, survives garbage, never dies on OSC."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import threading
import time

import numpy as np
import pytest
from conftest import default_sigint, free_port
from pythonosc.osc_message import OscMessage
from tiny_model import tiny_parts

from instrument.config import GestureConfig, config_from_dict
from instrument.formats import osc
from instrument.formats.bundle import Bundle, save_bundle
from instrument.formats.recording import Recording, make_header, write_recording
from instrument.gesture import tracker as gestures
from instrument.gesture.steps import frames_from_recording
from instrument.live import loop as perform
from instrument.live.summary import summary
from instrument.live.view import LiveView
from instrument.output.osc import OscOut
from instrument.runtime import Runtime


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """(bundle path, config, arrays) of a tiny trained instrument."""
    config, arrays, _ = tiny_parts(seed=3)
    path = str(tmp_path_factory.mktemp("perform") / "model")
    save_bundle(path, config, arrays)
    return path, config, arrays


def make_recording(seconds: float, seed: int = 0, width=800, height=600) -> Recording:
    """Strokes with pauses (so there are still frames), like a mouse: events only on moves."""
    rng = np.random.default_rng(seed)
    n = int(seconds / 0.012)
    dt = rng.uniform(0.004, 0.02, n)
    dt[rng.uniform(size=n) < 0.02] += rng.uniform(0.05, 0.5)     # pauses
    t = np.cumsum(dt)
    t = t[t <= seconds]
    x = width / 2 + width / 3 * np.cos(t * 2.1) * np.sin(t * 0.3)
    y = height / 2 + height / 3 * np.sin(t * 1.7)
    return Recording(make_header(width, height), width, height, t, x, y)


def offline_stream(config, arrays, rec):
    """What render computes: every frame of the file through a fresh runtime."""
    runtime = Runtime(Bundle("(test)", config, arrays))
    cfg = config_from_dict(GestureConfig, config["configs"]["gesture"])
    times, windows = frames_from_recording(rec, cfg)
    sounds, params = runtime.play(windows)
    return times, sounds, params


def make_loop(config, arrays, rec, **kwargs):
    runtime = Runtime(Bundle("(test)", config, arrays))
    cfg = config_from_dict(GestureConfig, config["configs"]["gesture"])
    return perform.ControlLoop(runtime, gestures.GestureTracker(cfg, rec.width, rec.height),
                               **kwargs)


def test_replay_gives_exactly_the_offline_frames(model):
    _, config, arrays = model
    rec = make_recording(6.0, seed=1)
    rows = []
    loop = make_loop(config, arrays, rec, on_frame=lambda t, s, p: rows.append((t, s, p.copy())))
    perform.replay_recording(loop, rec, realtime=False)
    times, sounds, params = offline_stream(config, arrays, rec)
    assert loop.still_frames > 0 and loop.sample_frames == len(rec.t)
    assert len(rows) == len(times) == loop.frames
    np.testing.assert_array_equal([r[0] for r in rows], times)
    np.testing.assert_array_equal([r[1] for r in rows], sounds)
    np.testing.assert_array_equal(np.array([r[2] for r in rows]), params)


def test_bad_pointer_values_are_ignored_and_counted(model):
    _, config, arrays = model
    rec = make_recording(1.0)
    loop = make_loop(config, arrays, rec)
    assert loop.sample(0.0, 100.0, 100.0)
    bad = [(0.01, np.nan, 1.0), (0.02, 1.0, np.inf), (0.03, -np.inf, 0.0), (np.nan, 1.0, 1.0),
           (0.04, 1e12, 5.0), (0.0, 120.0, 100.0), (-5.0, 1.0, 1.0)]
    for t, x, y in bad:
        assert not loop.sample(t, x, y)
    assert loop.tracker.rejected == len(bad)
    assert loop.frames == 1
    assert loop.sample(0.05, 110.0, 100.0) and loop.frames == 2
    assert np.all(np.isfinite(loop.params))
    assert f"{len(bad)} bad pointer samples ignored" in summary(loop)


def test_mute_sends_zero_amplitude_and_hold_keeps_the_sound(model):
    _, config, arrays = model
    rec = make_recording(3.0, seed=2)
    got = []
    loop = make_loop(config, arrays, rec, on_frame=lambda t, s, p: got.append((s, p.copy())))
    amp = loop.table.names.index("amplitude")
    xs = np.linspace(100, 700, 40)
    for i, x in enumerate(xs[:10]):
        loop.sample(i * 0.01, x, 300.0)
    loop.set_muted(True)
    loop.sample(0.10, xs[10], 300.0)
    assert got[-1][1][amp] == 0.0 and got[-2][1][amp] > 0.0
    loop.set_muted(False)
    loop.set_held(True)
    held, before = loop.sound, loop.params.copy()
    for i, x in enumerate(xs[11:], start=11):
        loop.sample(i * 0.01, 700 - x, 50 + 10 * i)
    assert all(s == held for s, _ in got[-29:])
    np.testing.assert_array_equal(got[-1][1], before)  # the sound as it was (also a blend)


def _collect(sock: socket.socket, out: list, stop: threading.Event):
    sock.settimeout(0.05)
    while not stop.is_set():
        try:
            out.append(sock.recv(4096))
        except socket.timeout:
            continue


def test_cli_replay_sends_exactly_what_render_writes(model, run_cli, tmp_path):
    """Realtime == offline: `perform --replay` (real pace, OSC out) sends the rows of
    `instrument render --controls` for the same file, and writes the same CSV bytes."""
    from instrument.formats.controls import read_controls_csv
    from instrument.sound.params import PARAM_TABLE

    path, config, arrays = model
    rec = make_recording(2.0, seed=4)
    rec_path = str(tmp_path / "g.jsonl")
    write_recording(rec_path, rec)
    rendered = run_cli("render", "--model", path, "--gestures", rec_path, "--out",
                       str(tmp_path / "r.wav"), "--controls", str(tmp_path / "render.csv"))
    assert rendered.code == 0, rendered.err
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    receiver.bind(("127.0.0.1", 0))
    packets, stop = [], threading.Event()
    thread = threading.Thread(target=_collect, args=(receiver, packets, stop))
    thread.start()
    try:
        result = run_cli("perform", "--model", path, "--replay", rec_path, "--headless",
                         "--audio", "none", "--osc", f"127.0.0.1:{receiver.getsockname()[1]}",
                         "--controls", str(tmp_path / "perform.csv"), "--latency-report",
                         timeout=60)
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
        receiver.close()
    assert result.code == 0, result.err
    assert "Performance:" in result.out and "p99" in result.out
    with open(tmp_path / "render.csv", "rb") as a, open(tmp_path / "perform.csv", "rb") as b:
        assert a.read() == b.read()
    names, times, want_sounds, want_params = read_controls_csv(tmp_path / "render.csv")
    assert names == list(PARAM_TABLE.names) and len(times) > len(rec.t)   # still frames too
    messages = [OscMessage(p) for p in packets]
    params = [m.params for m in messages if m.address == "/instrument/params"]
    sounds = [m.params[0] for m in messages if m.address == "/instrument/sound"]
    outputs = [m.params for m in messages if m.address == "/wek/outputs"]
    assert len(params) == len(sounds) == len(outputs) == len(times)
    np.testing.assert_array_equal(sounds, want_sounds)
    np.testing.assert_array_equal(np.array(params, np.float32), want_params.astype(np.float32))
    np.testing.assert_allclose(outputs, PARAM_TABLE.to_unit(want_params), atol=1e-6)


def test_missing_osc_receiver_is_counted_not_fatal(model, run_cli, tmp_path):
    path, _, _ = model
    rec_path = str(tmp_path / "g.jsonl")
    write_recording(rec_path, make_recording(0.5, seed=5))
    dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()
    result = run_cli("perform", "--model", path, "--replay", rec_path, "--headless",
                     "--audio", "none", "--osc", f"127.0.0.1:{port}", "--fast", timeout=60)
    assert result.code == 0, result.err
    assert "refused: no program listening there" in result.out


def test_live_osc_input_answers_and_counts_garbage(model, run_cli):
    """perform --headless listens on OSC: every /wek/inputs gives a /wek/outputs at once."""
    import subprocess
    import sys

    path, _, _ = model
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5.0)
    in_port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "instrument", "perform", "--model", path, "--headless",
         "--audio", "none", "--osc-in", str(in_port), "--seconds", "30",
         "--osc", f"127.0.0.1:{receiver.getsockname()[1]}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        assert "Listening" in proc.stdout.readline()
        garbage = [b"junk", osc.encode_message("/wek/inputs", "f", [0.5]),
                   osc.encode_message("/wek/inputs", "ff", [float("nan"), 0.5]),
                   osc.encode_message("/wek/inputs", "ff", [1e9, 0.5])]
        for dgram in garbage:
            client.sendto(dgram, ("127.0.0.1", in_port))
        client.sendto(osc.encode_message("/wek/inputs", "ff", [0.5, 0.5]), ("127.0.0.1", in_port))
        first = OscMessage(receiver.recv(4096))
        assert first.address == "/wek/outputs"
        assert all(0.0 <= v <= 1.0 for v in first.params)
    finally:
        client.close()
        receiver.close()
        proc.send_signal(signal.SIGINT)          # Ctrl-C: a clean stop with the summary
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "4 bad pointer samples ignored" in out
    assert "1 good packets, rejected: 1 not osc, 1 wrong arity, 1 non finite, 1 absurd" in out


def test_bad_arguments_are_one_line(model, run_cli, tmp_path):
    path, _, _ = model
    result = run_cli("perform", "--model", str(tmp_path / "nope"), "--headless",
                     "--audio", "none", "--seconds", "0.1")
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    result = run_cli("perform", "--model", path, "--headless", "--audio", "none", "--fast")
    assert result.code == 2 and "--replay" in result.err
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("0.0.0.0", 0))
        port = taken.getsockname()[1]
        result = run_cli("perform", "--model", path, "--headless", "--audio", "none",
                         "--osc-in", str(port), "--seconds", "1")
    assert result.code == 2 and result.out == "" and len(result.err.strip().splitlines()) == 1
    assert f"port {port} is already in use" in result.err


def _rss_bytes() -> int:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.slow
def test_soak_long_replay_as_fast_as_possible_keeps_memory_flat(model):
    """Five minutes of gesture replayed flat out, OSC out on: memory does not grow.

    INSTRUMENT_SOAK_SECONDS=3600 makes it an hour of gesture (a few minutes of wall time)."""
    _, config, arrays = model
    rec = make_recording(float(os.environ.get("INSTRUMENT_SOAK_SECONDS", "300")), seed=6)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    out = OscOut([("127.0.0.1", sink.getsockname()[1])], Runtime(
        Bundle("(test)", config, arrays)).table)
    loop = make_loop(config, arrays, rec, osc_out=out)
    n = len(rec.t)
    cuts = [0, n // 5, 3 * n // 5, n]            # warm-up, then two equal halves
    rss = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        part = Recording(rec.header, rec.width, rec.height, rec.t[a:b], rec.x[a:b], rec.y[a:b])
        perform.replay_recording(loop, part, realtime=False)
        rss.append(_rss_bytes())
    out.close()
    sink.close()
    assert loop.frames > 30_000 and out.frames == loop.frames
    assert loop.latency.count == n
    # flat: the second half grows no more than a little allocator noise
    assert rss[2] - rss[1] < 1024 * 1024, rss


def test_window_plays_the_mouse_and_obeys_the_keys(model):
    """The live view on SDL's dummy driver: mouse events become frames, keys act."""
    import pygame

    path, config, arrays = model
    runtime = Runtime(Bundle("(test)", config, arrays))
    view = LiveView(runtime, fps=30, allow_dummy=True)
    try:
        cfg = config_from_dict(GestureConfig, config["configs"]["gesture"])
        loop = perform.ControlLoop(runtime, gestures.GestureTracker(cfg, *view.size))
        stop = threading.Event()
        for i in range(20):
            pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(100 + 10 * i, 200),
                                                 rel=(10, 0), buttons=(0, 0, 0), touch=False))
        for key in (pygame.K_SPACE, pygame.K_h):
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0,
                                                 unicode="", scancode=0))
        view.run(loop, stop, time.perf_counter() + 0.3)
        assert loop.sample_frames == 20 and loop.latency.count == 20
        assert loop.muted and loop.held
        assert any("Esc quit" in line for line in view.lines(loop))
        assert view.lines(loop)[0].startswith("MUTED  HOLD  sound ")
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0,
                                             unicode="", scancode=0))
        view.run(loop, stop, time.perf_counter() + 60.0)   # the deadline only guards a hang
        assert stop.is_set()                                # Esc ended it, not the deadline
    finally:
        view.close()


def test_no_display_is_one_line(model, run_cli):
    path, _, _ = model
    result = run_cli("perform", "--model", path, "--audio", "none", "--seconds", "1",
                     env={"SDL_VIDEODRIVER": "dummy"})
    assert result.code == 2, result.err
    assert len(result.err.strip().splitlines()) == 1 and "display" in result.err
    assert "--headless" in result.err  # perform says how to play without a window


def test_no_audio_device_is_one_line_exit_2(model, run_cli, tmp_path):
    """No sound card here: pyo and sounddevice both say so in one line, no segfault."""
    path, _, _ = model
    rec_path = str(tmp_path / "g.jsonl")
    write_recording(rec_path, make_recording(0.3))
    for audio in ("pyo", "sounddevice"):
        result = run_cli("perform", "--model", path, "--replay", rec_path, "--headless",
                         "--audio", audio, "--no-osc", timeout=60)
        assert result.code == 2, (audio, result.err)
        assert len(result.err.strip().splitlines()) == 1 and "audio" in result.err, result.err
        assert "--audio none" in result.err
    # the jack backend without a JACK server: said in one line too, pyo never boots
    result = run_cli("perform", "--model", path, "--replay", rec_path, "--headless",
                     "--audio", "pyo", "--audio-backend", "jack", "--no-osc", timeout=60,
                     env={"JACK_DEFAULT_SERVER": "instrument-no-such-server"})
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err
    assert "JACK" in result.err


def _free_display() -> int:
    for number in range(90, 190):
        if not os.path.exists(f"/tmp/.X11-unix/X{number}") and \
                not os.path.exists(f"/tmp/.X{number}-lock"):
            return number
    raise AssertionError("no free X display number")


@pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xdotool")),
                    reason="Xvfb and xdotool are not installed")
def test_real_window_under_xvfb_mouse_and_keys(model, tmp_path):
    """End to end on a real X server: xdotool moves the mouse in the perform window and
    presses Space (mute: OSC amplitude 0) and Esc (quit, with the summary)."""
    import subprocess
    import sys

    path, _, _ = model
    display = f":{_free_display()}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    receiver.bind(("127.0.0.1", 0))
    packets, stop = [], threading.Event()
    collector = threading.Thread(target=_collect, args=(receiver, packets, stop))
    collector.start()
    env = dict(os.environ, DISPLAY=display, SDL_VIDEODRIVER="x11")
    proc = None
    try:
        xdo = lambda *a: subprocess.run(["xdotool", *a], env=env, capture_output=True,
                                        text=True, timeout=10)
        deadline = time.monotonic() + 10
        while xdo("getmouselocation").returncode != 0:
            assert time.monotonic() < deadline, "Xvfb did not start"
            time.sleep(0.05)
        proc = subprocess.Popen(
            [sys.executable, "-m", "instrument", "perform", "--model", path, "--audio", "none",
             "--osc", f"127.0.0.1:{receiver.getsockname()[1]}", "--seconds", "30"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        window = ""
        while not window:
            assert time.monotonic() < deadline + 20 and proc.poll() is None, proc.stderr.read()
            # by pid: this xdotool does not match SDL's UTF-8 window title by --name
            window = xdo("search", "--pid", str(proc.pid)).stdout.split()
            time.sleep(0.1)
        wid = window[0]
        xdo("windowfocus", "--sync", wid)
        for i in range(40):
            xdo("mousemove", "--window", wid, str(100 + 12 * i), str(200 + 5 * (i % 7)))
        time.sleep(0.3)
        moving = len(packets)
        xdo("key", "--window", wid, "space")
        time.sleep(0.3)
        for i in range(10):
            xdo("mousemove", "--window", wid, str(600 - 20 * i), "300")
        time.sleep(0.3)
        xdo("key", "--window", wid, "Escape")
        out, err = proc.communicate(timeout=20)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        stop.set()
        collector.join()
        receiver.close()
        xvfb.terminate()
        xvfb.wait(timeout=10)
    assert proc.returncode == 0, err
    assert moving > 0 and "Performance:" in out and " in 30.0 s" not in out   # Esc, not timeout
    outputs = [OscMessage(p).params for p in packets if p.startswith(b"/wek/outputs\0")]
    amp = list(perform_table_names()).index("amplitude")
    assert outputs[0][amp] > 0.0 or any(o[amp] > 0 for o in outputs[:10])
    assert outputs[-1][amp] == 0.0                                  # muted by Space


def perform_table_names():
    from instrument.sound.params import PARAM_TABLE

    return PARAM_TABLE.names


def test_still_clock_keeps_the_gesture_rate_also_while_held(model):
    """Live still frames come at rate_hz while the pointer rests, held or not, and a late
    wake-up takes one frame and counts the stale ones as dropped. Driven by a fake clock, so
    the counts are exact on any machine under any load."""
    _, config, arrays = model
    rec = make_recording(1.0)
    loop = make_loop(config, arrays, rec)
    rate = loop.tracker.cfg.rate_hz
    now = [100.0]
    clock = perform.StillClock(loop, 100.0, 1.0 / rate, clock=lambda: now[0])
    assert clock.tick() == clock.IDLE_S and loop.still_frames == 0   # nothing to hold yet
    loop.sample(0.0, 100.0, 100.0)
    loop.sample(1e-3, 120.0, 110.0)
    loop.set_held(True)
    while now[0] < 100.5:                # 0.5 s, waking at most every 1 ms as the thread may
        wait = clock.tick()
        if wait > 0:                     # a wake-up comes a little after the time asked for
            now[0] += min(wait, 1e-3) + 1e-9
    assert loop.still_frames == 49 and loop.dropped_still == 0     # at 0.011, 0.021, .. 0.491
    assert loop.held and loop.frames == 51
    now[0] += 0.1                        # the thread woke 0.1 s late
    assert clock.tick() == 0.0
    assert loop.still_frames == 50 and loop.dropped_still == 9
    assert 0 < clock.tick() <= 1.0 / rate
    assert loop.still_lateness.count == loop.still_frames


def test_still_clock_thread_starts_and_stops(model):
    _, config, arrays = model
    loop = make_loop(config, arrays, make_recording(1.0))
    clock = perform.StillClock(loop, time.perf_counter(), 0.01).start()
    clock.stop()
    assert not clock._thread.is_alive()


def test_perform_never_imports_torch(model, tmp_path):
    """The live path runs on the numpy runtime only."""
    import subprocess
    import sys

    path, _, _ = model
    rec_path = str(tmp_path / "g.jsonl")
    write_recording(rec_path, make_recording(0.5, seed=7))
    code = ("import sys\nfrom instrument.cli import main\n"
            f"code = main(['perform', '--model', {path!r}, '--replay', {rec_path!r}, "
            "'--headless', '--audio', 'none', '--no-osc', '--fast'])\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', code)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("NO-TORCH 0"), proc.stdout


@pytest.mark.slow
def test_replay_plays_through_real_voices_on_jack(model, run_cli, tmp_path):
    """The audio sinks in a real stream: pyo's jack backend and the sounddevice voice, on a
    private jackd dummy server (no sound card needed)."""
    from _jack import jack_server

    path, _, _ = model
    rec_path = str(tmp_path / "g.jsonl")
    write_recording(rec_path, make_recording(1.0, seed=8))
    with jack_server(rate=44100, period=128):
        for audio in (["--audio", "pyo", "--audio-backend", "jack"], ["--audio", "sounddevice"]):
            result = run_cli("perform", "--model", path, "--replay", rec_path, "--headless",
                             "--no-osc", "--buffer", "128", "--latency-report", *audio,
                             timeout=90)
            assert result.code == 0, (audio, result.err)
            assert "Performance:" in result.out and "audio adds one block of 2.90 ms" in result.out
        # constant latency: every change is scheduled for its own sample, 20 ms after input
        result = run_cli("perform", "--model", path, "--replay", rec_path, "--headless",
                         "--no-osc", "--buffer", "128", "--audio", "sounddevice",
                         "--fixed-latency", "20", timeout=90)
        assert result.code == 0, result.err
        assert "Fixed latency 20.0 ms" in result.out and "at least" not in result.out
        late = int(result.out.split("fixed latency 20.0 ms, ")[1].split(" changes late")[0])
        frames = int(result.out.split("Performance: ")[1].split(" control frames")[0])
        assert late <= 0.05 * frames, result.out
    result = run_cli("perform", "--model", path, "--replay", rec_path, "--headless",
                     "--no-osc", "--audio", "pyo", "--fixed-latency", "20")
    assert result.code == 2 and "--audio sounddevice" in result.err


@pytest.mark.slow
def test_latency_benchmark_runs_and_reports_every_row(model):
    """benchmarks/latency.py end to end, small: the table's rows exist (no timing asserted)."""
    import json
    import subprocess
    import sys

    path, _, _ = model
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.run([sys.executable, os.path.join(root, "benchmarks", "latency.py"),
                           "--model", path, "--inputs", "60", "--seconds", "0.5",
                           "--buffers", "128", "--fixed-buffers", "128", "--json"],
                          capture_output=True, text=True,
                          timeout=180, cwd=root)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["osc"]["round_trip"]["n"] >= 50 and result["osc"]["inside_perform"]["n"] == 60
    (audio,) = result["audio"]
    if "error" in audio:
        pytest.skip(audio["error"])
    assert audio["period"] == 128 and audio["playback_latency_frames"] > 0
    assert audio["to_audio"]["n"] > 20 and audio["to_audio"]["p50"] > audio["to_block"]["p50"]
    (fixed,) = result["fixed"]
    assert fixed["period"] == 128 and fixed["to_audio"]["n"] > 20
    assert fixed["delay_ms"] > 128 / 44.1 and 0 <= fixed["late"] <= fixed["changes"]
    # serve's rows (benchmarks/latency_serve.py): ~3/4 of this test's time, so checked too
    serve = result["serve"]
    assert serve["osc16"]["round_trip"]["n"] >= 50
    assert "error" in serve["midi16"] or serve["midi16"]["round_trip"]["n"] > 0
    assert serve["train"].get("seconds", 0) > 0, serve["train"]
