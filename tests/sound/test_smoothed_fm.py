"""The smoothed numpy FM voice: pyo's Port smoothing, no clicks, no allocation, scheduling."""

from __future__ import annotations

import threading
import tracemalloc

import numpy as np
import pytest

from instrument.errors import BadInput
from instrument.sound.fm import render_fm
from instrument.sound.smoothed_fm import PORT_OFFSET_S, SmoothedFM, smoothing_coefficient

RATE = 44100


# --- SmoothedFM ------------------------------------------------------------------------------

def test_smoothed_voice_at_rest_is_plain_fm():
    voice = SmoothedFM(RATE, 0.01, initial=[440, 2, 3, 0.5])
    voice.set_target([440, 2, 3, 0.5])
    out = np.zeros(5000, dtype=np.float32)
    for lo, hi in ((0, 7), (7, 300), (300, 5000)):  # block sizes do not matter
        voice.render(out[lo:hi])
    np.testing.assert_allclose(out, render_fm(440, 2, 3, 0.5, 5000, RATE), atol=1e-6)


def test_smoothing_is_pyos_port_one_pole_in_log_space_for_log_params():
    k = smoothing_coefficient(0.01, RATE)
    assert k == pytest.approx(1 / ((0.01 + PORT_OFFSET_S) * RATE))
    voice = SmoothedFM(RATE, 0.01, initial=[100, 1, 0, 0])
    voice.set_target([400, 4, 5, 1])  # Carson band 19.2 kHz: inside Nyquist, not capped
    y = np.array([np.log(100), np.log(1), 0, 0])
    x = np.array([np.log(400), np.log(4), 5, 1])
    buf = np.zeros(1, dtype=np.float32)
    for _ in range(300):
        voice.render(buf)
        y = y + (x - y) * k  # pyo Port: y += (x - y) * factor, every sample
    np.testing.assert_allclose(voice.current, [np.exp(y[0]), np.exp(y[1]), y[2], y[3]],
                               rtol=1e-9)
    # log space: halfway in time the carrier is at the geometric, not arithmetic, mean
    assert 100 < voice.current[0] < 400


def largest_jump(audio):
    return float(np.abs(np.diff(audio)).max())


def test_no_click_when_parameters_jump():
    # a low, quiet tone jumps to full amplitude and an index of 2 in one control frame, at a
    # peak of the waveform (the worst moment: 100 Hz, a quarter period after 5 periods)
    rate, smoothing, jump = RATE, 0.01, 2205 + 110
    voice = SmoothedFM(rate, smoothing, initial=[100, 1, 0, 0.05])
    voice.set_target([100, 1, 0, 0.05])
    before = voice.render(np.zeros(jump, dtype=np.float32))
    voice.set_target([100, 1, 2, 1.0])
    after = voice.render(np.zeros(4410, dtype=np.float32))
    audio = np.concatenate([before, after])
    # bound: the steepest slope of a sine at the final peak frequency and amplitude, plus the
    # amplitude ramp per sample
    peak_freq = 100 + 2 * 100
    bound = 2 * np.pi * peak_freq / rate * 1.0 + 0.95 / ((smoothing + PORT_OFFSET_S) * rate)
    assert largest_jump(audio) < bound * 1.05
    # the same jump without smoothing clicks (so this test can fail)
    n = jump + 4410
    step = np.arange(n) >= jump
    hard = render_fm(100, 1, np.where(step, 2.0, 0.0), np.where(step, 1.0, 0.05), n, rate)
    assert largest_jump(hard) > 10 * bound


def test_mute_glides_to_silence_and_back():
    voice = SmoothedFM(RATE, 0.005, initial=[440, 1, 1, 0.8])
    voice.set_target([440, 1, 1, 0.8])
    voice.mute(True)
    out = voice.render(np.zeros(4410, dtype=np.float32))
    assert largest_jump(out) < 0.1 and np.abs(out[-500:]).max() < 1e-3 and voice.muted
    voice.mute(False)
    out = voice.render(np.zeros(4410, dtype=np.float32))
    assert np.abs(out[-500:]).max() > 0.7


