"""benchmarks/sae_accuracy.py end to end, as a user runs it: tiny settings, real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from instrument.learn.datasets import MNIST_FILES, write_idx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "benchmarks", "sae_accuracy.py")
TINY = ["--hidden", "12", "--epochs", "2", "--finetune-epochs", "2", "--quiet"]


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


@pytest.mark.slow
def test_digits_json_and_png(tmp_path):
    png = tmp_path / "new_dir" / "features.png"
    proc = run("--dataset", "digits", "--seeds", "2", "--jobs", "2", "--json", "--png", str(png),
               *TINY)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["dataset"] == "digits" and summary["seeds"] == [0, 1]
    assert len(summary["accuracies"]) == 2
    assert 0.5 < summary["accuracy"] <= 1 and summary["accuracy_std"] >= 0
    assert summary["accuracy"] == pytest.approx(np.mean(summary["accuracies"]))
    assert set(summary["baselines"]) == {"frozen_sae_softmax", "logistic_regression", "mlp"}
    assert summary["baselines"]["logistic_regression"] > 0.9
    assert summary["n_train"] == 1347 and summary["n_test"] == 450
    assert summary["config"]["hidden"] == [12] and summary["seconds"] > 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def write_tiny_mnist(directory, rng, gz):
    """MNIST-shaped files, 10x10 images: class c is a bright bar in row c plus noise."""
    directory.mkdir()
    for part, n in (("train", 200), ("test", 50)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 60, (n, 10, 10)).astype(np.uint8)
        images[np.arange(n), labels, :] = 250
        suffix = ".gz" if gz else ""
        write_idx(directory / (MNIST_FILES[f"{part}_images"] + suffix), images)
        write_idx(directory / (MNIST_FILES[f"{part}_labels"] + suffix), labels)


@pytest.mark.slow
def test_mnist_from_idx_files_with_table(tmp_path, rng):
    write_tiny_mnist(tmp_path / "mnist", rng, gz=True)
    proc = run("--dataset", "mnist", "--mnist", str(tmp_path / "mnist"), "--jobs", "1", *TINY)
    assert proc.returncode == 0, proc.stderr
    assert "SAE accuracy on mnist (200 train / 50 test images, standard 60k/10k split" in proc.stdout
    assert "| SAE + softmax, fine-tuned" in proc.stdout
    assert "| MLPClassifier, same size" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["--dataset", "mnist", "--mnist", "/no/such/mnist/dir"], "does not exist"),
    (["--dataset", "mnist"], "needs --mnist DIR"),
    (["--dataset", "cifar"], "invalid choice"),
    (["--seeds", "0"], "must be >= 1"),
    (["--hidden", "10,x"], "comma-separated"),
])
def test_bad_arguments_exit_2_with_one_line(args, message):
    proc = run(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_unwritable_png_fails_before_training(tmp_path):
    (tmp_path / "a_file").write_text("not a directory")
    proc = run("--png", str(tmp_path / "a_file" / "features.png"), *TINY)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot create directory" in lines[0], proc.stderr


def test_bad_mnist_files_exit_2_with_one_line(tmp_path, rng):
    write_tiny_mnist(tmp_path / "mnist", rng, gz=False)
    bad = tmp_path / "mnist" / "train-images-idx3-ubyte"
    bad.write_bytes(b"\x00\x00\x08\x03garbage")
    proc = run("--mnist", str(tmp_path / "mnist"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(bad) in lines[0] and "truncated inside its header" in lines[0]


@pytest.mark.slow
def test_stl10_and_gtzan_from_files_in_the_real_formats(tmp_path, rng):
    from test_datasets import write_gtzan, write_stl10

    write_stl10(tmp_path / "stl", rng, n_train=40, n_test=40)
    proc = run("--dataset", "stl10", "--stl10", str(tmp_path / "stl"), "--image-side", "16",
               "--jobs", "1", *TINY)
    assert proc.returncode == 0, proc.stderr
    assert "SAE accuracy on stl10 (16 train / 16 test images, airplane/car/cat/dog" in proc.stdout
    assert "| random chance                     |  25.00% |" in proc.stdout
    assert "| the paper (Table 1)               |  80.19% |" in proc.stdout
    write_gtzan(tmp_path / "gtzan", clips=8)
    proc = run("--gtzan", str(tmp_path / "gtzan"), "--json", "--jobs", "1", *TINY)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["dataset"] == "gtzan" and summary["n_train"] == summary["n_test"] == 12
    assert summary["chance"] == pytest.approx(1 / 3) and summary["paper"] == 0.4701


@pytest.mark.parametrize("args,words", [
    (["--dataset", "stl10"], "--dataset stl10 needs --stl10 DIR"),
    (["--dataset", "gtzan"], "--dataset gtzan needs --gtzan DIR"),
    (["--dataset", "digits", "--stl10", "."], "--stl10 DIR only goes with --dataset stl10"),
    (["--image-side", "20"], "invalid choice"),
])
def test_stl10_and_gtzan_arguments(args, words):
    proc = run(*args)
    assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr


def test_a_bad_stl10_file_is_one_line_before_any_training(tmp_path, rng):
    from test_datasets import write_stl10

    write_stl10(tmp_path / "stl", rng, n_train=10, n_test=10)
    (tmp_path / "stl" / "train_y.bin").write_bytes(b"\x01" * 3)
    proc = run("--stl10", str(tmp_path / "stl"), *TINY)
    assert proc.returncode == 2, proc.stderr
    assert "STL-10 files disagree" in proc.stderr and proc.stderr.count("\n") == 1
