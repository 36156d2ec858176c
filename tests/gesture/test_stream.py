"""gesture/stream.py + stream_tracker.py: any-width streams -> values and deltas windows."""

from __future__ import annotations

import numpy as np
import pytest
from stream_helpers import stream_channels, write_stream_file

from instrument.config import GestureConfig
from instrument.errors import BadInput, ModelFileError
from instrument.formats.channels import Channel
from instrument.formats.recording import Recording, read_recording
from instrument.gesture import steps
from instrument.gesture.stream import (
    ABSURD_VALUE,
    StreamSpec,
    check_fits,
    fit_stream_spec,
    gesture_frames,
    gesture_windows,
    spec_from_bundle,
    stream_frames,
    stream_window_dim,
    stream_windows,
)
from instrument.gesture.stream_tracker import StreamTracker

CFG = GestureConfig(window_steps=8)


def stream_rec(t, values, channels=None) -> Recording:
    values = np.asarray(values, np.float64)
    channels = channels or stream_channels(values.shape[1])
    return Recording({}, None, None, np.asarray(t, np.float64), np.zeros(len(t)),
                     np.zeros(len(t)), channels=tuple(channels), values=values)


def live_frames(rec, cfg, spec, capacity=4096):
    """Replay a recording through a StreamTracker by the frame rule."""
    times, _ = stream_frames(rec, cfg, spec)
    tracker = StreamTracker(cfg, spec, capacity=capacity)
    out, i = [], 0
    for t in times:
        while i < len(rec.t) and rec.t[i] <= t:
            tracker.push(rec.t[i], rec.values[i])
            i += 1
        out.append(tracker.window_at(t).copy())
    return times, np.array(out)


def test_live_windows_equal_offline_bit_for_bit(tmp_path):
    rec = read_recording(write_stream_file(tmp_path / "s.jsonl", width=16, seconds=6,
                                           buttons=2))
    spec = fit_stream_spec([rec], CFG)
    times, offline = stream_frames(rec, CFG, spec)
    assert offline.shape == (len(times), stream_window_dim(CFG, 16)) == (len(times), 256)
    _, live = live_frames(rec, CFG, spec, capacity=64)   # a small ring buffer too
    np.testing.assert_array_equal(live, offline)
    assert len(times) > len(rec.t)                      # still frames in the pauses


def test_values_and_deltas_by_the_documented_rule():
    # one channel: 0 at t=0, 1 at t=0.02 (linear in between: the gap is under rest_after_s)
    rec = stream_rec([0.0, 0.02], [[0.0], [1.0]])
    spec = StreamSpec.identity(rec.channels)
    times, frames = stream_frames(rec, GestureConfig(window_steps=4), spec)
    assert times.tolist() == [0.0, 0.01, 0.02]   # samples, and a still frame between
    # the frame at 0.02 reads 0.02 - 0.04 .. 0.02 every 0.01 s: 0 (before the first
    # sample), 0, 0, 0.5, 1 -> per step [value, delta]
    np.testing.assert_allclose(frames[2].reshape(4, 2), [[0, 0], [0, 0], [0.5, 0.5], [1, 0.5]],
                               atol=1e-12)


def test_a_button_is_never_interpolated():
    channels = (Channel("a"), Channel("b", "button"))
    rec = stream_rec([0.0, 0.02], [[0.0, 0.0], [1.0, 1.0]], channels)
    spec = StreamSpec.identity(channels)
    _, frames = stream_frames(rec, GestureConfig(window_steps=4), spec)
    steps4 = frames[2].reshape(4, 4)               # t = 0.02: [a, b, da, db] per step
    np.testing.assert_allclose(steps4[:, 0], [0, 0, 0.5, 1])   # a glides from 0 to 1
    np.testing.assert_allclose(steps4[:, 1], [0, 0, 0, 1])     # b jumps at its sample
    np.testing.assert_allclose(steps4[:, 3], [0, 0, 0, 1])


def test_the_rest_rule_holds_a_value_through_a_pause():
    rec = stream_rec([0.0, 1.0], [[0.0], [1.0]])
    spec = StreamSpec.identity(rec.channels)
    cfg = GestureConfig(window_steps=4, rest_after_s=0.05)
    times, frames = stream_frames(rec, cfg, spec)
    at = {round(t, 4): f for t, f in zip(times, frames)}
    assert np.all(at[0.5].reshape(4, 2)[:, 0] == 0)            # still resting at 0
    np.testing.assert_allclose(at[1.0].reshape(4, 2)[:, 0], [0.4, 0.6, 0.8, 1.0], atol=1e-6)