def test_set_target_from_another_thread_while_rendering():
    voice = SmoothedFM(RATE, 0.002)
    # every target inside Nyquist (Carson band at most 10 kHz), so none is capped
    targets = [[50 + i, 0.25 + i / 200, i / 100, i / 500] for i in range(400)]
    done = threading.Event()

    def control():
        for t in targets:
            voice.set_target(t)
        done.set()

    thread = threading.Thread(target=control)
    buf = np.zeros(64, dtype=np.float32)
    thread.start()
    while not done.is_set():
        voice.render(buf)
        assert np.isfinite(buf).all()
    thread.join()
    for _ in range(100):
        voice.render(buf)
    np.testing.assert_allclose(voice.current, targets[-1], rtol=1e-6)


def test_render_allocates_nothing():
    voice = SmoothedFM(RATE, 0.01, max_block=512)
    voice.set_target([440, 2, 3, 0.5])
    buf = np.zeros(512, dtype=np.float32)
    voice.render(buf)  # warm up
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for i in range(200):
        voice.render(buf)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename")
                if "fm.py" in str(stat.traceback))
    assert grown < 2048  # no array buffers: a few small view objects at most


def test_smoothed_bad_input():
    voice = SmoothedFM(RATE, 0.01)
    with pytest.raises(BadInput, match="carrier_hz = 3000"):
        voice.set_target([3000, 1, 1, 1])
    with pytest.raises(BadInput, match="4 parameters"):
        voice.set_target([440, 1, 1])
    with pytest.raises(BadInput, match="smoothing"):
        SmoothedFM(RATE, -1.0)
    with pytest.raises(BadInput, match="max_block"):
        SmoothedFM(RATE, 0.01, max_block=0)


# --- scheduled changes (sample-accurate targets) ----------------------------------------------

A, B, C = [300.0, 2.0, 1.0, 0.4], [500.0, 1.0, 4.0, 0.8], [120.0, 3.0, 0.5, 0.2]


def render_by_hand(changes, n, block, initial=A):
    """Reference: render up to each change's sample, set_target, render on (same calls the
    voice makes when it splits a block)."""
    voice = SmoothedFM(RATE, 0.002, initial=initial)
    voice.set_target(initial)
    out = np.zeros(n, dtype=np.float32)
    cuts = sorted({0, n, *range(0, n, block), *(s for s, _ in changes)})
    pending = sorted(changes, key=lambda c: c[0])
    for lo, hi in zip(cuts, cuts[1:]):
        while pending and pending[0][0] <= lo:
            voice.set_target(pending.pop(0)[1])
        voice.render(out[lo:hi])
    return out


def test_scheduled_changes_land_at_their_exact_samples():
    changes = [(100, B), (256, C), (300, A), (301, B), (700, C)]  # 256: a block boundary
    voice = SmoothedFM(RATE, 0.002, initial=A)
    voice.set_target(A)
    for sample, values in reversed(changes):  # any order: the queue sorts by sample
        voice.schedule(sample, values)
    out = np.zeros(1024, dtype=np.float32)
    for lo in range(0, 1024, 256):
        voice.render(out[lo:lo + 256])
        if lo == 256:
            assert voice.pending == 1  # 700 is due after this block: still queued
    assert voice.samples_rendered == 1024 and voice.pending == 0 and voice.late == 0
    np.testing.assert_array_equal(out, render_by_hand(changes, 1024, 256))  # bit for bit
    # a change at sample s already moves sample s; one sample later is another signal
    moved = render_by_hand([(101, B), *changes[1:]], 1024, 256)
    assert np.array_equal(out[:100], moved[:100]) and out[100] != moved[100]


