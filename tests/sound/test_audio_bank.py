"""Audio-file banks: every format soundfile writes here, resampling, slicing, broken and huge
files, source files that moved or changed, and the CLI."""

import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
import soundfile as sf
from conftest import ROOT
from scipy.signal import resample_poly

from instrument.config import FeatureConfig, SoundConfig
from instrument.errors import DataFileError
from instrument.sound.audio_bank import build_audio_bank, slice_features
from instrument.sound.audio_files import mono_blocks, open_audio
from instrument.sound.bank import SoundBank
from instrument.sound.features import spectral_features

CFG = SoundConfig(rate=22050, seconds=0.5)
FORMATS = [("wav", "WAV", "PCM_16"), ("wav24", "WAV", "PCM_24"), ("wavf", "WAV", "FLOAT"),
           ("flac", "FLAC", "PCM_16"), ("ogg", "OGG", "VORBIS"), ("aiff", "AIFF", "PCM_16"),
           ("mp3", "MP3", "MPEG_LAYER_III")]


def bursts(rate, times=(0.2, 0.8, 1.5), seconds=2.2, channels=2):
    x = np.zeros(int(seconds * rate))
    for i, a in enumerate(times):
        t = np.arange(int(0.4 * rate)) / rate
        start = int(a * rate)
        x[start:start + len(t)] += 0.5 * np.sin(2 * np.pi * 300 * (i + 1) * t) * np.exp(-20 * t)
    return np.stack([x] * channels, 1) if channels > 1 else x


def write(path, fmt="WAV", subtype="PCM_16", rate=44100, data=None):
    sf.write(path, bursts(rate) if data is None else data, rate, format=fmt, subtype=subtype)
    return str(path)


@pytest.mark.parametrize("ext,fmt,subtype", FORMATS)
def test_every_format_soundfile_writes_here(tmp_path, ext, fmt, subtype):
    if fmt not in sf.available_formats():
        pytest.skip(f"this libsndfile has no {fmt}")
    path = write(tmp_path / f"a.{ext.rstrip('24f')}", fmt, subtype)
    bank, report = build_audio_bank([path], str(tmp_path / "bank.npz"), CFG, log=print)
    assert report.files_used == 1 and len(bank) == 3  # three bursts, leading silence dropped
    starts = bank.sources.slices[:, 1] / CFG.rate
    # lossy codecs add a little delay (MP3 ~1 frame), so allow 40 ms here; onset accuracy on
    # exact audio is tested in test_onsets.py
    np.testing.assert_allclose(starts, [0.2, 0.8, 1.5], atol=0.04)
    assert bank.descriptors.shape == (3, 6) and bank.kind == "audio"


@pytest.mark.parametrize("rate", [8000, 44100, 48000, 96000])
def test_streamed_resampling_equals_resampling_the_whole_file(tmp_path, rate):
    data = bursts(rate, channels=1).astype(np.float32)
    path = write(tmp_path / "r.wav", "WAV", "FLOAT", rate, data)
    info = open_audio(path, 22050)
    got = np.concatenate([b for _, b in mono_blocks(info, block_seconds=0.3)])
    ref = resample_poly(data.astype(np.float64), *_ratio(rate, 22050))
    assert len(got) == len(ref) == info.bank_frames
    # float32 block arithmetic against one float64 pass: rounding only
    assert np.abs(got - ref).max() < 1e-6


def _ratio(src, dst):
    from math import gcd
    g = gcd(src, dst)
    return dst // g, src // g


def test_slice_features_equal_the_fm_features_and_read_short_sines_at_0_db():
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal((3, 11025)) * 0.3).astype(np.float32)
    np.testing.assert_allclose(slice_features(list(audio), 11025, 22050, FeatureConfig()),
                               spectral_features(audio, 22050), atol=1e-6)
    for length in (11025, 4000, 2000):  # a full-scale sine's band power sums to 1 (0 dB)
        sine = np.sin(2 * np.pi * 1000 * np.arange(length) / 22050).astype(np.float32)
        feats = slice_features([sine], 11025, 22050, FeatureConfig())[0]
        power = 10 ** ((feats.astype(np.float64) - 1) * 8)  # undo the 80 dB mapping
        assert power[feats > 0].sum() == pytest.approx(1.0, rel=0.05)


