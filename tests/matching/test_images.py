"""Images -> texture spectrum or colour pixels, through real PNG and JPEG files."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from instrument.errors import DataFileError
from instrument.matching import images


def stripes(angle_deg, side=64, period=12):
    yy, xx = np.mgrid[0:side, 0:side]
    a = np.deg2rad(angle_deg)
    band = (np.cos(a) * xx + np.sin(a) * yy) % period < period / 2
    return Image.fromarray(np.where(band, 230, 20).astype(np.uint8), "L").convert("RGB")


def test_png_and_jpeg_read_alike(tmp_path):
    picture = stripes(30)
    picture.save(tmp_path / "a.png")
    picture.save(tmp_path / "a.jpg", quality=95)
    png = images.file_features(tmp_path / "a.png")
    jpg = images.file_features(tmp_path / "a.jpg")
    assert png.shape == (images.feature_width("spectrum"),) and np.isfinite(png).all()
    # JPEG ringing adds a little power at high frequencies; log10 power stays within 0.5.
    assert np.abs(png - jpg).max() < 0.5
    pixels = images.file_features(tmp_path / "a.png", "pixels")
    assert pixels.shape == (16 * 16 * 3,) and 0 <= pixels.min() and pixels.max() <= 1


def test_the_spectrum_reads_stripes_alike_at_any_angle_and_apart_from_speckle(rng):
    side = images.SPECTRUM_SIDE
    flat = images.spectrum_features(stripes(0).resize((side, side)))
    turned = images.spectrum_features(stripes(90).resize((side, side)))
    # a quarter turn moves the power to another sector; sorted sectors are then the same
    np.testing.assert_allclose(flat, turned, atol=1e-4)
    noise = Image.fromarray(rng.integers(0, 256, (side, side, 3)).astype(np.uint8), "RGB")
    speckle = images.spectrum_features(noise)
    assert np.abs(speckle - flat).mean() > 5 * np.abs(turned - flat).mean() + 0.1


def test_a_flat_image_is_fine():
    feats = images.spectrum_features(Image.new("RGB", (32, 32), (10, 200, 30)))
    assert np.isfinite(feats).all()


def png_header_only(path, width, height):
    """A PNG whose header claims width x height pixels (the pixel data is a stub)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def test_huge_images_are_refused_before_decoding(tmp_path):
    path = tmp_path / "big.png"
    png_header_only(path, 10000, 10000)  # 100 megapixels: over our 50, under Pillow's guard
    with pytest.raises(DataFileError, match="10000 x 10000 pixels; use images of at most 50"):
        images.file_features(path)
    png_header_only(path, 40000, 40000)  # Pillow refuses this one itself, as we say
    with pytest.raises(DataFileError, match="more pixels than Pillow will decode"):
        images.file_features(path)


@pytest.mark.parametrize("name,content,words", [
    ("text.png", b"hello, I am not a picture", "not a PNG or JPEG"),
    ("cut.png", None, "cannot be decoded"),
])
def test_bad_images_are_one_line_naming_them(tmp_path, name, content, words):
    path = tmp_path / name
    if content is None:
        stripes(0).save(path)
        path.write_bytes(path.read_bytes()[:60])  # cut inside the pixel data
    else:
        path.write_bytes(content)
    with pytest.raises(DataFileError) as err:
        images.file_features(path)
    assert str(path) in str(err.value) and words in str(err.value) and "\n" not in str(err.value)
