"""The examples play our OSC: Pd runs headless in real time and its WAV follows the carrier.

SuperCollider: only scsynth is installed (no sclang), so instrument.scd gets static checks:
balanced brackets outside comments/strings, the OSC address and port, and the same parameter
ranges as instrument/params.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import wave

import numpy as np
import pytest

from instrument.output.osc import OscOut
from instrument.sound.params import PARAM_TABLE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
PD = shutil.which("pd") or shutil.which("puredata")


def param_ranges() -> dict[str, tuple[float, float]]:
    """(value at 0, value at 1) of every parameter, straight from the table."""
    n = len(PARAM_TABLE.names)
    low = PARAM_TABLE.to_physical(np.zeros(n))
    high = PARAM_TABLE.to_physical(np.ones(n))
    return {name: (float(lo), float(hi)) for name, lo, hi in zip(PARAM_TABLE.names, low, high)}


def udp_port_is_bound(port: int) -> bool:
    """True when some process listens on UDP ``port`` (read from /proc, never by binding)."""
    for name in ("/proc/net/udp", "/proc/net/udp6"):      # Pd listens on IPv6 when it can
        with open(name) as table:
            next(table)
            if any(line.split()[1].endswith(f":{port:04X}") for line in table):
                return True
    return False


def free_udp_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_pd_recorder(port: int, wav_path: str, seconds: float,
                      control_port: int | None = None) -> subprocess.Popen:
    """examples/instrument_record.pd headless: listens on ``port``, records ``seconds`` (or
    until :func:`stop_pd_recorder`), quits."""
    control = ["-send", f"record_control_port {control_port}"] if control_port else []
    proc = subprocess.Popen(
        [PD, "-nogui", "-nosound", "-nomidi", "-r", "44100", "-stderr",
         "-open", os.path.join(EXAMPLES, "instrument_record.pd"),
         "-send", f"instrument_port {port}", "-send", f"record_open {wav_path}",
         "-send", f"record_seconds {seconds}", *control],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    end = time.monotonic() + 10
    while not (udp_port_is_bound(port) and (control_port is None
                                            or udp_port_is_bound(control_port))):
        if proc.poll() is not None or time.monotonic() > end:
            proc.kill()
            raise AssertionError(f"Pd did not start listening: {proc.communicate()[0]}")
        time.sleep(0.02)
    return proc


def stop_pd_recorder(control_port: int) -> None:
    """Ask the recorder to close its WAV and quit now (FUDI "stop;" over UDP)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"stop;\n", ("127.0.0.1", control_port))


def read_wav(path: str) -> tuple[np.ndarray, int]:
    with wave.open(path) as wav:
        assert wav.getsampwidth() == 2
        frames = wav.readframes(wav.getnframes())
        return np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32768.0, wav.getframerate()


def pitch_track(audio: np.ndarray, rate: int, hop_s: float = 0.025, size: int = 2048):
    """(times, dominant frequency or 0 when silent) per frame, zero-padded FFT peak."""
    window = np.hanning(size)
    times, freqs = [], []
    for start in range(0, len(audio) - size, int(hop_s * rate)):
        frame = audio[start:start + size]
        times.append((start + size / 2) / rate)
        if np.sqrt(np.mean(frame ** 2)) < 0.01:
            freqs.append(0.0)
            continue
        spectrum = np.abs(np.fft.rfft(frame * window, 8 * size))
        freqs.append(np.argmax(spectrum) * rate / (8 * size))
    return np.array(times), np.array(freqs)


def segments(freqs: np.ndarray, targets: list[float], tolerance: float = 0.03) -> list[tuple[int, int]]:
    """Runs of frames whose pitch is within ``tolerance`` of a target: [(target index, length)]."""
    runs: list[list[int]] = []
    for f in freqs:
        match = [i for i, t in enumerate(targets) if abs(f - t) <= tolerance * t]
        label = match[0] if match else -1
        if runs and runs[-1][0] == label:
            runs[-1][1] += 1
        else:
            runs.append([label, 1])
    return [(label, n) for label, n in runs if label >= 0]


