"""Images -> one feature vector each: the colour pixels of a small square thumbnail.

Images are read with Pillow (PNG and JPEG; a file is recognised by its content, not its
name). Each image is cropped to its centred square, resized to ``SIDE`` x ``SIDE`` pixels
(Pillow's area-averaging ``BOX`` filter, so thin lines survive as grey) and converted to RGB;
the vector is the pixels in row-major order, red, green, blue per pixel, scaled to 0..1
(16 x 16 x 3 = 768 values). Colour is kept because for a slideshow it matters as much as
shape. The paper's STL-10 images were 96 x 96; 16 x 16 keeps a stacked autoencoder on a few
hundred images quick to train on a CPU.
"""

from __future__ import annotations

import os
import warnings
from functools import lru_cache

import numpy as np

from instrument.errors import BadInput, DataFileError
from instrument.formats.filecheck import regular_file_size

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
FORMATS = ("PNG", "JPEG")
KINDS = ("spectrum", "pixels")
PIXEL_SIDE = 16           # "pixels": 16 x 16 RGB
SPECTRUM_SIDE = 32        # "spectrum": the 2-D FFT of a 32 x 32 grey thumbnail ...
RINGS, SECTORS = 8, 8     # ... in 8 octave-spaced rings x 8 orientations
MAX_PIXELS = 50_000_000   # width x height, checked before any pixel is decoded
MAX_BYTES = 256 << 20     # 256 MB


def load_thumbnail(path: str | os.PathLike, side: int = PIXEL_SIDE):
    """The centred square of the image at ``path``, resized to ``side`` x ``side`` RGB (a PIL image).

    Raises:
        DataFileError: Missing, unreadable, not PNG/JPEG, truncated, or over the size limits.
    """
    from PIL import Image, UnidentifiedImageError

    path = os.fspath(path)
    # A FIFO in the folder would block Pillow's open for ever, a device read without end.
    size = regular_file_size(path, "image", DataFileError, "give image files, not pipes or devices")
    if size > MAX_BYTES:
        raise DataFileError(f"image {path} is {size >> 20} MB, over the {MAX_BYTES >> 20} MB limit",
                            "resize it first")
    try:
        with warnings.catch_warnings():
            # Our own limit (checked in _square_thumbnail) is lower than Pillow's warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path, formats=list(FORMATS)) as image:
                return _square_thumbnail(image, path, side)
    except UnidentifiedImageError:
        raise DataFileError(f"image {path} is not a PNG or JPEG image",
                            "convert it to PNG or JPEG") from None
    except Image.DecompressionBombError:
        raise DataFileError(f"image {path} declares more pixels than Pillow will decode",
                            f"use images of at most {MAX_PIXELS // 1_000_000} megapixels") from None
    except (OSError, ValueError, SyntaxError) as err:
        raise DataFileError(f"image {path} cannot be decoded ({err})",
                            "is the file complete? export it again") from None


def _square_thumbnail(image, path: str, side: int):
    from PIL import Image

    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise DataFileError(f"image {path} is {width} x {height} pixels",
                            f"use images of at most {MAX_PIXELS // 1_000_000} megapixels")
    crop = min(width, height)
    left, top = (width - crop) // 2, (height - crop) // 2
    image.draft("RGB", (max(side, crop // 8), max(side, crop // 8)))  # JPEG: decode smaller
    scale_x, scale_y = image.size[0] / width, image.size[1] / height
    box = (left * scale_x, top * scale_y, (left + crop) * scale_x, (top + crop) * scale_y)
    return image.convert("RGB").resize((side, side), Image.Resampling.BOX, box=box)


def pixel_features(thumbnail) -> np.ndarray:
    """float32[side*side*3] in 0..1: the RGB pixels of a thumbnail from :func:`load_thumbnail`."""
    pixels = np.asarray(thumbnail, dtype=np.float32) / 255.0
    return pixels.reshape(-1)


@lru_cache(maxsize=4)
def _spectrum_bins(side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flat bin index of each FFT coefficient or -1, coefficients per bin, 2-D shape)."""
    fy, fx = np.mgrid[-side // 2:side // 2, -side // 2:side // 2]
    radius = np.hypot(fy, fx)
    angle = np.mod(np.arctan2(fy, fx), np.pi)
    ring = np.clip((np.log2(np.maximum(radius, 1)) / np.log2(side / 2) * RINGS).astype(int),
                   0, RINGS - 1)
    sector = np.minimum((angle / np.pi * SECTORS).astype(int), SECTORS - 1)
    index = np.where(radius >= 1, ring * SECTORS + sector, -1).ravel()  # the mean (DC) is left out
    counts = np.bincount(index[index >= 0], minlength=RINGS * SECTORS)
    return index, np.maximum(counts, 1), np.array([RINGS, SECTORS])


def spectrum_features(thumbnail) -> np.ndarray:
    """float32[RINGS*SECTORS]: log power of the grey image's 2-D spectrum in ring x angle bins.

    The grey thumbnail is normalised to zero mean and unit contrast (its standard deviation,
    plus 0.05 so a flat image stays flat), so brightness and contrast do not count; the
    spectrum then says how fine the texture is (ring: spatial frequency, octave-spaced) and
    how directional (the power of 8 orientation sectors of 22.5 degrees, sorted strongest
    first), wherever it sits in the picture and whichever way it runs.
    """
    grey = np.asarray(thumbnail.convert("L"), dtype=np.float64) / 255.0
    grey = (grey - grey.mean()) / (grey.std() + 0.05)
    power = np.abs(np.fft.fftshift(np.fft.fft2(grey))).ravel() ** 2 / grey.size
    index, counts, _ = _spectrum_bins(grey.shape[0])
    keep = index >= 0
    sums = np.bincount(index[keep], weights=power[keep], minlength=RINGS * SECTORS)
    rings = np.log10(sums / counts + 1e-3).reshape(RINGS, SECTORS)
    # Strongest orientation first in each ring: stripes read the same at any angle, and how
    # directional a texture is (one strong sector, two, or all alike) is kept.
    return (-np.sort(-rings, axis=1)).reshape(-1).astype(np.float32)


def feature_width(kind: str = "spectrum") -> int:
    """Width of the vector of ``kind`` ("spectrum" or "pixels")."""
    return RINGS * SECTORS if kind == "spectrum" else PIXEL_SIDE * PIXEL_SIDE * 3


def file_features(path: str | os.PathLike, kind: str = "spectrum") -> np.ndarray:
    """The ``kind`` features ("spectrum" or "pixels") of the image at ``path``."""
    if kind == "spectrum":
        return spectrum_features(load_thumbnail(path, SPECTRUM_SIDE))
    if kind == "pixels":
        return pixel_features(load_thumbnail(path, PIXEL_SIDE))
    raise BadInput(f"image features {kind!r} unknown", f"use one of {KINDS}")
