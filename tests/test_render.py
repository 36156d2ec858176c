"""render.py: the offline control stream and audio are deterministic and follow the contract."""

import numpy as np
import pytest

from instrument.bundle import save_bundle
from instrument.errors import BadInput, DataFileError
from tiny_model import tiny_parts, write_strokes


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("render")
    config, arrays, _ = tiny_parts(seed=3)
    save_bundle(folder / "model", config, arrays)
    gestures = write_strokes(folder / "g.jsonl", seconds=4, seed=5)
    return folder / "model", gestures


def test_render_is_deterministic_and_follows_the_csv_contract(model, tmp_path):
    from instrument.gestures import frames_from_recording
    from instrument.recording import read_recording
    from instrument.render import read_controls_csv, render
    from instrument.runtime import Runtime
    from instrument.synth import read_wav

    path, gestures = model
    a = render(path, gestures, tmp_path / "a.wav", tmp_path / "a.csv", rate=8000)
    render(path, gestures, tmp_path / "b.wav", tmp_path / "b.csv", rate=8000)
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    lines = (tmp_path / "a.csv").read_text().splitlines()
    assert lines[0] == "t,sound,carrier_hz,ratio,index,amplitude"
    rt = Runtime.from_bundle(path)
    times, windows = frames_from_recording(read_recording(gestures), rt.gesture_config)
    assert len(lines) - 1 == len(times) == a["frames"]
    names, t, sounds, params = read_controls_csv(tmp_path / "a.csv")
    np.testing.assert_allclose(t, times, atol=1e-6)
    expected_sounds, expected_params = rt.play(windows)
    np.testing.assert_array_equal(sounds, expected_sounds)
    np.testing.assert_allclose(params, expected_params, rtol=1e-6)
    np.testing.assert_allclose(params, rt.bank_params[sounds], rtol=1e-6)  # each row is a bank sound
    audio, rate = read_wav(str(tmp_path / "a.wav"))
    assert rate == 8000 and len(audio) == round(a["seconds"] * 8000)
    assert np.abs(audio).max() > 0.01  # something is heard


def test_render_with_pyo_engine(model, tmp_path):
    from instrument.render import render
    from instrument.synth import read_wav

    path, gestures = model
    info = render(path, gestures, tmp_path / "p.wav", engine="pyo", rate=8000)
    audio, _ = read_wav(str(tmp_path / "p.wav"))
    assert info["controls"] is None and len(audio) == round(info["seconds"] * 8000)


def test_render_errors(model, tmp_path):
    from instrument.render import read_controls_csv, render

    path, gestures = model
    with pytest.raises(BadInput, match="engine"):
        render(path, gestures, tmp_path / "x.wav", engine="csound")
    (tmp_path / "bad.csv").write_text("time,x\n1,2\n")
    with pytest.raises(DataFileError, match="not a control stream"):
        read_controls_csv(tmp_path / "bad.csv")


def test_render_cli(run_cli, model, tmp_path):
    path, gestures = model
    res = run_cli("render", "--model", str(path), "--gestures", gestures, "--out",
                  str(tmp_path / "o.wav"), "--controls", str(tmp_path / "o.csv"), "--rate", "8000")
    assert res.code == 0, res.err
    assert "control frames" in res.out and (tmp_path / "o.csv").exists()
    res = run_cli("render", "--model", str(tmp_path), "--gestures", gestures, "--out",
                  str(tmp_path / "o.wav"))
    assert res.code == 2 and res.err.count("\n") == 1 and "config.json" in res.err
    res = run_cli("render", "--model", str(path), "--gestures", gestures, "--out",
                  str(tmp_path / "nodir" / "o.wav"))
    assert res.code == 2 and "does not exist" in res.err
