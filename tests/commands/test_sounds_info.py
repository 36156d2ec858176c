"""`instrument sounds info` prints values a musician reads, not a Python repr."""


def test_sounds_info_reads_in_words_and_plain_decimals(run_cli, tmp_path):
    bank = tmp_path / "b.npz"
    res = run_cli("sounds", "build", "--n", "40", "--seconds", "0.2", "--out", str(bank))
    assert res.code == 0, res.err
    res = run_cli("sounds", "info", str(bank))
    assert res.code == 0, res.err
    out = res.out
    assert "Config(" not in out and "e+0" not in out and "=" not in out
    assert "features: 64 log-spaced FFT bands 30.0 Hz..11025 Hz, Hann window, 0..1 over 80 dB" in out
    carrier = next(line for line in out.splitlines() if line.strip().startswith("carrier_hz"))
    assert " Hz.." in carrier and "median" in carrier
    assert "widest FM band (Carson's rule)" in out and "fits under the 22050 Hz Nyquist" in out
