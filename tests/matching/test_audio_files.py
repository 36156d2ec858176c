"""Audio files -> pooled spectral features, through real soundfile files of every format."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from instrument.errors import DataFileError
from instrument.matching import audio_files


def sine(freq, seconds, rate, amp=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize("ext,fmt,subtype", [("wav", "WAV", "PCM_16"), ("flac", "FLAC", "PCM_16"),
                                             ("ogg", "OGG", "VORBIS"),
                                             ("mp3", "MP3", "MPEG_LAYER_III")])
def test_every_format_gives_the_same_features_of_one_tone(tmp_path, ext, fmt, subtype):
    path = tmp_path / f"tone.{ext}"
    sf.write(path, sine(440, 1.0, 22050), 22050, format=fmt, subtype=subtype)
    feats = audio_files.file_features(path)
    assert feats.shape == (audio_files.feature_width(),) and feats.dtype == np.float32
    reference = audio_files.audio_features(sine(440, 1.0, 22050), 22050)
    # Lossy codecs (Vorbis, MP3) change the quiet bands far from 440 Hz; where the tone is,
    # the mean level agrees to 0.05 of the 80 dB scale (4 dB).
    band = int(np.argmax(reference[:audio_files.FEATURES.n_bands]))
    assert abs(feats[band] - reference[band]) < 0.05
    if ext in ("wav", "flac"):  # 16-bit PCM: quantisation noise only, below -90 dB
        assert np.abs(feats - reference).max() < 0.02


def test_the_tone_sits_in_its_band_and_rates_agree(tmp_path):
    low = audio_files.audio_features(sine(440, 1.0, 22050), 22050)
    high = audio_files.audio_features(sine(440, 1.0, 44100), 44100)
    n = audio_files.FEATURES.n_bands
    assert np.argmax(low[:n]) == np.argmax(high[:n])
    # Band edges are in Hz, so the two rates give the same mean spectrum where the tone is.
    assert np.abs(low[:n] - high[:n]).max() < 0.05
    steady = low[n:]  # a steady tone: its frames hardly differ
    assert steady.max() < 0.02


def test_stereo_is_mixed_and_only_the_first_minute_is_read(tmp_path):
    path = tmp_path / "long.wav"
    rate = 8000
    left = np.concatenate([sine(300, 61, rate), np.ones(rate, np.float32) * 0])
    sf.write(path, np.stack([left, left], axis=1), rate)
    audio, got_rate = audio_files.read_audio(path)
    assert got_rate == rate and audio.ndim == 1
    assert len(audio) == int(audio_files.MAX_SECONDS * rate)


@pytest.mark.parametrize("content,words", [
    (b"", "cannot be decoded"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt garbage", "cannot be decoded"),
    (b"not audio at all" * 10, "cannot be decoded"),
])
def test_bad_files_are_one_line_naming_them(tmp_path, content, words):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(DataFileError) as err:
        audio_files.file_features(path)
    assert str(path) in str(err.value) and words in str(err.value)
    assert "\n" not in str(err.value)


def test_too_short_and_empty_audio_are_refused(tmp_path):
    short = tmp_path / "short.wav"
    sf.write(short, sine(440, 0.05, 22050), 22050)
    with pytest.raises(DataFileError, match="shorter than one 100 ms analysis frame"):
        audio_files.file_features(short)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.float32), 22050)
    with pytest.raises(DataFileError, match="no samples"):
        audio_files.file_features(empty)


def test_sample_rate_out_of_range_is_refused(tmp_path):
    path = tmp_path / "slow.wav"
    sf.write(path, np.zeros(4000, np.float32), 4000)
    with pytest.raises(DataFileError, match="sample rate 4000 Hz"):
        audio_files.read_audio(path)


def test_reading_only_the_frames_gives_the_features_of_the_whole_read(tmp_path, rng):
    rate = 16000
    t = np.arange(3 * rate) / rate
    chirp = 0.4 * np.sin(2 * np.pi * (200 + 300 * t) * t) + 0.05 * rng.normal(size=len(t))
    path = tmp_path / "chirp.flac"
    sf.write(path, np.stack([chirp, -0.5 * chirp], axis=1).astype(np.float32), rate)
    whole, got_rate = audio_files.read_audio(path)
    # the same samples go through the same FFTs: equal to float32 rounding
    np.testing.assert_allclose(audio_files.file_features(path),
                               audio_files.audio_features(whole, got_rate), atol=1e-6)
    assert audio_files.file_features(path)[64:].max() > 0.02  # a chirp changes over time
