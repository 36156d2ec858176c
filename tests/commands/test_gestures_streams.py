"""`gestures info` / `gestures plot` on streams that are not a pointer."""

from __future__ import annotations

import json

from stream_helpers import write_stream_file


def test_info_and_plot_of_a_16_channel_stream(run_cli, tmp_path):
    path = write_stream_file(tmp_path / "s.jsonl", width=16, seconds=5, seed=2, buttons=2)
    res = run_cli("gestures", "info", path)
    assert res.code == 0, res.err
    assert "16 channels (in1..button2)" in res.out and "source test" in res.out
    res = run_cli("gestures", "info", path, "--json")
    info = json.loads(res.out)
    assert info["channels"] == 16 and len(info["ranges"]) == 16
    assert 0 < info["still_share"] < 1 and info["rejected_samples"] == 0
    assert all(0 <= lo <= hi <= 1 for lo, hi in info["ranges"])
    out = tmp_path / "s.png"
    res = run_cli("gestures", "plot", path, "--out", str(out))
    assert res.code == 0, res.err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
