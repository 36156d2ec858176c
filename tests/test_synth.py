"""Voices: device checks, the pyo voice (offline and manual servers only), the sounddevice
voice on a private jackd dummy server and through its callback, offline control renders,
and `instrument synth`."""

from __future__ import annotations

import os
import threading
import time
import tracemalloc
import wave
from types import SimpleNamespace

import numpy as np
import pytest

from instrument.errors import AudioDeviceError, BadInput
from instrument.fm import render_fm
from instrument.smoothed_fm import PORT_OFFSET_S, SmoothedFM
from instrument.params import PARAM_TABLE
from instrument.synth import (PyoVoice, SoundDeviceVoice, check_output_device, read_wav,
                              render_controls, write_wav)

RATE = 44100
NO_SOUND_CARD = not os.path.exists("/proc/asound/cards") or \
    "no soundcards" in open("/proc/asound/cards").read()


@pytest.fixture
def no_jack(monkeypatch):
    """Point JACK clients at a server name nobody runs, and forbid starting one."""
    monkeypatch.setenv("JACK_DEFAULT_SERVER", f"instrument-none-{os.getpid()}")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")


# --- device checks: never crash without sound ---------------------------------------------------

@pytest.mark.skipif(not NO_SOUND_CARD, reason="this machine has a sound card")
@pytest.mark.parametrize("library", ["pyo", "sounddevice"])
def test_no_output_device_is_a_one_line_audio_error(no_jack, library):
    with pytest.raises(AudioDeviceError, match="no audio output device") as err:
        check_output_device(library)
    assert "\n" not in str(err.value)


@pytest.mark.skipif(not NO_SOUND_CARD, reason="this machine has a sound card")
def test_pyo_portaudio_without_device_raises_instead_of_segfaulting(no_jack):
    # pyo segfaults when it boots portaudio with no device; reaching the assert proves the
    # check ran first (a crash would take the whole test run down)
    with pytest.raises(AudioDeviceError, match="no audio output device"):
        PyoVoice("portaudio").start()


def test_pyo_jack_without_server_says_start_jackd(no_jack):
    with pytest.raises(AudioDeviceError, match="start jackd"):
        PyoVoice("jack").start()


def test_voice_arguments_are_checked():
    with pytest.raises(BadInput, match="backend"):
        PyoVoice("coreaudio-on-linux")
    with pytest.raises(BadInput, match="buffer"):
        PyoVoice("offline", buffer=0)
    with pytest.raises(BadInput, match="block size"):
        SoundDeviceVoice(blocksize=3)
    with pytest.raises(BadInput, match="smoothing"):
        PyoVoice("offline", smoothing_s=float("nan"))


# --- pyo voice: offline and manual servers --------------------------------------------------------

