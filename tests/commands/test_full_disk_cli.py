"""Commands on full and read-only disks (a real small tmpfs): one line, exit 2, no stray file."""

from __future__ import annotations

from small_disk import listing, tmpfs
from tiny_model import write_strokes


def _one_line(res, *words):
    assert res.code == 2, res.err
    assert res.err.count("\n") == 1 and "Traceback" not in res.err, res.err
    for word in words:
        assert word in res.err, res.err


def test_gestures_synth_on_a_full_disk(run_cli, tmp_path):
    with tmpfs(tmp_path / "disk", "64k") as disk:
        res = run_cli("gestures", "synth", "--seconds", "300", "--out", str(disk / "s.jsonl"))
        _one_line(res, "s.jsonl", "free some disk space")
        assert listing(disk) == []  # no .part, no temporary


def test_train_and_plot_on_a_read_only_disk(run_cli, tmp_path):
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=2, seed=1)
    with tmpfs(tmp_path / "disk", "64k", read_only=True) as disk:
        # said before training starts: nothing is computed for a model that cannot be saved
        _one_line(run_cli("train", "--gestures", gestures, "--out", str(disk / "models" / "m")),
                  "read-only")
        _one_line(run_cli("gestures", "plot", gestures, "--out", str(disk / "p.png")),
                  "read-only")
        _one_line(run_cli("train", "--gestures", gestures, "--out", str(tmp_path / "m"),
                          "--report", str(disk / "r.png")), "--report", "read-only")
        assert listing(disk) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disk", "g.jsonl"]
