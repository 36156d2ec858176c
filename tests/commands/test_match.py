"""`instrument match` as a user runs it: the generated demo, JSON + PNG, the output rule, errors."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from instrument.matching.generate import pairs_text


def one_line(res, *words):
    assert res.code == 2, res.err
    assert res.err.count("\n") == 1 and "Traceback" not in res.err, res.err
    for word in words:
        assert word in res.err, res.err


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from conftest import run_cli_process

    root = tmp_path_factory.mktemp("matchdemo") / "demo"
    res = run_cli_process("match", "--generate-demo", str(root))
    assert res.code == 0, res.err
    assert "instrument match --audio" in res.out
    return root


def fingerprint(folder):
    """Every file under ``folder`` and a hash of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_demo_end_to_end_json_png_and_figures(run_cli, demo, tmp_path):
    before = fingerprint(demo)
    (demo / "audio" / "tones" / "broken.wav").write_bytes(b"RIFF....WAVEnonsense")
    try:
        out = tmp_path / "matches"
        res = run_cli("match", "--audio", str(demo / "audio"), "--images", str(demo / "images"),
                      "--labels", str(demo / "labels.csv"), "--pairs", pairs_text(),
                      "--truth", str(demo / "truth.csv"), "--out", str(out))
    finally:
        (demo / "audio" / "tones" / "broken.wav").unlink()
    assert res.code == 0, res.err
    assert "skipped audio file" in res.err and "broken.wav" in res.err
    assert "audio: 160 files read, 1 skipped" in res.err
    assert "top-10 in the matched category" in res.out
    data = json.loads((out / "matches.json").read_text())
    assert data["format"] == "instrument-matches" and data["version"] == 1
    assert len(data["audio"]) == 160 and len(data["images"]) == 160
    assert data["skipped"][0]["path"].endswith("broken.wav")
    first = data["audio"][0]
    assert set(first) == {"path", "category", "labelled", "best_images"}
    assert len(first["best_images"]) == 10
    distances = [b["distance"] for b in first["best_images"]]
    assert distances == sorted(distances)
    assert len(data["images"][0]["best_audio"]) == 10
    precision = data["quality"]["precision"]["audio_to_images"]
    assert precision["mean"] >= 0.9 and precision["chance"] == 0.25  # measured 0.97
    png = (out / "contact_sheet.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) < 400_000
    assert sorted(os.listdir(out)) == ["contact_sheet.png", "matches.json"]  # no temporaries
    assert fingerprint(demo) == before  # not one input file touched

    # An earlier match output is replaced without --force; no labels, --top 3, pixels.
    res = run_cli("match", "--audio", str(demo / "audio"), "--images", str(demo / "images"),
                  "--image-features", "pixels", "--top", "3", "--out", str(out), "--quiet")
    assert res.code == 0, res.err
    assert res.err == ""
    data = json.loads((out / "matches.json").read_text())
    assert data["image_features"] == "pixels" and data["labels"] is None and data["pairs"] is None
    assert len(data["audio"][5]["best_images"]) == 3 and data["audio"][5]["category"] is None
    assert "precision" not in data["quality"] and "structure" in data["quality"]


def test_out_folder_rules(run_cli, demo, tmp_path):
    base = ["match", "--audio", str(demo / "audio"), "--images", str(demo / "images")]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    one_line(run_cli(*base, "--out", str(mine)), "not empty", "--force")
    assert sorted(os.listdir(mine)) == ["notes.txt"]
    one_line(run_cli(*base, "--out", str(demo / "images" / "out")), "inside, or holds, --images")
    one_line(run_cli(*base, "--out", str(demo)), "holds, --audio")
    one_line(run_cli("match", "--generate-demo", str(mine)), "not empty")
    assert (mine / "notes.txt").read_text() == "precious"
    # a folder holding an earlier demo is the same kind of artefact: written again, no --force
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "demo.json").write_text('{\n  "format": "instrument-match-demo",\n  "version": 1\n}\n')
    res = run_cli("match", "--generate-demo", str(earlier))
    assert res.code == 0, res.err
    assert (earlier / "truth.csv").read_text().count("\n") == 321


@pytest.mark.parametrize("extra,words", [
    (["--pairs", "a=b"], "--pairs needs --labels"),
    (["--top", "0"], "must be >= 1"),
    (["--top", "500"], "more than 100"),
    (["--seed", "-1"], "must be >= 0"),
])
def test_bad_arguments_are_one_line(run_cli, demo, tmp_path, extra, words):
    res = run_cli("match", "--audio", str(demo / "audio"), "--images", str(demo / "images"),
                  "--out", str(tmp_path / "o"), *extra)
    one_line(res, words)


