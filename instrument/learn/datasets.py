"""Benchmark datasets: sklearn's bundled 8x8 digits (stratified splits), MNIST IDX files, STL-10
binary files and GTZAN genre folders (the paper's Table 1).

No dataset is downloaded: digits ships with scikit-learn, and MNIST, STL-10 and GTZAN are
read from files in a directory the user gives. Every problem with
those files becomes one :class:`~instrument.errors.DataFileError` line naming the file.
"""

from __future__ import annotations

import gzip
import os
import zlib
from typing import NamedTuple

import numpy as np

from instrument.errors import BadInput, DataFileError


class Split(NamedTuple):
    """A train/test split: float32 inputs, int64 labels, and the image shape for drawing."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, int]


def load_digits_split(seed: int, test_size: float = 0.25) -> Split:
    """sklearn's 1797 8x8 digits (pixel values 0..16), split stratified by class.

    Args:
        seed: ``random_state`` of the split; the same seed gives the same split.
        test_size: Share of rows held out for testing, in (0, 1).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise BadInput(f"test_size {test_size} is not in (0, 1)")
    digits = load_digits()
    x, y = digits.data.astype(np.float32), digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=seed)
    return Split(x_train, y_train, x_test, y_test, (8, 8))


# --- IDX (the MNIST file format) ---------------------------------------------------------