@pytest.mark.skipif(PD is None, reason="Pd (puredata-core) is not installed")
def test_pd_patch_plays_the_sent_carrier_in_real_time(tmp_path):
    carriers = [220.0, 440.0, 330.0, 660.0]
    hold_s, frame_s = 0.4, 0.01
    port = free_udp_port()
    wav_path = str(tmp_path / "pd.wav")
    proc = start_pd_recorder(port, wav_path, seconds=len(carriers) * hold_s + 1.0)
    names = PARAM_TABLE.names
    with OscOut([("127.0.0.1", port)], PARAM_TABLE) as out:
        start = time.monotonic()
        for k, carrier in enumerate(carriers):
            physical = PARAM_TABLE.to_physical(np.full(len(names), 0.5))
            physical[names.index("carrier_hz")] = carrier
            physical[names.index("index")] = 0.0          # a pure tone: pitch = carrier
            physical[names.index("amplitude")] = 0.5
            unit = PARAM_TABLE.to_unit(physical)
            for i in range(int(hold_s / frame_s)):
                out.send_frame(0, unit, physical)
                # on a wall-clock schedule, so a busy machine does not stretch the segments
                time.sleep(max(0.0, start + k * hold_s + (i + 1) * frame_s - time.monotonic()))
        assert out.error_count == 0
    log = proc.communicate(timeout=15)[0]
    assert proc.returncode == 0, log
    audio, rate = read_wav(wav_path)
    assert rate == 44100 and len(audio) > rate
    assert np.sqrt(np.mean(audio ** 2)) > 0.05, "the Pd patch recorded silence"
    _, freqs = pitch_track(audio, rate)
    runs = segments(freqs, carriers)
    assert [label for label, _ in runs] == [0, 1, 2, 3], (runs, log)
    held_frames = hold_s / 0.025
    for label, n in runs[:-1]:   # the last one is held until Pd stops recording
        assert 0.5 * held_frames <= n <= 1.5 * held_frames, runs


def test_pd_patch_maps_like_the_parameter_table():
    """The constants in instrument.pd are the table's ranges (log scale: lo * exp(u ln(hi/lo)))."""
    text = open(os.path.join(EXAMPLES, "instrument.pd")).read()
    ranges = param_ranges()
    for name in ("carrier_hz", "ratio"):
        lo, hi = ranges[name]
        assert f"* {np.log(hi / lo):.10f};" in text, name
        assert f"* {lo:g};" in text, name
    assert f"* {ranges['index'][1]:g};" in text
    assert ranges["amplitude"] == (0.0, 1.0)
    assert "netreceive -u -b 12000" in text and "route outputs" in text
    # every connection names objects that exist
    n_objects = len(re.findall(r"^#X (obj|msg|text) ", text, re.M))
    for a, _, b, _ in re.findall(r"^#X connect (\d+) (\d+) (\d+) (\d+);", text, re.M):
        assert int(a) < n_objects and int(b) < n_objects


def _strip_sc_comments_and_strings(code: str) -> str:
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)
    code = re.sub(r"//[^\n]*", "", code)
    code = re.sub(r'"(\\.|[^"\\])*"', '""', code)
    return re.sub(r"'(\\.|[^'\\])*'", "''", code)


def test_supercollider_file_is_balanced_and_matches_the_table():
    raw = open(os.path.join(EXAMPLES, "instrument.scd")).read()
    code = _strip_sc_comments_and_strings(raw)
    pairs = {")": "(", "]": "[", "}": "{"}
    stack = []
    for char in code:
        if char in "([{":
            stack.append(char)
        elif char in pairs:
            assert stack and stack.pop() == pairs[char], "unbalanced brackets in instrument.scd"
    assert not stack, "unclosed brackets in instrument.scd"
    assert "'/wek/outputs'" in raw and "~instrumentPort = 12000;" in raw
    assert "thisProcess.openUDPPort(~instrumentPort)" in raw
    ranges = param_ranges()
    assert f"~carrierLo = {ranges['carrier_hz'][0]:g}; ~carrierHi = {ranges['carrier_hz'][1]:g};" in raw
    assert f"~ratioLo = {ranges['ratio'][0]:g}; ~ratioHi = {ranges['ratio'][1]:g};" in raw
    assert f"~indexHi = {ranges['index'][1]:g};" in raw


