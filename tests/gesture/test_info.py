"""gestures info streams a recording: the same figures as the whole-file rules, in bounded memory."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
from tiny_model import tiny_parts, write_strokes

from instrument.commands.gestures import summarize
from instrument.formats.bundle import save_bundle
from instrument.formats.recording import Recording, make_header, read_recording, write_recording
from instrument.gesture.info import summarize_file


def _tricky(path) -> str:
    """Strokes with a jump, rejected samples (absurd, repeated time) and a 10-hour pause."""
    rec = read_recording(write_strokes(path, seconds=6, seed=4))
    t, x, y = rec.t.copy(), rec.x.copy(), rec.y.copy()
    x[50] = 1e9                                  # absurd: rejected
    t[80] = t[79]                                # not later: rejected
    x[120:] = np.clip(x[120:] + 500, 0, 800)     # a jump
    t[200:] += 36000.0                           # a 10-hour pause
    write_recording(path, Recording(make_header(800, 600), 800, 600, t, x, y))
    return str(path)


@pytest.mark.parametrize("chunk", [1, 7, 64, 100_000])
def test_streamed_figures_equal_the_whole_file_rules(tmp_path, chunk):
    path = _tricky(tmp_path / "tricky.jsonl")
    whole = summarize(read_recording(path))
    streamed = summarize_file(path, chunk=chunk)
    assert streamed.pop("long_pauses") == 1
    assert streamed.pop("path_px") == pytest.approx(whole.pop("path_px"), abs=0.11)
    assert streamed == whole          # exact: counts, and the same grid and positions
    assert whole["rejected_samples"] == 2


def test_demo_figures_are_unchanged():
    s = summarize_file("recordings/demo.jsonl")
    assert (s["samples"], s["still_share"], s["path_px"]) == (29390, 0.184, 166256.9)


def test_info_memory_stays_far_below_the_file_size(tmp_path):
    path = tmp_path / "big.jsonl"
    n = 150_000
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.uniform(0.005, 0.02, n))
    x = 640 + 400 * np.sin(t * 1.3)
    y = 400 + 300 * np.cos(t * 0.7)
    with open(path, "w") as f:
        f.write(json.dumps(make_header(1280, 800)) + "\n")
        f.writelines(f'{{"t":{a:.6f},"x":{b:.2f},"y":{c:.2f},"buttons":1}}\n'
                     for a, b, c in zip(t, x, y))
    size = path.stat().st_size
    tracemalloc.start()
    s = summarize_file(str(path))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert s["samples"] == n
    # Chunks of 8192 samples: about 3 MB whatever the file's size (benchmarks/gestures_speed.py
    # shows the same for 100 MB). Reading the file whole holds its bytes, its lines and the
    # arrays: several times the file's size.
    assert peak < min(size / 2, 6e6), (peak, size)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    config, arrays, _ = tiny_parts(seed=3)
    path = str(tmp_path_factory.mktemp("info") / "model")
    save_bundle(path, config, arrays)
    return path


def test_negative_time_is_refused_the_same_by_info_and_render(tmp_path, run_cli, model):
    path = tmp_path / "neg.jsonl"
    path.write_text(json.dumps(make_header(800, 600)) + "\n" + '{"t": 0, "x": 1, "y": 2}\n'
                    '{"t": -1.5, "x": 1, "y": 2}\n')
    info = run_cli("gestures", "info", str(path))
    render = run_cli("render", "--model", model, "--gestures", str(path), "--out",
                     str(tmp_path / "out.wav"))
    words = f"{path}:3: time t = -1.5 is negative"
    for result in (info, render):
        assert result.code == 2 and words in result.err and len(result.err.splitlines()) == 1
    assert not (tmp_path / "out.wav").exists()


def test_huge_times_render_and_info_say_the_pause_is_shortened(tmp_path, run_cli, model):
    t = np.concatenate([[1e12], 1e12 + np.arange(1, 50) * 0.01])
    path = str(tmp_path / "late.jsonl")
    write_recording(path, Recording(make_header(800, 600), 800, 600, t,
                                    100 + np.arange(50.0) * 3, np.full(50, 300.0)))
    info = run_cli("gestures", "info", path)
    assert info.code == 0 and "note: 1 pause(s) longer than 10 s" in info.out
    render = run_cli("render", "--model", model, "--gestures", path, "--out",
                     str(tmp_path / "late.wav"))
    assert render.code == 0, render.err
    assert "played as 10 s of stillness" in render.out + render.err
    import soundfile as sf

    assert sf.info(str(tmp_path / "late.wav")).duration < 12.0    # not 1e12 s of audio


def test_render_refuses_hours_of_audio_before_allocating(tmp_path, model, monkeypatch):
    from instrument.errors import BadInput
    from instrument.live import render as render_module

    monkeypatch.setattr(render_module, "MAX_AUDIO_S", 5.0)   # stands for the 2-hour bound
    path = str(tmp_path / "long.jsonl")
    t = np.arange(0, 8.0, 0.02)
    write_recording(path, Recording(make_header(800, 600), 800, 600, t,
                                    100 + 50 * np.sin(t), 300 + 50 * np.cos(t)))
    with pytest.raises(BadInput, match="would render 0.0 hours of audio.*split the recording"):
        render_module.render(model, path, str(tmp_path / "long.wav"))
    assert not (tmp_path / "long.wav").exists()
