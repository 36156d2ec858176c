"""The pyo voice (offline and manual servers only), device checks, voice argument checks, and
`instrument synth`."""

from __future__ import annotations

import os
import threading
import time
import wave

import numpy as np
import pytest

from instrument.errors import AudioDeviceError, BadInput
from instrument.formats.wav import read_wav
from instrument.output.pyo_voice import PyoVoice, check_output_device
from instrument.output.sounddevice_voice import SoundDeviceVoice
from instrument.sound.fm import render_fm
from instrument.sound.params import PARAM_TABLE

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


# --- the synth command ---------------------------------------------------------------------------

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
