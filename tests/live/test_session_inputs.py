"""perform's inputs and cleanup: long pauses replay as offline, a failing voice stop still
closes everything, OSC input listens where it is told and says so."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_model import tiny_parts

from instrument import cli
from instrument.config import GestureConfig, config_from_dict
from instrument.errors import AudioDeviceError
from instrument.formats.bundle import Bundle, save_bundle
from instrument.formats.recording import Recording, make_header, write_recording
from instrument.gesture.steps import frames_from_recording
from instrument.gesture.tracker import GestureTracker
from instrument.live import loop as live_loop
from instrument.live import session
from instrument.runtime import Runtime


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    config, arrays, _ = tiny_parts(seed=3)
    path = str(tmp_path_factory.mktemp("inputs") / "model")
    save_bundle(path, config, arrays)
    return path, config, arrays


def _paused_recording() -> Recording:
    """Strokes, then a 10-hour pause, then more strokes (t near 36000 s)."""
    t = np.concatenate([np.arange(0, 1, 0.012), 36000 + np.arange(0, 1, 0.012)])
    x = 400 + 200 * np.cos(t * 3.0)
    y = 300 + 150 * np.sin(t * 2.0)
    return Recording(make_header(800, 600), 800, 600, t, x, y)


def test_replay_of_a_10_hour_pause_is_the_offline_frames_and_bounded(model):
    _, config, arrays = model
    rec = _paused_recording()
    runtime = Runtime(Bundle("(test)", config, arrays))
    cfg = config_from_dict(GestureConfig, config["configs"]["gesture"])
    rows = []
    loop = live_loop.ControlLoop(runtime, GestureTracker(cfg, 800, 600),
                                 on_frame=lambda t, s, p: rows.append((t, s)))
    live_loop.replay_recording(loop, rec, realtime=False)
    times, windows = frames_from_recording(rec, cfg)
    sounds, _ = Runtime(Bundle("(test)", config, arrays)).play(windows)
    # the pause plays as 10 s of stillness: about 1000 still frames, not 3.6 million
    assert len(times) < 2 * len(rec.t) + 1100     # a still frame in each 12 ms gap, too
    np.testing.assert_array_equal([r[0] for r in rows], times)
    np.testing.assert_array_equal([r[1] for r in rows], sounds)


def test_cli_replay_says_a_long_pause_is_shortened(model, tmp_path, capsys):
    path, _, _ = model
    rec_path = str(tmp_path / "paused.jsonl")
    write_recording(rec_path, _paused_recording())
    code = cli.main(["perform", "--model", path, "--replay", rec_path, "--headless",
                     "--audio", "none", "--no-osc", "--fast"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"note: 1 pause longer than 10 s in {rec_path} is played as 10 s of stillness" in out


class _VoiceThatFailsToStop:
    """A voice whose stop() raises, as a crashed audio server's would."""

    def __init__(self):
        self.changes = 0

    def set_params(self, physical, at=None):
        self.changes += 1

    def mute(self, muted):
        pass

    def stop(self):
        raise AudioDeviceError("the audio server did not stop (test)")


def test_cleanup_closes_window_osc_and_controls_when_the_voice_fails_to_stop(
        model, tmp_path, monkeypatch, capsys):
    path, _, _ = model
    rec_path = str(tmp_path / "g.jsonl")
    t = np.arange(0, 0.5, 0.01)
    write_recording(rec_path, Recording(make_header(800, 600), 800, 600, t,
                                        400 + 100 * np.cos(t * 9), 300 + 80 * np.sin(t * 7)))
    voice = _VoiceThatFailsToStop()
    monkeypatch.setattr(session, "open_voices", lambda *args, **kwargs: [voice])
    opened = {}

    from instrument.live import view as view_module
    from instrument.output import osc as osc_module

    class RecordedOscOut(osc_module.OscOut):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            opened["osc"] = self

    class DummyDisplayView(view_module.LiveView):
        """The real window on SDL's dummy driver (no display needed)."""

        def __init__(self, runtime, rec=None, fps=60.0):
            super().__init__(runtime, rec, fps=fps, allow_dummy=True)
            opened["view"] = self

    monkeypatch.setattr(osc_module, "OscOut", RecordedOscOut)
    monkeypatch.setattr(view_module, "LiveView", DummyDisplayView)
    controls = tmp_path / "played.csv"
    code = cli.main(["perform", "--model", path, "--replay", rec_path, "--audio", "none",
                     "--osc", "127.0.0.1:9", "--controls", str(controls), "--fast"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and voice.changes > 0
    assert err == "instrument: error: the audio server did not stop (test)"   # one line
    assert all(sock.fileno() == -1 for sock in opened["osc"]._sockets)       # OSC closed
    import pygame

    assert not pygame.display.get_init() or pygame.display.get_surface() is None  # window gone
    assert controls.exists() and not (tmp_path / "played.csv.part").exists()   # file closed
    assert controls.read_text().startswith("t,sound,")


def _free_udp_port(host="127.0.0.1") -> int:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("where, host, words", [
    ("PORT", "127.0.0.1", "127.0.0.1:{port}, from this machine only"),
    ("[::1]:PORT", "::1", "[::1]:{port}, from this machine only"),
    ("0.0.0.0:PORT", "0.0.0.0", "0.0.0.0:{port}, open to the network"),
])
def test_osc_in_listens_where_told_and_says_so(model, capsys, where, host, words):
    path, _, _ = model
    port = _free_udp_port(host)
    code = cli.main(["perform", "--model", path, "--headless", "--audio", "none", "--no-osc",
                     "--osc-in", where.replace("PORT", str(port)), "--seconds", "0.2"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Listening for /wek/inputs on UDP " + words.format(port=port) in out