@pytest.fixture(scope="module")
def pure_tone_model(tmp_path_factory):
    """A tiny trained instrument whose bank sounds are pure tones (index 0), loud enough:
    the pitch Pd plays is then the carrier perform sends."""
    from tiny_model import tiny_parts

    from instrument.formats.bundle import save_bundle

    config, arrays, _ = tiny_parts(seed=3)
    unit = arrays["sound_bank"]["params_unit"]
    names = PARAM_TABLE.names
    unit[:, names.index("index")] = 0.0
    unit[:, names.index("amplitude")] = 0.4 + 0.6 * unit[:, names.index("amplitude")]
    path = str(tmp_path_factory.mktemp("pd") / "model")
    save_bundle(path, config, arrays)
    return path, config, arrays


@pytest.mark.skipif(PD is None, reason="Pd (puredata-core) is not installed")
def test_pd_plays_a_replayed_recording_from_perform(pure_tone_model, run_cli, tmp_path):
    """perform --replay -> OSC -> Pd (headless, real time) -> WAV whose pitch is the carrier."""
    from instrument.config import GestureConfig, config_from_dict
    from instrument.formats.bundle import Bundle
    from instrument.formats.recording import write_recording
    from instrument.gesture import steps as gestures
    from instrument.gesture.synthetic import synthesize
    from instrument.runtime import Runtime

    path, config, arrays = pure_tone_model
    cfg = config_from_dict(GestureConfig, config["configs"]["gesture"])
    runtime = Runtime(Bundle("(test)", config, arrays))

    def stream(rec):
        times, windows = gestures.frames_from_recording(rec, cfg)
        sounds, params = runtime.play(windows)
        return times, sounds, params[:, PARAM_TABLE.names.index("carrier_hz")].astype(float)

    # The tiny model is barely trained: of a few synthetic gestures, play the one that makes
    # it change sound most often, so there is a carrier melody to follow.
    candidates = [synthesize(4.0, seed=seed, width=800, height=600) for seed in range(6)]
    rec = max(candidates, key=lambda r: np.count_nonzero(np.diff(stream(r)[1])))
    times, sounds, carriers = stream(rec)
    assert np.count_nonzero(np.diff(sounds)) >= 3
    assert 12 * np.log2(carriers.max() / carriers.min()) > 2.0
    rec_path = str(tmp_path / "gesture.jsonl")
    write_recording(rec_path, rec)

    port, control_port = free_udp_port(), free_udp_port()
    while control_port == port:
        control_port = free_udp_port()
    wav_path = str(tmp_path / "pd.wav")
    # At most 60 s; stopped as soon as perform is done (its start-up time varies with load).
    proc = start_pd_recorder(port, wav_path, seconds=60.0, control_port=control_port)
    try:
        result = run_cli("perform", "--model", path, "--replay", rec_path, "--headless",
                         "--audio", "none", "--osc", f"127.0.0.1:{port}", timeout=60)
        time.sleep(0.3)                          # the last sound, smoothed, then stop
    finally:
        stop_pd_recorder(control_port)
    log = proc.communicate(timeout=20)[0]
    assert result.code == 0, result.err
    assert proc.returncode == 0, log
    audio, rate = read_wav(wav_path)
    assert np.sqrt(np.mean(audio ** 2)) > 0.05, "the Pd patch recorded silence"
    frame_t, freqs = pitch_track(audio, rate, hop_s=0.02)
    voiced = freqs > 0
    assert voiced.sum() * 0.02 > 3.0, "less than 3 s of sound"
    # Align the WAV with the control stream (Pd started first), then compare in semitones.
    expected_at = lambda ts: carriers[np.clip(np.searchsorted(times, ts, "right") - 1, 0, None)]
    first_voiced = frame_t[voiced][0]
    best = None
    for shift in np.arange(-0.3, 0.3, 0.01):
        ts = frame_t[voiced] - first_voiced + times[0] + shift
        inside = (ts >= times[0]) & (ts <= times[-1])
        err = np.abs(12 * np.log2(freqs[voiced][inside] / expected_at(ts[inside])))
        share = float(np.mean(err < 0.5))
        if best is None or share > best[0]:
            best = (share, shift)
    assert best[0] > 0.75, f"only {best[0]:.0%} of the WAV is within a semitone of the carrier"