def test_broken_empty_and_unreadable_files_are_skipped_with_a_line(tmp_path):
    good = write(tmp_path / "good.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "junk.flac").write_bytes(b"not audio at all" * 10)
    cut = tmp_path / "cut.wav"  # a WAV whose data stops a third of the way in
    cut.write_bytes(open(good, "rb").read()[:60000])
    lines = []
    bank, report = build_audio_bank([str(tmp_path)], str(tmp_path / "b.npz"), CFG,
                                    log=lines.append)
    assert report.files_used == 2 and len(report.skipped) == 2
    assert any("empty.wav is empty" in line for line in lines)
    assert any("junk.flac cannot be read" in line for line in lines)
    assert len(lines) == 2
    with pytest.raises(DataFileError, match="no usable sound"):
        build_audio_bank([str(tmp_path / "empty.wav")], str(tmp_path / "b.npz"), CFG,
                         log=lines.append)


def test_fixed_and_whole_slicing(tmp_path):
    path = write(tmp_path / "a.wav")
    bank, _ = build_audio_bank([path], str(tmp_path / "b.npz"), CFG, mode="fixed",
                               fixed_seconds=0.5)
    assert list(bank.sources.slices[:, 2]) == [11025] * 4  # 2.0..2.2 s is silent: left out
    whole, _ = build_audio_bank([path], str(tmp_path / "b.npz"), CFG, mode="whole",
                                max_slice_seconds=None)
    assert whole.sources.slices.tolist() == [[0, 0, int(2.2 * 22050)]]


def test_a_moved_or_changed_source_is_named_at_load(tmp_path):
    path = write(tmp_path / "a.wav")
    bank, _ = build_audio_bank([path], str(tmp_path / "b.npz"), CFG)
    bank.save(str(tmp_path / "b.npz"))
    assert len(SoundBank.load(str(tmp_path / "b.npz"))) == 3
    with open(path, "ab") as fh:  # changed: one more byte
        fh.write(b"\0")
    with pytest.raises(DataFileError, match=r"a\.wav has changed since the bank was built"):
        SoundBank.load(str(tmp_path / "b.npz"))
    os.rename(path, tmp_path / "elsewhere.wav")
    with pytest.raises(DataFileError, match=r"a\.wav has moved or been deleted"):
        SoundBank.load(str(tmp_path / "b.npz"))
    # same size, other content: the full (sha256) check names it
    write(path, data=bursts(44100) * 0.5)
    loaded = SoundBank.load(str(tmp_path / "b.npz"))
    with pytest.raises(DataFileError, match="content hash differs"):
        loaded.sources.check(full=True)


def test_embedded_audio_plays_without_the_files(tmp_path):
    path = write(tmp_path / "a.wav")
    bank, _ = build_audio_bank([path], str(tmp_path / "b.npz"), CFG, embed=True)
    bank.save(str(tmp_path / "b.npz"))
    os.remove(path)
    loaded = SoundBank.load(str(tmp_path / "b.npz"))
    audio = loaded.sources.all_slices()
    assert [len(a) for a in audio] == list(loaded.sources.slices[:, 2])
    assert max(float(np.abs(a).max()) for a in audio) == pytest.approx(0.5, abs=0.01)


@pytest.mark.slow
def test_a_six_hour_silent_file_is_skipped_in_bounded_memory(tmp_path):
    path = tmp_path / "six_hours.flac"
    silence = np.zeros(8000 * 60, np.int16)
    with sf.SoundFile(path, "w", 8000, 1, "PCM_16") as fh:
        for _ in range(6 * 60):  # FLAC of silence: 0.5 MB on disk for 6 hours
            fh.write(silence)
    write(tmp_path / "short.wav")
    lines = []
    tracemalloc.start()
    try:
        bank, report = build_audio_bank([str(tmp_path)], str(tmp_path / "b.npz"),
                                        SoundConfig(rate=8000, seconds=0.5), log=lines.append)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.files_used == 1 and len(bank) == 3
    assert lines == [f"skipped: audio file {path} has no sound above -80 dBFS"]
    # 6 h at 8 kHz is 691 MB as float32; the build holds blocks and the onset curve only
    assert peak < 100e6


def test_cli_builds_and_describes_an_audio_bank(tmp_path):
    write(tmp_path / "a.wav")
    (tmp_path / "broken.wav").write_bytes(b"RIFF....WAVE")
    env = dict(os.environ, PYO_GUI_WX="0")
    run = subprocess.run([sys.executable, "-m", "instrument", "sounds", "build", "--from-audio",
                          str(tmp_path), "--out", str(tmp_path / "b.npz"), "--seconds", "0.5"],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "audio bank: 3 slices from 1 file(s)" in run.stdout and "1 skipped" in run.stdout
    assert run.stderr.count("skipped:") == 1 and "broken.wav" in run.stderr
    info = subprocess.run([sys.executable, "-m", "instrument", "sounds", "info",
                           str(tmp_path / "b.npz")], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=60)
    assert "audio bank, 3 slices from 1 file(s)" in info.stdout
    bad = subprocess.run([sys.executable, "-m", "instrument", "sounds", "build", "--from-audio",
                          str(tmp_path / "broken.wav"), "--out", str(tmp_path / "c.npz")],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith(
        "instrument: error: no usable sound")
