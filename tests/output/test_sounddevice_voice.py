"""The sounddevice voice: through its callback, with timed changes on a fake stream clock, and
on a private jackd dummy server."""

from __future__ import annotations

import threading
import time
import tracemalloc
from types import SimpleNamespace

import numpy as np
import pytest

from instrument.errors import BadInput
from instrument.output.sounddevice_voice import SoundDeviceVoice
from instrument.sound.fm import render_fm
from instrument.sound.smoothed_fm import SmoothedFM

RATE = 44100


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