def test_normalisation_is_learned_per_channel():
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.uniform(0.005, 0.02, 3000))
    values = np.stack([100 + 50 * np.sin(t), 0.01 * np.cos(3 * t), np.full(len(t), 7.0)], 1)
    channels = (Channel("big"), Channel("small"), Channel("flat", "value", "", 0.0, 10.0))
    rec = stream_rec(t, values, channels)
    spec = fit_stream_spec([rec], CFG)
    w = stream_windows(rec, CFG, spec).reshape(-1, 6)
    np.testing.assert_allclose(w[:, :2].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(w[:, :2].std(0), 1, rtol=1e-4)
    np.testing.assert_allclose(w[:, 3:5].std(0), 1, rtol=1e-4)
    assert spec.scale[2] == 5.0                    # constant: half its declared range
    assert spec.delta_scale[2] == spec.scale[2]
    back = StreamSpec.from_dict(spec.to_dict())
    assert back.channels == spec.channels
    np.testing.assert_array_equal(back.offset, spec.offset)


def test_still_means_the_newest_deltas_are_zero():
    rec = stream_rec([0.0, 0.01, 0.02], [[0.0, 1.0], [0.5, 1.0], [0.7, 2.0]])
    spec = StreamSpec.identity(rec.channels)
    times, frames = stream_frames(rec, CFG, spec)
    still = frames[times > 0.05]                   # long after the last sample
    assert len(still) == 0                         # no frames after the last sample
    tracker = StreamTracker(CFG, spec)
    for t, v in zip(rec.t, rec.values):
        tracker.push(t, v)
    window = tracker.window_at(0.2)
    assert np.all(window[-2:] == 0) and np.any(window[-4:-2] != 0)
    assert tracker.next_still_time() == pytest.approx(0.21)


def test_bad_samples_are_counted_never_raised():
    spec = StreamSpec.identity(stream_channels(3))
    tracker = StreamTracker(CFG, spec)
    assert tracker.push(0.0, [1, 2, 3])
    bad = [(0.1, [1, 2]), (0.1, [1, 2, 3, 4]), (0.1, [float("nan"), 0, 0]),
           (0.1, [ABSURD_VALUE * 10, 0, 0]), (0.0, [1, 2, 3]), ("x", [1, 2, 3]),
           (0.1, "abc"), (0.1, None), (float("inf"), [0, 0, 0])]
    for t, values in bad:
        assert not tracker.push(t, values)
    assert tracker.rejected == len(bad) and tracker.accepted == 1
    mask_rec = stream_rec([0, 1, 1, 2], [[0, 0, 0], [np.nan, 0, 0], [1, 1, 1], [2e9, 0, 0]])
    times, _ = stream_frames(mask_rec, CFG, spec)
    assert times[0] == 0 and times[-1] == 1.0      # nan, repeat time and absurd dropped


def test_a_stream_that_does_not_fit_is_one_line_naming_both(tmp_path):
    spec = StreamSpec.identity(stream_channels(16))
    with pytest.raises(BadInput, match=r"trained on 16 channels \(in1..in16\); b.jsonl is "
                                       r"3 channels \(in1, in2, in3\)"):
        check_fits(spec, stream_channels(3), "model m", "b.jsonl")
    pointer = read_recording("recordings/demo.jsonl")
    with pytest.raises(BadInput, match="16 channels.*is a 2-D pointer"):
        gesture_frames(pointer, CFG, spec)
    with pytest.raises(BadInput, match="2-D pointer.*is 3 channels"):
        gesture_windows(stream_rec([0.0], [[1, 2, 3]]), CFG, None)
    a = stream_rec([0.0, 1.0], [[1, 2], [2, 3]])
    b = stream_rec([0.0, 1.0], [[1, 2, 3], [2, 3, 4]])
    with pytest.raises(BadInput, match="one kind of stream"):
        fit_stream_spec([a, b], CFG)
    with pytest.raises(BadInput, match="one kind of stream"):
        fit_stream_spec([a, pointer], CFG)


def test_a_pointer_keeps_the_polar_steps_exactly():
    rec = read_recording("recordings/demo.jsonl")
    cfg = GestureConfig()
    assert fit_stream_spec([rec], cfg) is None
    np.testing.assert_array_equal(gesture_windows(rec, cfg, None),
                                  steps.windows_from_recording(rec, cfg))


def test_a_bad_stream_section_in_a_model_is_one_line():
    spec = StreamSpec.identity(stream_channels(2)).to_dict()
    with pytest.raises(ModelFileError, match="windows of 32 values"):
        spec_from_bundle(spec, CFG, 24, "m")
    with pytest.raises(ModelFileError, match="scale must be 2 finite"):
        spec_from_bundle({**spec, "scale": [1.0]}, CFG, 32, "m")
    with pytest.raises(ModelFileError, match="positive"):
        spec_from_bundle({**spec, "scale": [1.0, -1.0]}, CFG, 32, "m")
    assert spec_from_bundle(spec, CFG, 32, "m").width == 2


def test_long_pauses_are_capped_as_in_live_replay_and_sizes_are_bounded(monkeypatch):
    from instrument.gesture import stream
    from instrument.gesture.pauses import MAX_PAUSE_S

    rec = stream_rec([0.0, 0.01, 100.0, 100.01], [[0.0], [1.0], [2.0], [3.0]])
    spec = StreamSpec.identity(rec.channels)
    times, _ = stream_frames(rec, CFG, spec)
    assert times[-1] == pytest.approx(0.01 + MAX_PAUSE_S + 0.01)   # 100 s of rest -> 10 s
    monkeypatch.setattr(stream, "MAX_WINDOW_VALUES", 100)
    with pytest.raises(BadInput, match="more than 100 values"):
        stream_frames(rec, CFG, spec)
