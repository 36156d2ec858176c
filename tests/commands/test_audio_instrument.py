"""Your own sounds end to end: a folder of samples -> audio bank -> trained model -> render
(numpy == pyo, controls CSV), evaluate, and a changed sample named in one line."""

import csv
import json
import os

import numpy as np
import pytest
import soundfile as sf
from audio_samples import write_samples
from tiny_model import write_strokes


@pytest.mark.slow
def test_a_folder_of_samples_becomes_an_instrument(run_cli, tmp_path):
    samples = write_samples(tmp_path / "samples")
    bank = str(tmp_path / "bank.npz")
    res = run_cli("sounds", "build", "--from-audio", samples, "--out", bank, "--quiet")
    assert res.code == 0, res.err
    assert "audio bank: 30 slices from 3 file(s)" in res.out
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=30, seed=2)
    model = str(tmp_path / "model")
    res = run_cli("train", "--gestures", gestures, "--sound-bank", bank, "--out", model,
                  "--epochs", "2", "--quiet")
    assert res.code == 0, res.err
    config = json.loads(open(os.path.join(model, "config.json")).read())
    assert config["sound_source"]["kind"] == "audio"
    assert [f["path"] for f in config["sound_source"]["files"]] == [
        os.path.join("samples", f"take{i}.wav") for i in range(3)]
    assert config["param_table"]["params"][0]["name"] == "slice"

    controls = str(tmp_path / "c.csv")
    res = run_cli("render", "--model", model, "--gestures", gestures, "--out",
                  str(tmp_path / "numpy.wav"), "--controls", controls)
    assert res.code == 0, res.err
    res = run_cli("render", "--model", model, "--gestures", gestures, "--out",
                  str(tmp_path / "pyo.wav"), "--engine", "pyo")
    assert res.code == 0, res.err
    a, rate = sf.read(tmp_path / "numpy.wav")
    b, _ = sf.read(tmp_path / "pyo.wav")
    # the same voices through pyo's float32 tables: identical 16-bit files up to one LSB
    assert rate == 44100 and len(a) == len(b) and np.abs(a - b).max() <= 1 / 32767
    assert np.abs(a).max() > 0.1  # it plays the samples
    with open(controls) as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["t", "sound", "slice"]
    # the slice parameter is the bank index (through float32 0..1: to within 1e-6)
    assert all(abs(float(r[2]) - int(r[1])) < 1e-5 for r in rows[1:])
    # the last 30% of the recording and 5 s of stroke families: a bank of 30 slices is played
    # by ~100 windows each, and those ties make the neighbourhood figures ~10x dearer per
    # window (learn/metrics._chunk_penalty); every window of it took 80-90 s
    res = run_cli("evaluate", "--model", model, "--gestures", gestures, "--holdout", "0.3",
                  "--families", "5")
    assert res.code == 0 and "trustworthiness" in res.out, res.err
    assert "held out families" in res.out
    refit = str(tmp_path / "refit")  # train --from keeps playing the slices
    res = run_cli("train", "--gestures", gestures, "--from", model, "--out", refit, "--quiet")
    assert res.code == 0, res.err
    assert json.loads(open(os.path.join(refit, "config.json")).read())["sound_source"] == \
        config["sound_source"]

    # a sample edited after training is named, in one line, before anything plays
    with open(os.path.join(samples, "take1.wav"), "r+b") as fh:
        fh.seek(2000)
        fh.write(b"\x7f\x7f\x7f\x7f")
    res = run_cli("render", "--model", model, "--gestures", gestures, "--out",
                  str(tmp_path / "again.wav"))
    assert res.code == 2 and "take1.wav has changed" in res.err
    assert len(res.err.strip().splitlines()) == 1


@pytest.mark.slow
@pytest.mark.parametrize("synth", ["subtractive.py", "subtractive.pd"])
def test_the_example_synths_train_and_render(run_cli, tmp_path, synth):
    import shutil

    from conftest import ROOT

    if synth.endswith(".pd") and not shutil.which("pd"):
        pytest.skip("Pure Data is not installed")
    bank = str(tmp_path / "bank.npz")
    res = run_cli("sounds", "build", "--synth", os.path.join(ROOT, "examples", synth), "--n",
                  "200", "--seconds", "0.5", "--out", bank, "--quiet")
    assert res.code == 0, res.err
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=20, seed=4)
    model = str(tmp_path / "model")
    res = run_cli("train", "--gestures", gestures, "--sound-bank", bank, "--out", model,
                  "--epochs", "1", "--quiet", "--report", str(tmp_path / "r.png"))
    assert res.code == 0, res.err
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    config = json.loads(open(os.path.join(model, "config.json")).read())
    assert config["sound_source"]["kind"] == {"py": "pyo", "pd": "pd"}[synth.rsplit(".", 1)[1]]
    wav = tmp_path / "out.wav"
    res = run_cli("render", "--model", model, "--gestures", gestures, "--out", str(wav),
                  "--controls", str(tmp_path / "c.csv"))
    assert res.code == 0, res.err
    audio, rate = sf.read(wav)
    assert rate == 44100 and np.abs(audio).max() > 0.01
    header = open(tmp_path / "c.csv").readline().strip()
    assert header == "t,sound,pitch_hz,cutoff_hz,resonance,drive,amplitude"
