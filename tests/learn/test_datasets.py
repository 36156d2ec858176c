"""datasets: stratified digits splits, and the IDX reader on tiny files written here (no download)."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from instrument.errors import DataFileError
from instrument.learn.datasets import (
    MNIST_FILES,
    load_digits_split,
    load_mnist,
    read_idx,
    write_idx,
)


def write_tiny_mnist(directory, rng, n_train=30, n_test=10, gz=False, size=(6, 5)):
    """The 4 standard MNIST files with random images, labels 0..9 (gzip when ``gz``)."""
    directory.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    data = {
        "train_images": rng.integers(0, 256, (n_train, *size), dtype=np.uint8),
        "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, *size), dtype=np.uint8),
        "test_labels": (np.arange(n_test) % 10).astype(np.uint8),
    }
    for key, array in data.items():
        write_idx(directory / (MNIST_FILES[key] + suffix), array)
    return data


def test_digits_split_is_stratified_and_seeded():
    a, b, c = load_digits_split(0), load_digits_split(0), load_digits_split(1)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    assert len(a.x_train) + len(a.x_test) == 1797
    assert abs(len(a.x_test) / 1797 - 0.25) < 0.01
    assert a.x_train.dtype == np.float32 and a.y_train.dtype == np.int64
    assert a.x_train.shape[1] == 64 and a.image_shape == (8, 8)
    # Stratified: each class's share in the test set matches its share overall.
    overall = np.bincount(np.concatenate([a.y_train, a.y_test])) / 1797
    np.testing.assert_allclose(np.bincount(a.y_test) / len(a.y_test), overall, atol=0.005)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, rng, dtype, gz):
    array = (rng.standard_normal((4, 3, 2)) * 50).astype(dtype)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == gz
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_idx_header_is_big_endian(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 8, 9]))
    np.testing.assert_array_equal(read_idx(path), [7, 8, 9])


@pytest.mark.parametrize("payload, message", [
    (b"", "too short"),
    (bytes([1, 2, 8, 1, 0, 0, 0, 1, 5]), "magic number"),
    (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 5]), "magic number"),
    (bytes([0, 0, 8, 3, 0, 0, 0, 1]), "truncated inside its header"),
    (bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3]), "truncated"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 1, 5, 6]), "longer than its header says"),
    (bytes([0, 0, 8, 0]), "0 dimensions"),
])
def test_bad_idx_files(tmp_path, payload, message):
    path = tmp_path / "bad-idx"
    path.write_bytes(payload)
    with pytest.raises(DataFileError) as err:
        read_idx(path)
    assert message in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_broken_gzip_and_missing_file(tmp_path, rng):
    path = tmp_path / "x.gz"
    write_idx(path, rng.integers(0, 255, (20, 4, 4), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(DataFileError, match="broken gzip"):
        read_idx(path)
    with pytest.raises(DataFileError, match="does not exist"):
        read_idx(tmp_path / "nothing")


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_from_tiny_files(tmp_path, rng, gz):
    data = write_tiny_mnist(tmp_path, rng, gz=gz)
    split = load_mnist(tmp_path)
    assert split.x_train.shape == (30, 30) and split.x_test.shape == (10, 30)
    assert split.image_shape == (6, 5)
    assert split.x_train.dtype == np.float32 and split.x_train.max() <= 1.0
    np.testing.assert_allclose(split.x_train * 255, data["train_images"].reshape(30, -1), atol=1e-4)
    np.testing.assert_array_equal(split.y_test, data["test_labels"])


def test_load_mnist_accepts_dotted_names(tmp_path, rng):
    write_tiny_mnist(tmp_path, rng)
    (tmp_path / "train-images-idx3-ubyte").rename(tmp_path / "train-images.idx3-ubyte")
    assert load_mnist(tmp_path).x_train.shape == (30, 30)


def test_load_mnist_errors(tmp_path, rng):
    with pytest.raises(DataFileError, match="does not exist"):
        load_mnist(tmp_path / "none")
    write_tiny_mnist(tmp_path, rng)
    labels = tmp_path / "t10k-labels-idx1-ubyte"
    write_idx(labels, np.zeros(9, np.uint8))
    with pytest.raises(DataFileError, match="label count mismatch: .* 10 images but .* 9 labels"):
        load_mnist(tmp_path)
    write_idx(labels, np.full(10, 12, np.uint8))
    with pytest.raises(DataFileError, match="label 12"):
        load_mnist(tmp_path)
    write_idx(labels, np.zeros((10, 2), np.uint8))
    with pytest.raises(DataFileError, match="expected uint8 \\[count\\]"):
        load_mnist(tmp_path)
    labels.unlink()
    with pytest.raises(DataFileError) as err:
        load_mnist(tmp_path)
    assert "t10k-labels-idx1-ubyte" in str(err.value) and "missing" in str(err.value)
    images = tmp_path / "t10k-images-idx3-ubyte"
    write_idx(images, np.zeros((10, 3, 3), np.uint8))
    write_idx(labels, np.zeros(10, np.uint8))
    with pytest.raises(DataFileError, match="training images are"):
        load_mnist(tmp_path)
    images.write_bytes(gzip.compress(b"not idx at all"))
    with pytest.raises(DataFileError, match="magic number"):
        load_mnist(tmp_path)


# --- STL-10 and GTZAN, on tiny files written here in the real formats -----------------------

def write_stl10(directory, rng, n_train=20, n_test=30, class_names=True):
    """STL-10 binary files: images stored channel by channel, each plane column-major."""
    from instrument.learn.datasets import STL10_NAMES

    directory.mkdir(parents=True, exist_ok=True)
    parts = {}
    for part, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, (n, 96, 96, 3), dtype=np.uint8)  # row, col, RGB
        labels = (np.arange(n) % 10 + 1).astype(np.uint8)
        images.transpose(0, 3, 2, 1).tofile(directory / f"{part}_X.bin")  # -> N, RGB, col, row
        labels.tofile(directory / f"{part}_y.bin")
        parts[part] = (images, labels)
    if class_names:
        (directory / "class_names.txt").write_text("\n".join(STL10_NAMES) + "\n")
    return parts


@pytest.mark.parametrize("with_names", [True, False])
def test_stl10_keeps_the_papers_four_classes_in_pixel_order(tmp_path, rng, with_names):
    from instrument.learn.datasets import load_stl10

    parts = write_stl10(tmp_path / "stl", rng, class_names=with_names)
    split = load_stl10(tmp_path / "stl", side=96)
    images, labels = parts["train"]
    keep = np.isin(labels, [1, 3, 4, 6])   # airplane, car, cat, dog
    np.testing.assert_array_equal(split.y_train, np.searchsorted([1, 3, 4, 6], labels[keep]))
    np.testing.assert_allclose(split.x_train[0].reshape(96, 96, 3),
                               images[keep][0].astype(np.float32) / 255, atol=1e-7)
    assert split.x_test.shape == (12, 96 * 96 * 3) and set(split.y_test) == {0, 1, 2, 3}
    small = load_stl10(tmp_path / "stl", side=32)   # 3x3 block means
    np.testing.assert_allclose(small.x_train[0].reshape(32, 32, 3)[0, 0],
                               images[keep][0][:3, :3].reshape(9, 3).mean(0) / 255, atol=1e-6)


def test_bad_stl10_files_are_one_line(tmp_path, rng):
    from instrument.learn.datasets import load_stl10

    write_stl10(tmp_path / "stl", rng)
    (tmp_path / "stl" / "test_y.bin").write_bytes(b"\x01" * 29)
    with pytest.raises(DataFileError, match="holds 30 images but .*test_y.bin 29 labels"):
        load_stl10(tmp_path / "stl")
    (tmp_path / "stl" / "test_y.bin").write_bytes(b"\x01" * 29 + b"\x0b")
    with pytest.raises(DataFileError, match="holds label 11, expected 1..10"):
        load_stl10(tmp_path / "stl")
    with open(tmp_path / "stl" / "train_X.bin", "ab") as handle:
        handle.write(b"\x00" * 7)
    with pytest.raises(DataFileError, match="not a whole number of 96x96x3 images"):
        load_stl10(tmp_path / "stl")
    (tmp_path / "stl" / "train_X.bin").unlink()
    with pytest.raises(DataFileError, match="train_X.bin is missing"):
        load_stl10(tmp_path / "stl")


def write_gtzan(directory, genres=("blues", "classical", "metal"), clips=6, rate=8000):
    import soundfile as sf

    for g, genre in enumerate(genres):
        (directory / genre).mkdir(parents=True)
        for i in range(clips):
            t = np.arange(rate) / rate
            tone = 0.3 * np.sin(2 * np.pi * (200 * (g + 1) + 10 * i) * t)
            # GTZAN ships .au files; its readers must take them as they are
            sf.write(directory / genre / f"{genre}.{i:05d}.au", tone.astype(np.float32), rate,
                     format="AU", subtype="PCM_16")


def test_gtzan_splits_each_genre_down_the_middle_and_skips_broken_clips(tmp_path):
    from instrument.learn.datasets import load_gtzan

    write_gtzan(tmp_path / "gtzan")
    (tmp_path / "gtzan" / "metal" / "metal.00099.au").write_bytes(b".snd broken")
    split = load_gtzan(tmp_path / "gtzan")
    assert split.x_train.shape == (9, 128) and split.x_test.shape == (9, 128)
    np.testing.assert_array_equal(split.y_train, [0, 0, 0, 1, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(split.y_test, split.y_train)
    # each genre is a different pitch: the loudest band tells them apart
    assert len({int(np.argmax(x[:64])) for x in split.x_train[::3]}) == 3


def test_bad_gtzan_folders_are_one_line(tmp_path):
    from instrument.learn.datasets import load_gtzan

    (tmp_path / "one" / "blues").mkdir(parents=True)
    with pytest.raises(DataFileError, match="has 1 genre folders"):
        load_gtzan(tmp_path / "one")
    write_gtzan(tmp_path / "few", clips=2)
    with pytest.raises(DataFileError, match="GTZAN genre blues: .* has 2 readable"):
        load_gtzan(tmp_path / "few")
