"""output/pyo_sampler.py: the live pyo sampler plays, block by block, what the numpy sampler
voice plays (and so what render writes), on a manual server and a real jackd stream; perform
and render take --sampler-mode."""

import threading
import time

import numpy as np
import pytest
import soundfile as sf
from tiny_model import tiny_parts, write_strokes

from instrument.errors import AudioDeviceError, BadInput
from instrument.output.pyo_sampler import PyoSamplerVoice, lane_count, render_slices_pyo
from instrument.output.sampler_voice import SamplerVoice
from instrument.sound.sampler import SAMPLER_MODES, render_slices

RATE = 22050


@pytest.fixture(scope="module")
def slices():
    rng = np.random.default_rng(0)
    return [(rng.standard_normal(int(RATE * d)) * 0.3).astype(np.float32)
            for d in (0.3, 0.05, 0.5, 0.2, 0.021)]


def play_manual(voice, changes, blocks, mute_at=None):
    """Drive a manual-backend voice block by block; the mono output it computed."""
    import pyo

    voice.start()
    try:
        table = pyo.NewTable(length=(blocks + 1) * voice.block / RATE, chnls=1)
        rec = pyo.TableRec(voice.output, table=table).play()
        for block in range(blocks):
            if block in changes:
                voice.set_params([changes[block]])
            if block == mute_at:
                voice.mute(True)
            voice.process(1)
        audio = np.asarray(table.getBuffer())[:blocks * voice.block].copy()
        del rec, table
    finally:
        voice.stop()
    return audio


def play_sounddevice_callback(voice, changes, blocks, mute_at=None):
    out = []
    for block in range(blocks):
        if block in changes:
            voice.set_params([changes[block]])
        if block == mute_at:
            voice.mute(True)
        data = np.zeros((voice.blocksize, 1), np.float32)
        voice.callback(data, voice.blocksize, None, None)
        out.append(data[:, 0])
    return np.concatenate(out)


@pytest.mark.parametrize("mode", ["start", "loop", "grain"])
def test_pyo_offline_render_is_the_numpy_render(slices, mode):
    times = np.array([0.0, 0.1, 0.1004, 0.35, 0.6, 0.61, 0.9])
    sounds = np.array([0, 1, 2, 3, 0, 1, 3])
    a = render_slices(times, sounds, slices, 1.5, RATE, mode)
    b = render_slices_pyo(times, sounds, slices, 1.5, RATE, mode)
    # pyo reads the float32 tables and multiplies in float32 like numpy: equal to rounding
    assert np.abs(a - b).max() <= 1e-6
    assert np.abs(a).max() > 0.5


def test_pyo_offline_render_takes_many_frames_in_one_block(slices):
    # 30 frames on 3 samples, then one every 7 samples: every one at its own sample
    times = np.concatenate([np.repeat([0.01, 0.0101, 0.02], 10), 0.05 + np.arange(200) * 7 / RATE])
    sounds = np.arange(len(times)) % len(slices)
    a = render_slices(times, sounds, slices, 0.4, RATE, "loop")
    b = render_slices_pyo(times, sounds, slices, 0.4, RATE, "loop")
    assert np.abs(a - b).max() <= 1e-6 and np.abs(a).max() > 0.3
    with pytest.raises(BadInput, match="slices must be whole numbers 0..4"):
        render_slices_pyo([0.0], [5], slices, 0.1, RATE)
    with pytest.raises(BadInput, match="non-decreasing"):
        render_slices_pyo([0.1, 0.0], [0, 1], slices, 0.2, RATE)


@pytest.mark.parametrize("mode", ["start", "loop", "grain"])
def test_pyo_sampler_plays_what_render_writes_block_by_block(slices, mode):
    changes = {0: 0, 3: 2, 4: 1, 9: 3, 10: 4, 30: 0, 31: 4}   # block -> slice chosen
    live = play_manual(PyoSamplerVoice(slices, "manual", RATE, 256, mode), changes, 70)
    times = np.array(sorted(changes)) * 256 / RATE
    offline = render_slices(times, np.array([changes[b] for b in sorted(changes)]), slices,
                            70 * 256 / RATE, RATE, mode)
    # pyo reads the float32 tables and multiplies by the same float32 gains: equal to rounding
    assert np.abs(live - offline).max() <= 1e-6
    assert np.abs(offline).max() > 0.5


def test_pyo_sampler_mutes_like_the_sounddevice_voice_and_never_runs_out_of_lanes(slices):
    # a switch every block, among slices down to 21 ms, in loop mode: the most voices at once
    rng = np.random.default_rng(4)
    changes = {b: int(rng.integers(0, len(slices))) for b in range(0, 120, 1)}
    for mode in SAMPLER_MODES:
        pyo_voice = PyoSamplerVoice(slices, "manual", RATE, 128, mode)
        live = play_manual(pyo_voice, changes, 160, mute_at=130)
        numpy_voice = SamplerVoice(slices, RATE, 128, mode)
        expected = play_sounddevice_callback(numpy_voice, changes, 160, mute_at=130)
        assert pyo_voice.dropped == 0, mode
        assert np.abs(live - expected).max() <= 1e-6, mode
        assert np.all(live[-128:] == 0), mode     # muted: faded to silence
    assert lane_count(pyo_voice.sampler, 128) >= pyo_voice.sampler.grains.overlap + 2


