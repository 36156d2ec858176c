"""capture.py and `instrument record`: a real window under Xvfb, driven by xdotool."""

from __future__ import annotations

import os
import random
import select
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, default_sigint, run_cli_process

from instrument.formats.recording import read_recording

HAVE_X = shutil.which("Xvfb") and shutil.which("xdotool")


def start_xvfb(number: int):
    """Xvfb on display ``number``; returns the process once it accepts clients, or None
    if that display is taken (Xvfb then exits without touching the other server)."""
    read_fd, write_fd = os.pipe()
    # -noreset: by default the server resets whenever its last client leaves, and a client
    # connecting during that reset is refused (SDL then says "x11 not available").
    proc = subprocess.Popen(["Xvfb", f":{number}", "-displayfd", str(write_fd), "-screen", "0",
                             "1024x768x24", "-nolisten", "tcp", "-noreset"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    ready = b""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if select.select([read_fd], [], [], 0.5)[0]:
            chunk = os.read(read_fd, 16)
            ready += chunk
            if not chunk or ready.endswith(b"\n"):
                break
    os.close(read_fd)
    if ready.strip() == str(number).encode():
        return proc
    proc.kill()
    proc.wait()
    return None


@pytest.fixture(scope="module")
def xvfb_env():
    """Start our own Xvfb on a free display number and yield an env that uses it.

    The number is explicit and random: Xvfb's own pick (-displayfd alone) races with other
    Xvfbs started at the same moment (several test runs on one machine) and can take over
    another server's socket.
    """
    if not HAVE_X:
        pytest.skip("Xvfb and xdotool are not installed (CI installs them)")
    rng = random.Random()
    proc = number = None
    for _ in range(20):
        number = rng.randrange(100, 30000)
        if os.path.exists(f"/tmp/.X11-unix/X{number}") or os.path.exists(f"/tmp/.X{number}-lock"):
            continue
        proc = start_xvfb(number)
        if proc is not None:
            break
    if proc is None:
        pytest.fail("could not start Xvfb on a free display")
    try:
        env = dict(os.environ)
        env.update(DISPLAY=f":{number}", SDL_VIDEODRIVER="x11", SDL_AUDIODRIVER="dummy")
        env.pop("WAYLAND_DISPLAY", None)
        yield env
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_record(env, out, *extra):
    return subprocess.Popen([sys.executable, "-m", "instrument", "record", "--out", str(out),
                             "--width", "400", "--height", "300", *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=default_sigint)


def find_window(env, proc, timeout=30.0) -> str:
    pid = proc.pid
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"instrument record exited ({proc.returncode}): {proc.stderr.read()}")
        found = subprocess.run(["xdotool", "search", "--pid", str(pid)], env=env,
                               capture_output=True, text=True).stdout.split()
        # By title too: SDL opens and closes a helper window of the same process first.
        # (xdotool's --name does not see SDL's UTF-8 title; getwindowname does.)
        for wid in found:
            name = subprocess.run(["xdotool", "getwindowname", wid], env=env,
                                  capture_output=True, text=True).stdout
            if "instrument record" in name:
                return wid
        time.sleep(0.05)
    names = subprocess.run(["xdotool", "search", "--name", "."], env=env, capture_output=True,
                           text=True).stdout.split()
    pytest.fail(f"the record window did not appear (windows {names}, pid {pid})")


def wait_until_recording(env, wid, out, timeout=30.0) -> None:
    """Nudge the pointer until a move shows up in the file: the window takes events."""
    deadline = time.monotonic() + timeout
    attempt = 0
    while time.monotonic() < deadline:
        probe = (5 + attempt % 2, 5)
        subprocess.run(["xdotool", "mousemove", "--window", wid, *map(str, probe)], env=env,
                       capture_output=True, timeout=30)
        try:
            wait_for_point(out, probe, timeout=0.5)
            return
        except pytest.fail.Exception:
            attempt += 1
    pytest.fail("the record window never recorded a pointer move")


def xdotool(env, *args):
    subprocess.run(["xdotool", *args], env=env, check=True, timeout=30)


def wait_for_point(path, point, timeout=20.0) -> None:
    """Wait until the recording being written (``PATH.part`` until it stops) holds ``point``
    (every line is flushed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            rec = read_recording(f"{path}.part")
            if tuple(map(float, point)) in zip(rec.x.tolist(), rec.y.tolist()):
                return
        except Exception:  # noqa: BLE001 - the file may not be readable yet
            pass                     # not created yet
        time.sleep(0.05)
    pytest.fail(f"{point} never reached {path}")


def finish(proc, timeout=30):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


@pytest.mark.slow
def test_record_follows_the_pointer_and_stops_on_esc(xvfb_env, tmp_path):
    out = tmp_path / "xvfb.jsonl"
    proc = start_record(xvfb_env, out, "--seconds", "60")
    try:
        wid = find_window(xvfb_env, proc)
        wait_until_recording(xvfb_env, wid, out)
        path = [(50, 50), (120, 50), (190, 60), (190, 130), (120, 200), (60, 140), (55, 90)]
        chain = []
        for i, (x, y) in enumerate(path):
            if i == 3:
                chain += ["mousedown", "1"]
            if i == 5:
                chain += ["mouseup", "1"]
            chain += ["mousemove", "--window", wid, str(x), str(y), "sleep", "0.05"]
        xdotool(xvfb_env, *chain)
        wait_for_point(out, path[-1])
        xdotool(xvfb_env, "windowfocus", "--sync", wid)
        xdotool(xvfb_env, "key", "Escape")
        code, stdout, stderr = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, stderr
    assert "stopped: Esc" in stdout and len(stdout.strip().splitlines()) == 1
    rec = read_recording(out)
    assert rec.header["source"] == "mouse" and (rec.width, rec.height) == (400, 300)
    got = list(zip(rec.x.tolist(), rec.y.tolist()))
    # Every commanded position is recorded, in order (clicks may add repeats of a position).
    hits = [got.index((float(x), float(y))) for x, y in path]
    assert hits == sorted(hits)
    times = rec.t[hits]
    assert np.all(np.diff(times) > 0.02) and np.all(np.diff(times) < 0.5)
    assert rec.buttons is not None
    held = [rec.buttons[h] for h in hits]
    assert held[3] & 1 and held[4] & 1 and not held[0] & 1 and not held[6] & 1


@pytest.mark.slow
def test_record_stops_after_seconds_on_ctrl_c_and_sigterm(xvfb_env, tmp_path):
    out = tmp_path / "timed.jsonl"
    start = time.monotonic()
    proc = start_record(xvfb_env, out, "--seconds", "1.0", "--quiet")
    code, stdout, stderr = finish(proc)
    assert code == 0 and stdout == "", stderr
    assert time.monotonic() - start < 60
    assert read_recording(out).header["width"] == 400

    for sig, why in ((signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "terminated")):
        out = tmp_path / f"{why}.jsonl"
        proc = start_record(xvfb_env, out)
        try:
            wid = find_window(xvfb_env, proc)
            wait_until_recording(xvfb_env, wid, out)
            xdotool(xvfb_env, "mousemove", "--window", wid, "30", "40", "sleep", "0.05",
                    "mousemove", "--window", wid, "35", "45")
            wait_for_point(out, (35, 45))
            proc.send_signal(sig)
            code, stdout, stderr = finish(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert code == 0 and f"stopped: {why}" in stdout, stderr
        rec = read_recording(out)
        assert (30.0, 40.0) in zip(rec.x.tolist(), rec.y.tolist()) and not rec.truncated


@pytest.mark.slow
def test_kill_9_of_instrument_record_leaves_a_readable_file(xvfb_env, tmp_path):
    out = tmp_path / "killed.jsonl"
    proc = start_record(xvfb_env, out)
    try:
        wid = find_window(xvfb_env, proc)
        wait_until_recording(xvfb_env, wid, out)
        moves = []
        for i in range(20):
            moves += ["mousemove", "--window", wid, str(20 + 5 * i), "100", "sleep", "0.01"]
        xdotool(xvfb_env, *moves, "mousemove", "--window", wid, "250", "250")
        wait_for_point(out, (250, 250))     # read while it records: lines are flushed
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not out.exists()                 # never a half-written file under the real name
    rec = read_recording(f"{out}.part")     # what was recorded is kept where record said
    got = list(zip(rec.x.tolist(), rec.y.tolist()))
    assert got[-1] == (250.0, 250.0) and (115.0, 100.0) in got


def test_record_without_a_display_is_one_line_exit_2(tmp_path):
    out = tmp_path / "none.jsonl"
    result = run_cli_process("record", "--out", str(out), "--seconds", "1",
                             env={"SDL_VIDEODRIVER": "dummy"})
    assert result.code == 2 and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1 and "display" in result.err
    assert not out.exists()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    proc = subprocess.run([sys.executable, "-m", "instrument", "record", "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "DISPLAY" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not out.exists()


def test_record_refuses_to_overwrite(tmp_path):
    out = tmp_path / "exists.jsonl"
    out.write_text("precious")
    result = run_cli_process("record", "--out", str(out), env={"SDL_VIDEODRIVER": "dummy"})
    assert result.code == 2 and "already exists" in result.err
    assert out.read_text() == "precious"


def test_pointer_window_polls_and_draws_on_the_dummy_driver(tmp_path):
    pygame = pytest.importorskip("pygame")
    from instrument.errors import DisplayError
    from instrument.gesture.capture import PointerWindow

    with pytest.raises(DisplayError):
        PointerWindow().open()               # SDL_VIDEODRIVER=dummy is no real display
    with PointerWindow(320, 240, allow_dummy=True) as win:
        assert win.size == (320, 240)
        for x, y in ((10, 20), (40, 60), (90, 120)):
            pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(x, y), rel=(0, 0),
                                                 buttons=(1, 0, 0), touch=False))
        pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(5, 5), rel=(0, 0),
                                             buttons=(0, 0, 0), touch=True))
        pygame.event.post(pygame.event.Event(pygame.FINGERMOTION, touch_id=1, finger_id=1,
                                             x=0.5, y=0.25, dx=0.0, dy=0.0, pressure=0.6))
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0,
                                             unicode="", scancode=41))
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        got = win.poll()
        assert [(s.x, s.y, s.buttons) for s in got.samples] == [
            (10, 20, 1), (40, 60, 1), (90, 120, 1), (160, 60, 1)]
        assert got.samples[-1].pressure == pytest.approx(0.6)
        assert got.samples[0].pressure is None
        times = [s.t for s in got.samples]
        assert times == sorted(times) and len(set(times)) == 4 and times[-1] <= win.now()
        assert got.keys == ["escape"] and got.quit
        scatter = np.random.default_rng(0).random((3000, 2))
        win.draw(["hello", "second line"], scatter=scatter, highlight=7, meter=(3.0, 10.0, "3 ms"))
        win.draw(["again"], scatter=scatter, highlight=8, meter=(30.0, 10.0, "30 ms"))
        shot = tmp_path / "view.png"
        win.screenshot(str(shot))
        image = pygame.image.load(str(shot))
        assert image.get_size() == (320, 240)
        # The highlight ring is drawn in the map's corner.
        side = max(60, 240 // 3) - 1
        left, top = 320 - side - 11, 240 - side - 11
        px, py = scatter[8]
        centre = (left + int(px * side), top + int((1 - py) * side))
        ring = [image.get_at((centre[0] + dx, centre[1] + dy))[:3]
                for dx in range(-5, 6) for dy in range(-5, 6)]
        assert (255, 170, 40) in ring
        assert win.poll().samples == []
