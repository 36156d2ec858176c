"""render.py: the offline control stream and audio are deterministic and follow the contract;
the control stream -> audio render by either engine."""

import numpy as np
import pytest
from tiny_model import tiny_parts, write_strokes

from instrument.errors import BadInput, DataFileError
from instrument.formats.bundle import save_bundle
from instrument.live.render import render_controls
from instrument.sound.smoothed_fm import PORT_OFFSET_S, SmoothedFM

RATE = 44100


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("render")
    config, arrays, _ = tiny_parts(seed=3)
    save_bundle(folder / "model", config, arrays)
    gestures = write_strokes(folder / "g.jsonl", seconds=4, seed=5)
    return folder / "model", gestures


def test_render_is_deterministic_and_follows_the_csv_contract(model, tmp_path):
    from instrument.formats.controls import read_controls_csv
    from instrument.formats.recording import read_recording
    from instrument.formats.wav import read_wav
    from instrument.gesture.steps import frames_from_recording
    from instrument.live.render import render
    from instrument.runtime import Runtime

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
    moved = sounds[1:] != sounds[:-1]
    assert rt.blend_k > 1 and not np.allclose(params, rt.bank_params[sounds])  # a glide ...
    # ... between bank sounds: every carrier within the bank's range, and the stream moves
    assert params[:, 0].min() >= rt.bank_params[:, 0].min() - 1e-3
    assert moved.any()
    audio, rate = read_wav(str(tmp_path / "a.wav"))
    assert rate == 8000 and len(audio) == round(a["seconds"] * 8000)
    assert np.abs(audio).max() > 0.01  # something is heard


def test_render_with_pyo_engine(model, tmp_path):
    from instrument.formats.wav import read_wav
    from instrument.live.render import render

    path, gestures = model
    info = render(path, gestures, tmp_path / "p.wav", engine="pyo", rate=8000)
    audio, _ = read_wav(str(tmp_path / "p.wav"))
    assert info["controls"] is None and len(audio) == round(info["seconds"] * 8000)


def test_render_errors(model, tmp_path):
    from instrument.formats.controls import read_controls_csv
    from instrument.live.render import render

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
                  str(tmp_path / "o2.wav"))
    assert res.code == 2 and res.err.count("\n") == 1 and "config.json" in res.err
    res = run_cli("render", "--model", str(path), "--gestures", gestures, "--out",
                  str(tmp_path / "o.wav"))
    assert res.code == 2 and "already exists" in res.err and "--force" in res.err


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


@pytest.mark.parametrize("rate", [22050, 44100])
def test_pyo_equals_numpy_on_random_frames_above_nyquist(rate):
    # benchmarks/sound.py's engines() stream, shorter: random frames at 100 Hz, a sixth to a
    # third of them with an FM band wider than Nyquist. Measured (seeds 0..3): rms 0.0006..0.003,
    # max 0.004..0.02 (float32 phase drift); the pyo engine without the cap: rms 0.24..0.54.
    from instrument.sound.params import PARAM_TABLE, carson_bandwidth

    times = np.arange(0, 2.0, 0.01)
    params = PARAM_TABLE.to_physical(np.random.default_rng(0).random((len(times), 4)))
    assert np.mean(carson_bandwidth(params) > rate / 2) > 0.15  # the stream is aliasing-prone
    ours = render_controls(times, params, 2.0, rate, 0.01, engine="numpy")
    theirs = render_controls(times, params, 2.0, rate, 0.01, engine="pyo")
    assert np.sqrt(np.mean((ours - theirs) ** 2)) < 0.01
    assert np.abs(ours - theirs).max() < 0.06


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