def test_pyo_sampler_checks_its_arguments_and_the_jack_server(slices, monkeypatch):
    with pytest.raises(BadInput, match="backend"):
        PyoSamplerVoice(slices, "offline")
    with pytest.raises(BadInput, match="buffer"):
        PyoSamplerVoice(slices, "manual", buffer=8)
    voice = PyoSamplerVoice(slices, "manual", RATE)
    with pytest.raises(BadInput, match="slice 9"):
        voice.set_params([9])
    with pytest.raises(BadInput, match="manual"):
        voice.process()
    import instrument.output.pyo_voice as pyo_voice

    monkeypatch.setattr(pyo_voice, "jack_running", lambda timeout=5.0: False)
    with pytest.raises(AudioDeviceError, match="start jackd"):
        PyoSamplerVoice(slices, "jack", RATE).start()


@pytest.mark.slow
def test_pyo_sampler_streams_through_a_real_jack_server(slices):
    import pyo
    from _jack import jack_server

    with jack_server(rate=RATE, period=256):
        voice = PyoSamplerVoice(slices, "jack", RATE, 256, "grain").start()
        try:
            table = pyo.NewTable(length=1.0, chnls=1)
            rec = pyo.TableRec(voice.output, table=table).play()
            setter = threading.Thread(
                target=lambda: [(voice.set_params([i % 4]), time.sleep(0.05))
                                for i in range(10)])
            setter.start()
            setter.join()
            time.sleep(0.5)
            audio = np.asarray(table.getBuffer()).copy()
            del rec, table
        finally:
            voice.stop()
    # JACK ran the voice at its own pace (86 blocks/s at 22050 Hz / 256) and it sounded
    assert 40 <= voice.callbacks <= 200, voice.callbacks
    assert voice.sampler.current == 1 and voice.dropped == 0
    assert np.isfinite(audio).all() and np.abs(audio).max() > 0.3


def test_sampler_mode_is_refused_for_a_model_without_an_audio_bank(run_cli, tmp_path):
    from instrument.formats.bundle import save_bundle

    config, arrays, _ = tiny_parts(seed=3)
    save_bundle(tmp_path / "model", config, arrays)
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=2, seed=5)
    res = run_cli("render", "--model", str(tmp_path / "model"), "--gestures", gestures,
                  "--out", str(tmp_path / "a.wav"), "--sampler-mode", "grain")
    assert res.code == 2 and "--sampler-mode plays an audio-bank model" in res.err
    assert len(res.err.strip().splitlines()) == 1
    res = run_cli("perform", "--model", str(tmp_path / "model"), "--replay", gestures,
                  "--headless", "--fast", "--audio", "none", "--no-osc",
                  "--sampler-mode", "loop")
    assert res.code == 2 and "leave out --sampler-mode" in res.err
    res = run_cli("render", "--model", str(tmp_path / "model"), "--gestures", gestures,
                  "--out", str(tmp_path / "a.wav"), "--sampler-mode", "grains")
    assert res.code == 2 and "grain" in res.err


def test_the_cli_offers_the_sampler_modes():
    from instrument.commands.perform import SAMPLER_MODES as CLI_MODES

    assert CLI_MODES == SAMPLER_MODES


@pytest.mark.slow
def test_an_audio_model_renders_grains_and_performs_them_through_pyo_on_jack(run_cli,
                                                                              tmp_path,
                                                                              audio_model):
    from _jack import jack_server

    _, gestures, model = audio_model   # conftest: 2 takes' slices, trained on 12 s of strokes
    wavs = {}
    for engine in ("numpy", "pyo"):
        for mode in ("start", "grain"):
            out = str(tmp_path / f"{engine}-{mode}.wav")
            res = run_cli("render", "--model", model, "--gestures", gestures, "--out", out,
                          "--engine", engine, "--sampler-mode", mode)
            assert res.code == 0, res.err
            wavs[engine, mode] = sf.read(out)[0]
    assert np.abs(wavs["numpy", "grain"] - wavs["pyo", "grain"]).max() <= 1 / 32767
    assert np.abs(wavs["numpy", "grain"] - wavs["numpy", "start"]).max() > 0.05  # it differs
    assert np.abs(wavs["numpy", "grain"]).max() > 0.1
    with jack_server(rate=44100, period=256):
        res = run_cli("perform", "--model", model, "--replay", gestures, "--headless",
                      "--audio", "pyo", "--audio-backend", "jack", "--sampler-mode", "grain",
                      "--no-osc", "--seconds", "4")
    assert res.code == 0, res.err
