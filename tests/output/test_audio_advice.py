"""Audio errors name the flag that fixes them, and never PortAudio jargon alone."""

import subprocess
import sys

import pytest

from instrument.output.audio_advice import audio_advice, plain_portaudio


def test_jackd_running_with_pyo_portaudio_says_add_the_jack_backend():
    fix = audio_advice("pyo", "portaudio", jack_is_running=True)
    assert fix.startswith("jackd is running: add --audio-backend jack")
    assert "--audio none" in fix


def test_jack_backend_without_jackd_says_start_it_or_drop_the_flag():
    fix = audio_advice("pyo", "jack", jack_is_running=False)
    assert "start jackd" in fix and "drop --audio-backend jack" in fix


@pytest.mark.parametrize("audio,backend,jack", [("sounddevice", "portaudio", False),
                                                ("sounddevice", "portaudio", True),
                                                ("pyo", "portaudio", False)])
def test_every_case_names_a_flag(audio, backend, jack):
    assert "--audio" in audio_advice(audio, backend, jack)


def test_portaudio_text_comes_after_plain_words():
    text = plain_portaudio("Error querying device -1\nmore")
    assert text.startswith("the sound card could not be opened for output")
    assert "PortAudio said: Error querying device -1)" in text and "more" not in text


def test_perform_without_a_device_names_the_flags(tmp_path):
    # no sound card and no jackd here: perform's voice fails, the line names --audio none
    from tiny_model import tiny_parts, write_strokes

    from instrument.formats.bundle import save_bundle
    from instrument.output.pyo_voice import jack_running

    if jack_running():
        pytest.skip("a JACK server is running on this machine")
    config, arrays, _ = tiny_parts(seed=7)
    save_bundle(tmp_path / "m", config, arrays)
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=2)
    env = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "PYO_GUI_WX": "0",
           "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "instrument", "perform", "--model",
                           str(tmp_path / "m"), "--replay", gestures, "--audio", "sounddevice",
                           "--no-osc"], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "--audio none" in proc.stderr