def test_pyo_offline_voice_writes_the_numpy_tone(tmp_path):
    path = str(tmp_path / "pyo.wav")
    values = [440.0, 2.0, 3.0, 0.5]
    with PyoVoice("offline", rate=RATE, initial=values) as voice:
        voice.set_params(values)
        voice.render_to_file(path, 0.5)
    audio, rate = read_wav(path)
    assert rate == RATE and len(audio) >= RATE // 2
    ours = render_fm(*values, RATE // 2, RATE)
    skip = int(0.006 * RATE)  # pyo's server fades in over its first 5 ms
    err = np.abs(audio[skip:RATE // 2] - ours[skip:])
    assert err.max() < 0.01  # float32 phase drift + 16-bit quantisation


def test_pyo_manual_voice_takes_params_from_another_thread():
    import pyo

    voice = PyoVoice("manual", rate=RATE, buffer=64, smoothing_s=0.002).start()
    try:
        table = pyo.NewTable(length=0.5, chnls=1)
        rec = pyo.TableRec(voice.output, table=table).play()
        stop = threading.Event()

        def control():
            i = 0
            while not stop.is_set():
                voice.set_params([200 + i % 300, 1.0, 1.0, 0.5])
                i += 1
                time.sleep(0.0005)
            voice.set_params([440.0, 1.0, 0.0, 0.8])

        thread = threading.Thread(target=control)
        thread.start()
        voice.process(120)
        stop.set()
        thread.join()
        voice.process(120)  # 64 * 240 samples ~ 0.35 s
        audio = np.asarray(table.getBuffer())[:64 * 240].copy()
        voice.mute(True)
        voice.process(60)
        del rec
    finally:
        voice.stop()
    assert np.isfinite(audio).all()
    tail = audio[-4096:]
    assert 0.75 < np.abs(tail).max() <= 0.8 + 1e-3  # reached the last amplitude, no overshoot
    spectrum = np.abs(np.fft.rfft(tail * np.hanning(len(tail))))
    assert abs(np.argmax(spectrum) * RATE / len(tail) - 440) < 15  # and the last pitch


def test_only_one_pyo_voice_at_a_time_and_restart_works():
    for _ in range(2):
        with PyoVoice("manual", rate=RATE, buffer=64) as voice:
            voice.set_params([440, 1, 1, 0.5])
            voice.process(4)
    with pytest.raises(BadInput, match="manual"):
        PyoVoice("offline").process()


# --- offline render of a control stream --------------------------------------------------------

FRAMES_T = np.array([0.0, 0.05, 0.1, 0.1, 0.2])
FRAMES_P = np.array([[440, 2, 3, 0.5], [880, 1, 1, 0.8], [999, 1, 1, 0.1],
                     [220, 3, 5, 0.2], [300, 0.5, 0, 0.6]], dtype=float)


def test_render_controls_numpy_is_the_smoothed_voice():
    audio = render_controls(FRAMES_T, FRAMES_P, 0.3, RATE, 0.01)
    assert audio.shape == (int(0.3 * RATE),) and audio.dtype == np.float32
    # same thing by hand: silent on frame 0's values, then targets at round(t * rate);
    # frames on the same sample: the last one wins
    start = FRAMES_P[0].copy()
    start[3] = 0
    voice = SmoothedFM(RATE, 0.01, initial=start)
    expected = np.zeros_like(audio)
    bounds = [0, 2205, 4410, len(audio)]
    for (lo, hi), row in zip(zip(bounds, bounds[1:]), [0, 1, 3]):
        voice.set_target(FRAMES_P[row])
        voice.render(expected[lo:hi])
    np.testing.assert_array_equal(audio[:8820], expected[:8820])


def test_render_controls_pyo_equals_numpy():
    ours = render_controls(FRAMES_T, FRAMES_P, 0.3, RATE, 0.01, engine="numpy")
    theirs = render_controls(FRAMES_T, FRAMES_P, 0.3, RATE, 0.01, engine="pyo")
    assert theirs.shape == ours.shape
    assert np.abs(ours - theirs).max() < 0.02
    assert np.sqrt(np.mean((ours - theirs) ** 2)) < 0.005


@pytest.mark.parametrize("engine", ["numpy", "pyo"])
def test_no_click_on_a_jump_with_either_voice(engine):
    # 100 Hz tone at 0.05 jumps to amplitude 1 and index 2 at a waveform peak
    times = np.array([0.0, (2205 + 110) / RATE])
    params = np.array([[100, 1, 0, 0.05], [100, 1, 2, 1.0]], dtype=float)
    smoothing = 0.01
    audio = render_controls(times, params, 0.2, RATE, smoothing, engine=engine)
    bound = 2 * np.pi * 300 / RATE + 1.0 / ((smoothing + PORT_OFFSET_S) * RATE)
    assert np.abs(np.diff(audio)).max() < bound * 1.05
    assert np.abs(audio[-2000:]).max() > 0.9  # and it did get loud


def test_render_controls_bad_input():
    with pytest.raises(BadInput, match="non-decreasing"):
        render_controls([0.2, 0.1], FRAMES_P[:2], 1.0)
    with pytest.raises(BadInput, match="index = 20"):
        render_controls([0.0], [[440, 1, 20, 1]], 1.0)
    with pytest.raises(BadInput, match="engine"):
        render_controls([0.0], [[440, 1, 2, 1]], 1.0, engine="csound")
    with pytest.raises(BadInput, match="seconds"):
        render_controls([0.0], [[440, 1, 2, 1]], 0)


# --- the sounddevice voice ------------------------------------------------------------------------

def test_sounddevice_callback_driven_directly():
    voice = SoundDeviceVoice(rate=RATE, blocksize=256, smoothing_s=0.005, channels=2,
                             initial=[440, 2, 3, 0.5])
    voice.set_params([440, 2, 3, 0.5])
    out = np.zeros((256, 2), dtype=np.float32)
    blocks = []
    for _ in range(8):
        voice.callback(out, 256, None, None)
        blocks.append(out[:, 0].copy())
        assert np.array_equal(out[:, 0], out[:, 1])
    np.testing.assert_allclose(np.concatenate(blocks), render_fm(440, 2, 3, 0.5, 2048, RATE),
                               atol=1e-6)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(100):
        voice.callback(out, 256, None, None)
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename")
                if "instrument" in str(s.traceback))
    tracemalloc.stop()
    assert grown < 2048 and voice.callbacks == 108


@pytest.mark.slow
def test_sounddevice_voice_plays_through_a_real_jack_stream():
    from _jack import jack_server

    with jack_server(rate=RATE, period=256):
        voice = SoundDeviceVoice(rate=RATE, blocksize=256, smoothing_s=0.005)
        with voice:
            assert voice.stream.active
            setter = threading.Thread(
                target=lambda: [voice.set_params([100 + i, 1, i / 100, 0.5])
                                for i in range(200)])
            setter.start()
            setter.join()
            time.sleep(0.4)
        assert voice.stream is None
    # JACK ran our callback at its own pace (~172 blocks/s): the voice really streamed
    assert 20 <= voice.callbacks <= 200, voice.callbacks
    np.testing.assert_allclose(voice.voice.current, [299, 1, 1.99, 0.5], rtol=1e-4)


# --- timed changes: set_params(physical, at=perf_counter time) -----------------------------------

class FakeStream:
    """Synthetic callbacks: the stream clock, PortAudio's time_info and a perf_counter offset.

    Callback k starts block k; it runs ``wake[k]`` s after the block's nominal start (a late
    wake-up moves currentTime and outputBufferDacTime = currentTime + latency, as PortAudio's
    JACK host API does). perf_counter = stream time + OFFSET.
    """

    OFFSET, LATENCY = 1000.0, 0.0116

    def __init__(self, block):
        self.block, self.now = block, 0.0

    def clock(self):
        return self.now + self.OFFSET

    def time_info(self, k, wake=0.0):
        self.now = k * self.block / RATE + wake
        return SimpleNamespace(currentTime=self.now, outputBufferDacTime=self.now + self.LATENCY,
                               inputBufferAdcTime=0.0)

    def heard_at(self, sample):
        """The perf_counter time at which stream sample ``sample`` plays."""
        return self.OFFSET + self.LATENCY + sample / RATE


def onsets(audio, quiet=200, threshold=1e-6):
    """First sample of every sound that follows at least ``quiet`` silent samples."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    return loud[np.append(True, np.diff(loud) > quiet)]


ON, OFF = [440.0, 1.0, 0.0, 0.5], [440.0, 1.0, 0.0, 0.0]


def test_timed_params_land_at_the_exact_sample_of_their_time():
    fake = FakeStream(256)
    voice = SoundDeviceVoice(rate=RATE, blocksize=256, smoothing_s=0.002, clock=fake.clock,
                             initial=[300, 2, 1, 0.4])
    voice.set_params([300, 2, 1, 0.4])
    changes = [(700, [500, 1, 4, 0.8]), (1000, [120, 3, 0.5, 0.2]), (1001, [300, 2, 1, 0.4])]
    for sample, values in changes:
        voice.set_params(values, at=fake.heard_at(sample))  # queued before the stream runs
    out = np.zeros((256, 1), dtype=np.float32)
    got = []
    for k in range(8):
        voice.callback(out, 256, fake.time_info(k), None)
        got.append(out[:, 0].copy())
    reference = SmoothedFM(RATE, 0.002, initial=[300, 2, 1, 0.4])
    reference.set_target([300, 2, 1, 0.4])
    expected = np.zeros(2048, dtype=np.float32)
    cuts = sorted({*range(0, 2048, 256), *(s for s, _ in changes), 2048})
    targets = dict(changes)
    for lo, hi in zip(cuts, cuts[1:]):  # the same renders the callback makes: bit-identical
        if lo in targets:
            reference.set_target(targets[lo])
        reference.render(expected[lo:hi])
    np.testing.assert_array_equal(np.concatenate(got), expected)  # bit for bit
    assert voice.late_changes == 0 and voice.dropped_changes == 0
    assert voice.dac_delay == pytest.approx(FakeStream.LATENCY)
    assert voice.block_seconds == 256 / RATE
    assert voice.on_time_delay == pytest.approx(256 / RATE + FakeStream.LATENCY)


def test_timed_params_ignore_late_callback_wake_ups():
    # wake-ups late by ~50 us, with 2-4 ms outliers: every change still lands within 3
    # samples of its time (taking each callback's time_info at face value fails this test)
    rng = np.random.default_rng(7)
    fake = FakeStream(128)
    voice = SoundDeviceVoice(rate=RATE, blocksize=128, smoothing_s=0.0, clock=fake.clock,
                             schedule_capacity=128)
    wanted = np.arange(1, 40) * 1500 + rng.integers(0, 128, 39)
    for sample in wanted:
        voice.set_params(ON, at=fake.heard_at(sample))
        voice.set_params(OFF, at=fake.heard_at(sample + 300))
    out = np.zeros((128, 1), dtype=np.float32)
    audio = np.zeros(128 * 480, dtype=np.float32)
    for k in range(480):
        wake = 0.0 if k == 0 else rng.exponential(50e-6) + (rng.random() < 0.1) * \
            rng.uniform(0.002, 0.004)
        voice.callback(out, 128, fake.time_info(k, wake), None)
        audio[128 * k:128 * (k + 1)] = out[:, 0]
    landed = onsets(audio)
    assert len(landed) == len(wanted)
    assert np.abs(landed - wanted).max() <= 3
    assert voice.late_changes == 0


def test_a_stream_that_skips_ahead_is_followed():
    # an xrun: the stream clock jumps 10 blocks ahead while the sample count does not
    fake = FakeStream(128)
    voice = SoundDeviceVoice(rate=RATE, blocksize=128, smoothing_s=0.0, clock=fake.clock)
    out = np.zeros((128, 1), dtype=np.float32)
    for k in range(20):
        voice.callback(out, 128, fake.time_info(k), None)
    audio = np.zeros(128 * 100, dtype=np.float32)
    for k in range(100):  # after the jump, stream sample n plays at heard_at(n + 1280)
        if k == 20:
            voice.set_params(ON, at=fake.heard_at(20 * 128 + 5000 + 1280))
        voice.callback(out, 128, fake.time_info(k + 30), None)
        audio[128 * k:128 * (k + 1)] = out[:, 0]
    assert list(onsets(audio, threshold=1e-6)) == [5000]


def test_late_and_overflowing_timed_params_are_counted():
    fake = FakeStream(256)
    voice = SoundDeviceVoice(rate=RATE, blocksize=256, smoothing_s=0.0, clock=fake.clock,
                             schedule_capacity=3)
    out = np.zeros((256, 1), dtype=np.float32)
    voice.callback(out, 256, fake.time_info(0), None)
    voice.set_params(ON, at=fake.heard_at(10))  # sample 10 has already been played
    voice.callback(out, 256, fake.time_info(1), None)
    assert voice.late_changes == 1 and onsets(out[:, 0])[0] == 0  # at the block's start
    for i in range(5):
        voice.set_params(OFF if i % 2 else ON, at=fake.heard_at(5000 + i))
    assert voice.dropped_changes == 2
    with pytest.raises(BadInput, match="perf_counter"):
        voice.set_params(ON, at=float("nan"))
    with pytest.raises(BadInput, match="amplitude = 2"):
        voice.set_params([440, 1, 0, 2], at=1.0)


def test_callback_with_timed_params_allocates_nothing():
    # Over 1000 callbacks a retained allocation of even 8 bytes per callback exceeds the
    # bound, while CPython's freelists (a few kB held or released at random) stay below it.
    fake = FakeStream(256)
    voice = SoundDeviceVoice(rate=RATE, blocksize=256, smoothing_s=0.002, clock=fake.clock)
    for i in range(60):  # changes inside the blocks all through the run, queued beforehand
        voice.set_params((ON, OFF, [200, 2, 3, 0.3])[i % 3],
                         at=fake.heard_at(256 * 4 + 4000 * i + 7))
    out = np.zeros((256, 1), dtype=np.float32)
    for k in range(4):
        voice.callback(out, 256, fake.time_info(k), None)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for k in range(4, 1004):
        voice.callback(out, 256, fake.time_info(k), None)
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename")
                if "instrument" in str(s.traceback))
    tracemalloc.stop()
    assert voice.voice.pending == 0 and voice._timed.count == 0 and voice.late_changes == 0
    assert grown < 8000


class RecordingVoice(SoundDeviceVoice):
    """Keeps what it played and, per block, when PortAudio said the block would play."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.audio = np.zeros(RATE * 3, dtype=np.float32)
        self.blocks = np.zeros((2000, 2))
        self.n_blocks = 0

    def callback(self, outdata, frames, time_info, status):
        start = self.voice.samples_rendered
        if self._clock_stream is not None and self.n_blocks < len(self.blocks):
            before = time.perf_counter()
            stream_now = self._clock_stream.time
            offset = 0.5 * (before + time.perf_counter()) - stream_now
            self.blocks[self.n_blocks] = start, time_info.outputBufferDacTime + offset
            self.n_blocks += 1
        super().callback(outdata, frames, time_info, status)
        if start + frames <= len(self.audio):
            self.audio[start:start + frames] = outdata[:, 0]


@pytest.mark.slow
def test_timed_params_through_a_real_jack_stream_play_in_order_and_on_time():
    from _jack import jack_server

    block = 256
    with jack_server(rate=RATE, period=block):
        voice = RecordingVoice(rate=RATE, blocksize=block, smoothing_s=0.0)
        with voice:
            time.sleep(0.1)
            assert voice.output_latency > 0 and voice.dac_delay > 0
            delay = voice.on_time_delay + 0.003
            wanted = []
            for i in range(8):
                time.sleep(0.02 + 0.003 * (i % 3))  # arrivals at no particular block phase
                at = time.perf_counter() + delay
                voice.set_params([200 + 50 * i, 1, 0, 0.5], at=at)
                voice.set_params(OFF, at=at + 0.01)
                wanted.append(at)
            time.sleep(delay + 0.05)
        played = voice.voice.samples_rendered
    landed = onsets(voice.audio[:played])
    assert len(landed) == len(wanted)  # every change played, in order (onsets are sorted)
    blocks = voice.blocks[:voice.n_blocks]
    k = np.searchsorted(blocks[:, 0], landed, side="right") - 1
    heard = blocks[k, 1] + (landed - blocks[k, 0]) / RATE
    # "on time" within about one block (this machine's scheduling noise; the benchmark in
    # benchmarks/latency.py measures the jitter itself)
    assert np.abs(heard - np.array(wanted)).max() < voice.block_seconds + 0.002
    for i, lo in enumerate(landed):  # and each burst has its own pitch: the order is right
        tone = voice.audio[lo + 50:lo + 400]
        spectrum = np.abs(np.fft.rfft(tone * np.hanning(len(tone)), 8192))
        assert abs(np.argmax(spectrum) * RATE / 8192 - (200 + 50 * i)) < 20


# --- WAV and the synth command ------------------------------------------------------------------

def test_wav_round_trip(tmp_path):
    audio = render_fm(440, 2, 3, 0.5, 1000, RATE)
    write_wav(str(tmp_path / "x.wav"), audio, RATE)
    back, rate = read_wav(str(tmp_path / "x.wav"))
    assert rate == RATE and np.abs(back - audio).max() < 1 / 32767 + 1e-6


def test_synth_help_quotes_the_table():
    from instrument.commands.synth import PARAM_HELP

    for param in PARAM_TABLE:
        assert f"{param.low:g}..{param.high:g}" in PARAM_HELP[param.name]


@pytest.mark.parametrize("engine", ["numpy", "pyo"])
def test_cli_synth_writes_a_valid_wav(run_cli, tmp_path, engine):
    path = str(tmp_path / f"{engine}.wav")
    result = run_cli("synth", "--carrier-hz", "440", "--ratio", "2", "--index", "3",
                     "--amplitude", "0.5", "--seconds", "0.25", "--engine", engine,
                     "--rate", "22050", "--out", path)
    assert result.code == 0, result.err
    with wave.open(path) as fh:
        assert (fh.getnchannels(), fh.getsampwidth(), fh.getframerate()) == (1, 2, 22050)
        assert fh.getnframes() == 5512  # round(0.25 * 22050), whatever pyo's buffer size
    audio, _ = read_wav(path)
    assert 0.45 < np.abs(audio).max() <= 0.5 + 1e-3


@pytest.mark.parametrize("args,text", [
    (["--index", "nan"], "parameter index = nan is not a finite number; use a value in 0..10"),
    (["--carrier-hz", "5000"], "carrier_hz = 5000 is out of range; use a value in 50..2000 Hz"),
    (["--amplitude", "-1"], "amplitude = -1 is out of range; use a value in 0..1"),
    (["--ratio", "abc"], "invalid float value"),
])
def test_cli_synth_bad_parameter_is_one_line_exit_2(run_cli, tmp_path, args, text):
    result = run_cli("synth", *args, "--out", str(tmp_path / "x.wav"))
    assert result.code == 2 and text in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert not (tmp_path / "x.wav").exists()