def test_a_change_due_before_the_block_applies_at_its_start_and_counts_as_late():
    voice = SmoothedFM(RATE, 0.002, initial=A)
    voice.set_target(A)
    out = np.zeros(512, dtype=np.float32)
    voice.render(out[:256])
    voice.schedule(10, B)     # already rendered
    voice.render(out[256:])
    assert voice.late == 1
    np.testing.assert_array_equal(out, render_by_hand([(256, B)], 512, 256))


def test_scheduling_at_block_starts_equals_set_target_bit_for_bit():
    by_schedule = SmoothedFM(RATE, 0.01, initial=A)
    by_target = SmoothedFM(RATE, 0.01, initial=A)
    a, b = np.zeros(2048, dtype=np.float32), np.zeros(2048, dtype=np.float32)
    for i, lo in enumerate(range(0, 2048, 128)):
        values = (A, B, C)[i % 3]
        by_schedule.schedule(lo, values)
        by_target.set_target(values)
        by_schedule.render(a[lo:lo + 128])
        by_target.render(b[lo:lo + 128])
    np.testing.assert_array_equal(a, b)


def test_full_queue_drops_the_earliest_due_change_and_counts_it():
    voice = SmoothedFM(RATE, 0.002, initial=A, schedule_capacity=4)
    samples = [200, 210, 220, 230, 240, 250]
    for s, values in zip(samples, [B, C, B, C, A, B]):
        assert voice.schedule(s, values)
    assert voice.pending == 4 and voice.dropped == 2   # 200 and 210 went
    assert voice.schedule(5, C) is False               # earlier than everything queued: dropped
    assert voice.dropped == 3 and voice.pending == 4
    out = np.zeros(512, dtype=np.float32)
    voice.render(out)
    kept = [(220, B), (230, C), (240, A), (250, B)]
    np.testing.assert_array_equal(out, render_by_hand(kept, 512, 512))


def test_render_with_scheduled_changes_allocates_nothing():
    voice = SmoothedFM(RATE, 0.01, max_block=512)
    voice.set_target(A)
    rows = [voice.prepare_target(v) for v in (A, B, C)]
    buf = np.zeros(512, dtype=np.float32)
    voice.schedule_prepared(100, rows[1])
    voice.render(buf)  # warm up
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for i in range(200):
        start = voice.samples_rendered
        for j, offset in enumerate((3, 200, 511)):
            voice.schedule_prepared(start + offset, rows[(i + j) % 3])
        voice.render(buf)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename")
                if "fm.py" in str(stat.traceback))
    assert voice.pending == 0 and voice.late == 0
    assert grown < 2048


def test_schedule_from_another_thread_while_rendering():
    voice = SmoothedFM(RATE, 0.002, schedule_capacity=512)
    # every target inside Nyquist (Carson band at most 10 kHz), so none is capped
    targets = [[50 + i, 0.25 + i / 200, i / 100, i / 500] for i in range(400)]
    done = threading.Event()

    def control():
        for i, t in enumerate(targets):
            voice.schedule(20 * i, t)
        done.set()

    thread = threading.Thread(target=control)
    buf = np.zeros(64, dtype=np.float32)
    thread.start()
    while not done.is_set():
        voice.render(buf)
        assert np.isfinite(buf).all()
    thread.join()
    while voice.pending:
        voice.render(buf)
    for _ in range(100):
        voice.render(buf)
    assert voice.dropped == 0
    np.testing.assert_allclose(voice.current, targets[-1], rtol=1e-6)


def test_schedule_bad_input():
    voice = SmoothedFM(RATE, 0.01)
    for sample in (-1, 1.5, True, "3"):
        with pytest.raises(BadInput, match="whole number"):
            voice.schedule(sample, A)
    with pytest.raises(BadInput, match="index = 11"):
        voice.schedule(0, [440, 1, 11, 1])
    with pytest.raises(BadInput, match="capacity"):
        SmoothedFM(RATE, 0.01, schedule_capacity=0)
    assert voice.pending == 0