def test_missing_arguments_and_bad_labels(run_cli, demo, tmp_path):
    one_line(run_cli("match", "--audio", str(demo / "audio"), "--out", str(tmp_path / "o")),
             "--images is missing")
    bad = tmp_path / "labels.csv"
    bad.write_text("nowhere.wav,blues\n")
    one_line(run_cli("match", "--audio", str(demo / "audio"), "--images", str(demo / "images"),
                     "--labels", str(bad), "--out", str(tmp_path / "o"), "--quiet"),
             "nowhere.wav is not one of the audio files or images")
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_a_sound_bank_as_the_audio_side(run_cli, demo, tmp_path):
    bank = tmp_path / "bank.npz"
    res = run_cli("sounds", "build", "--n", "40", "--seconds", "0.2", "--rate", "16000",
                  "--out", str(bank), "--quiet")
    assert res.code == 0, res.err
    out = tmp_path / "m"
    res = run_cli("match", "--audio", str(bank), "--images", str(demo / "images"), "--top", "4",
                  "--out", str(out), "--quiet")
    assert res.code == 0, res.err
    assert "matched 40 sounds of the bank and 160 images" in res.out
    data = json.loads((out / "matches.json").read_text())
    assert data["audio_bank"] == str(bank) and data["audio_dir"] is None
    assert [a["path"] for a in data["audio"][:2]] == ["sound 00000", "sound 00001"]
    assert data["images"][0]["best_audio"][0]["path"].startswith("sound ")
    one_line(run_cli("match", "--audio", str(bank), "--images", str(demo / "images"),
                     "--labels", str(demo / "labels.csv"), "--out", str(tmp_path / "x")),
             "sound bank have no files to label")


def _small_copy(demo, folder, per_side=6):
    """A few demo files of each side in ``folder`` (audio/, images/), plus a FIFO in each."""
    import shutil

    for side in ("audio", "images"):
        files = sorted(p for p in (demo / side).rglob("*") if p.is_file())[::27][:per_side]
        (folder / side).mkdir(parents=True)
        for p in files:
            shutil.copy(p, folder / side / p.name)
        ext = ".wav" if side == "audio" else ".png"
        os.mkfifo(folder / side / f"pipe{ext}")   # opening it would block for ever
    return folder / "audio", folder / "images"


def test_fifos_among_the_inputs_never_block(demo, tmp_path):
    from conftest import run_cli_process

    audio, images = _small_copy(demo, tmp_path / "in")
    out = tmp_path / "out"
    # a FIFO in a collection is skipped with a line naming it (timeout: a hang fails the test)
    res = run_cli_process("match", "--audio", str(audio), "--images", str(images), "--top", "2",
                          "--out", str(out), timeout=120)
    assert res.code == 0, res.err
    assert "pipe.wav is not a regular file" in res.err and "pipe.png is not a regular file" in res.err
    assert "matched 6 audio files and 6 images" in res.out
    # a FIFO as --labels (or --truth) is one line, exit 2, and nothing is written
    os.mkfifo(tmp_path / "labels.csv")
    for flag in ("--labels", "--truth"):
        res = run_cli_process("match", "--audio", str(audio), "--images", str(images),
                              flag, str(tmp_path / "labels.csv"), "--out", str(tmp_path / "o2"),
                              "--quiet", timeout=120)
        one_line(res, flag, "not a regular file")   # refused as the argument is parsed
    assert not (tmp_path / "o2").exists()


def test_out_files_that_are_folders_or_pipes_are_refused(run_cli, demo, tmp_path):
    audio, images = _small_copy(demo, tmp_path / "in")
    base = ["match", "--audio", str(audio), "--images", str(images), "--top", "2", "--quiet"]
    out = tmp_path / "out"
    assert run_cli(*base, "--out", str(out)).code == 0
    before = (out / "matches.json").read_bytes()
    (out / "contact_sheet.png").unlink()
    (out / "contact_sheet.png").mkdir()
    one_line(run_cli(*base, "--out", str(out), "--force"), "contact_sheet.png is a directory")
    assert (out / "matches.json").read_bytes() == before     # refused before any work
    # a FIFO where the earlier matches.json was: no earlier output (and no hang reading it)
    (out / "matches.json").unlink()
    os.mkfifo(out / "matches.json")
    one_line(run_cli(*base, "--out", str(out)), "not empty and holds no earlier matches.json")
