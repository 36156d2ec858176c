"""`instrument gestures synth|info|plot` and the shipped demo recording."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from conftest import ROOT

from instrument.config import GestureConfig
from instrument.formats.recording import read_recording
from instrument.gesture.steps import frames_from_recording

DEMO = os.path.join(ROOT, "recordings", "demo.jsonl")


@pytest.fixture(scope="module")
def synth_file(tmp_path_factory):
    from conftest import run_cli_process

    path = tmp_path_factory.mktemp("g") / "s.jsonl"
    result = run_cli_process("gestures", "synth", "--seconds", "30", "--seed", "5",
                             "--out", str(path))
    assert result.code == 0, result.err
    assert result.out.startswith("wrote ") and str(path) in result.out
    return path


def test_synth_info_line_and_json(run_cli, synth_file):
    result = run_cli("gestures", "info", str(synth_file))
    assert result.code == 0 and len(result.out.strip().splitlines()) == 1
    line = result.out
    for words in ("30.0 s", "samples", "Hz effective", "path", "diagonals", "still",
                  "1280x800", "source synthetic"):
        assert words in line
    info = json.loads(run_cli("gestures", "info", str(synth_file), "--json").out)
    rec = read_recording(synth_file)
    assert info["samples"] == len(rec) and info["duration_s"] == pytest.approx(rec.duration)
    assert info["effective_rate_hz"] == pytest.approx((len(rec) - 1) / rec.duration, rel=1e-3)
    step = np.hypot(np.diff(rec.x), np.diff(rec.y))
    assert info["path_px"] == pytest.approx(step.sum(), abs=0.1)
    assert 0 < info["still_share"] < 1 and info["source"] == "synthetic"


@pytest.mark.slow
def test_plot_writes_a_png(run_cli, synth_file, tmp_path):
    out = tmp_path / "plot.png"
    result = run_cli("gestures", "plot", str(synth_file), "--out", str(out))
    assert result.code == 0, result.err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20000


def test_bad_files_are_one_line_exit_2(run_cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "instrument-gestures", "version": 1, "created": "x", '
                   '"width": 10, "height": 10}\n{"t": 0, "x": 1}\n{"t": 1, "x": 1, "y": 1}\n')
    for args in (("gestures", "info", str(bad)), ("gestures", "plot", str(bad), "--out",
                                                   str(tmp_path / "p.png")),
                 ("gestures", "info", str(tmp_path / "missing.jsonl")),
                 ("gestures", "synth", "--seconds", "-3", "--out", str(tmp_path / "x.jsonl")),
                 ("gestures", "synth", "--out", str(bad))):  # exists: needs --force
        result = run_cli(*args)
        assert result.code == 2 and "Traceback" not in result.err, (args, result.err)
        assert len(result.err.strip().splitlines()) == 1
    assert f"{bad}:2:" in run_cli("gestures", "info", str(bad)).err


def test_shipped_demo_recording():
    rec = read_recording(DEMO)
    assert rec.header["source"] == "synthetic" and "not a human" in rec.header["note"]
    assert 415 <= rec.duration <= 421 and not rec.truncated
    assert os.path.getsize(DEMO) < 3_000_000
    times, windows = frames_from_recording(rec, GestureConfig())
    assert len(times) > len(rec) and windows.shape[1] == 96