# Third byte of the magic number -> big-endian element type.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (raw, or gzip-compressed: detected from its first bytes).

    Layout: two zero bytes, a type byte (0x08 uint8 ... 0x0E float64), a byte with the number
    of dimensions d, d big-endian uint32 sizes, then the data, big-endian, row-major.

    Returns:
        Array of the stored shape, in native byte order.

    Raises:
        DataFileError: Missing/unreadable file, bad gzip stream, bad magic number, truncated
            header, or a data size that does not match the header's dimensions.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataFileError(f"IDX file {path} does not exist", "check the path")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise DataFileError(f"IDX file {path} cannot be read ({err.strerror})",
                            "check the file's permissions") from None
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise DataFileError(f"IDX file {path} is a broken gzip file ({err})",
                                "download it again") from None
    if len(data) < 4:
        raise DataFileError(f"IDX file {path} is too short ({len(data)} bytes) to hold a header",
                            "download it again")
    if data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise DataFileError(f"IDX file {path} has a bad magic number 0x{data[:4].hex()} "
                            f"(expected 0x0000TTDD with type TT in 08,09,0b,0c,0d,0e)",
                            "is this really an IDX file? download it again")
    ndim = data[3]
    if ndim == 0:
        raise DataFileError(f"IDX file {path} declares 0 dimensions", "download it again")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFileError(f"IDX file {path} is truncated inside its header "
                            f"({len(data)} bytes, header needs {header})", "download it again")
    shape = tuple(int(v) for v in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header
    if actual != expected:
        kind = "truncated" if actual < expected else "longer than its header says"
        raise DataFileError(f"IDX file {path} is {kind}: dims {list(shape)} need {expected} "
                            f"data bytes, found {actual}", "download it again")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def find_mnist_file(directory: str | os.PathLike, stem: str) -> str:
    """Path of ``stem`` in ``directory``: as is, with ``.gz``, or with the common '.idx' spelling.

    Raises:
        DataFileError: None of the spellings exists.
    """
    directory = os.fspath(directory)
    dotted = stem.replace("-idx", ".idx")  # some mirrors use train-images.idx3-ubyte
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    raise DataFileError(f"MNIST file {stem} (or {stem}.gz) is missing in {directory}",
                        "put the 4 standard MNIST IDX files there: "
                        + ", ".join(MNIST_FILES.values()))


def load_mnist(directory: str | os.PathLike) -> Split:
    """MNIST's standard 60k/10k split from the 4 IDX files in ``directory``.

    Returns:
        A :class:`Split` with inputs float32 in [0, 1] of shape (N, rows*cols) and labels int64.

    Raises:
        DataFileError: A file is missing or bad, images are not 3-D uint8, labels not 1-D uint8
            in 0..9, or the image and label counts differ.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise DataFileError(f"MNIST directory {directory} does not exist",
                            "give the directory holding the 4 MNIST IDX files")
    parts = {}
    shape = None
    for part in ("train", "test"):
        img_path = find_mnist_file(directory, MNIST_FILES[f"{part}_images"])
        lab_path = find_mnist_file(directory, MNIST_FILES[f"{part}_labels"])
        images, labels = read_idx(img_path), read_idx(lab_path)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise DataFileError(f"MNIST image file {img_path} holds {images.dtype} of dims "
                                f"{list(images.shape)}, expected uint8 [count, rows, cols]",
                                "is it a label file? check the file names")
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise DataFileError(f"MNIST label file {lab_path} holds {labels.dtype} of dims "
                                f"{list(labels.shape)}, expected uint8 [count]",
                                "is it an image file? check the file names")
        if len(images) != len(labels):
            raise DataFileError(f"MNIST label count mismatch: {img_path} has {len(images)} "
                                f"images but {lab_path} has {len(labels)} labels",
                                "use image and label files from the same download")
        if len(labels) and labels.max() > 9:
            raise DataFileError(f"MNIST label file {lab_path} holds label {labels.max()}, "
                                f"expected digits 0..9", "download it again")
        if shape is not None and images.shape[1:] != shape:
            raise DataFileError(f"MNIST image file {img_path} has images of "
                                f"{list(images.shape[1:])}, but the training images are "
                                f"{list(shape)}", "use files from the same download")
        shape = images.shape[1:]
        parts[part] = (images.reshape(len(images), -1).astype(np.float32) / 255.0,
                       labels.astype(np.int64))
    return Split(*parts["train"], *parts["test"], tuple(int(v) for v in shape))


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file (gzip when ``compress`` or when the name ends in .gz).

    Used by tests and to make small MNIST-like files; the types are those :func:`read_idx` reads.
    """
    path = os.fspath(path)
    array = np.asarray(array)
    for code, name in _IDX_TYPES.items():
        if np.dtype(name).newbyteorder("=") == array.dtype.newbyteorder("="):
            break
    else:
        raise BadInput(f"IDX cannot store dtype {array.dtype}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=np.dtype(name)).tobytes()
    if compress or (compress is None and path.endswith(".gz")):
        payload = gzip.compress(payload)
    from instrument.formats.safe_io import atomic_write

    with atomic_write(path, binary=True, what="IDX file") as handle:
        handle.write(payload)


# --- STL-10 (binary format) and GTZAN (genre folders), as in the paper's Table 1 --------------

STL10_SIDE = 96
STL10_NAMES = ("airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck")
STL10_PAPER_CLASSES = ("airplane", "car", "cat", "dog")   # the paper's reduced STL-10 (§5.1)


def _stl10_names(directory: str) -> list[str]:
    """Class names, 1-based label order: class_names.txt when present, else the standard order."""
    path = os.path.join(directory, "class_names.txt")
    if not os.path.isfile(path):
        return list(STL10_NAMES)
    with open(path, "rb") as handle:
        names = handle.read(4096).decode("utf-8", "replace").split()
    if len(names) != 10:
        raise DataFileError(f"STL-10 class_names.txt in {directory} names {len(names)} classes, "
                            f"expected 10", "use the class_names.txt of the STL-10 download")
    return names


def read_stl10_part(directory: str, part: str, labels_wanted: list[int],
                    side: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Images of the wanted classes from ``{part}_X.bin`` / ``{part}_y.bin``.

    The binary format: ``X`` holds N images of 3 x 96 x 96 uint8, each colour plane stored
    column by column; ``y`` holds N uint8 labels 1..10. Both sizes come from the file
    lengths and are checked against each other before anything is read (the arrays are
    memory-mapped, and only the wanted images are copied).

    Args:
        directory: The folder of the binary files.
        part: "train" or "test".
        labels_wanted: 1-based labels kept, in order: image of labels_wanted[k] gets label k.
        side: Images are averaged down to ``side`` x ``side`` (96 must be a multiple of it).

    Returns:
        (float32 (N, side*side*3) in 0..1, row-major RGB pixels; int64 (N,) labels 0..k-1).

    Raises:
        DataFileError: A file missing, of a length that is not whole images, counts that
            differ, or a label outside 1..10.
    """
    if side < 1 or STL10_SIDE % side:
        raise BadInput(f"STL-10 image side {side} does not divide 96", "use 96, 48, 32, 24, 16, 12 or 8")
    paths = [os.path.join(directory, f"{part}_{kind}.bin") for kind in ("X", "y")]
    for path in paths:
        if not os.path.isfile(path):
            raise DataFileError(f"STL-10 file {path} is missing",
                                "put train_X.bin, train_y.bin, test_X.bin and test_y.bin there "
                                "(the binary version of STL-10)")
    image_bytes = 3 * STL10_SIDE * STL10_SIDE
    x_size, y_size = os.path.getsize(paths[0]), os.path.getsize(paths[1])
    if x_size == 0 or x_size % image_bytes:
        raise DataFileError(f"STL-10 file {paths[0]} is {x_size} bytes, not a whole number of "
                            f"96x96x3 images ({image_bytes} bytes each)", "download it again")
    if y_size != x_size // image_bytes:
        raise DataFileError(f"STL-10 files disagree: {paths[0]} holds {x_size // image_bytes} "
                            f"images but {paths[1]} {y_size} labels", "use files from one download")
    labels = np.fromfile(paths[1], dtype=np.uint8)
    bad = labels[(labels < 1) | (labels > 10)]
    if len(bad):
        raise DataFileError(f"STL-10 file {paths[1]} holds label {bad[0]}, expected 1..10",
                            "download it again")
    keep = np.flatnonzero(np.isin(labels, labels_wanted))
    raw = np.memmap(paths[0], dtype=np.uint8, mode="r", shape=(len(labels), 3, STL10_SIDE, STL10_SIDE))
    out = np.empty((len(keep), side * side * 3), np.float32)
    f = STL10_SIDE // side
    for start in range(0, len(keep), 256):   # bounded memory whatever the file size
        rows = keep[start:start + 256]
        block = np.asarray(raw[rows], dtype=np.float32).transpose(0, 3, 2, 1)  # -> N, row, col, RGB
        block = block.reshape(len(rows), side, f, side, f, 3).mean(axis=(2, 4)) / 255.0
        out[start:start + len(rows)] = block.reshape(len(rows), -1)
    code = {label: k for k, label in enumerate(labels_wanted)}
    return out, np.array([code[int(v)] for v in labels[keep]], dtype=np.int64)


def load_stl10(directory: str | os.PathLike, classes=STL10_PAPER_CLASSES, side: int = 32) -> Split:
    """The paper's reduced STL-10: the 4 classes airplane, car, cat, dog (2,000 train, 3,200 test).

    Raises:
        DataFileError: Missing or bad files, or a class name STL-10 does not have.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise DataFileError(f"STL-10 directory {directory} does not exist",
                            "give the folder holding train_X.bin, train_y.bin, test_X.bin, test_y.bin")
    names = _stl10_names(directory)
    missing = [c for c in classes if c not in names]
    if missing:
        raise DataFileError(f"STL-10 has no class {missing[0]!r} (classes: {', '.join(names)})")
    wanted = [names.index(c) + 1 for c in classes]
    x_train, y_train = read_stl10_part(directory, "train", wanted, side)
    x_test, y_test = read_stl10_part(directory, "test", wanted, side)
    return Split(x_train, y_train, x_test, y_test, (side, side * 3))


def load_gtzan(directory: str | os.PathLike, quiet: bool = True) -> Split:
    """GTZAN as in the paper: genre folders of clips, each genre split down the middle.

    Each clip becomes the matching's pooled spectral features
    (:func:`instrument.matching.audio_files.audio_features`, 128 values); in each genre
    (sorted file names) the first half of the readable clips trains and the rest tests, so
    the 1,000 clips give 500/500. Unreadable clips (GTZAN has a broken ``jazz.00054.wav``)
    are skipped with a line each.

    Raises:
        DataFileError: Not a folder, fewer than 2 genre folders, or a genre with < 2 clips.
    """
    from instrument.matching import audio_files
    from instrument.matching.collection import read_collection

    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise DataFileError(f"GTZAN directory {directory} does not exist",
                            "give the folder holding one folder of clips per genre")
    genres = sorted(d for d in os.listdir(directory)
                    if os.path.isdir(os.path.join(directory, d)) and not d.startswith("."))
    if not 2 <= len(genres) <= 100:
        raise DataFileError(f"GTZAN directory {directory} has {len(genres)} genre folders",
                            "give the folder holding one folder of clips per genre (2..100)")
    parts = {"train": ([], []), "test": ([], [])}
    for k, genre in enumerate(genres):
        try:
            clips = read_collection("audio", os.path.join(directory, genre),
                                    audio_files.AUDIO_EXTENSIONS, audio_files.file_features,
                                    quiet=quiet)
        except BadInput as err:
            raise DataFileError(f"GTZAN genre {genre}: {err.problem}", err.fix) from None
        half = len(clips.paths) // 2
        for part, rows in (("train", clips.features[:half]), ("test", clips.features[half:])):
            parts[part][0].append(rows)
            parts[part][1].append(np.full(len(rows), k, dtype=np.int64))
    x_train, y_train = (np.concatenate(v) for v in parts["train"])
    x_test, y_test = (np.concatenate(v) for v in parts["test"])
    return Split(x_train, y_train, x_test, y_test, (2, audio_files.FEATURES.n_bands))
