"""A crafted sound bank .npz cannot make numpy allocate what its headers claim."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from instrument.errors import DataFileError
from instrument.sound.bank import SoundBank


def _npy_header(shape) -> bytes:
    import io

    import numpy.lib.format as npy

    buffer = io.BytesIO()
    npy.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False,
                                        "shape": tuple(shape)})
    return buffer.getvalue()  # magic string and header


def test_a_header_declaring_a_huge_array_is_refused_before_allocating(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("format.npy", _npy_header(()) + b"\0" * 4)
        archive.writestr("params_unit.npy", _npy_header((10 ** 6, 10 ** 6)) + b"\0" * 64)
    with pytest.raises(DataFileError, match=r"entry params_unit declares shape") as err:
        SoundBank.load(str(path))
    assert "\n" not in str(err.value)


def test_a_fifo_or_a_folder_is_not_opened(tmp_path):
    import os

    os.mkfifo(tmp_path / "fifo.npz")
    with pytest.raises(DataFileError, match="not a regular file"):
        SoundBank.load(str(tmp_path / "fifo.npz"))
    np.savez(tmp_path / "ok.npz", a=np.zeros(3))
    with pytest.raises(DataFileError, match="missing entries"):
        SoundBank.load(str(tmp_path / "ok.npz"))
