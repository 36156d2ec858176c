"""Full and read-only disks, for real (a small tmpfs): one line each, no stray files.

A full disk must never leave a half file under the real name nor a temporary beside it;
a live recording keeps what it recorded in PATH.part and says so.
"""

from __future__ import annotations

import numpy as np
import pytest
from small_disk import fill, listing, tmpfs

from instrument.errors import DataFileError, ModelFileError
from instrument.formats.recording import RecordingWriter, read_recording
from instrument.formats.safe_io import atomic_write, save_png
from instrument.formats.wav import write_wav


def test_atomic_write_on_a_full_disk_leaves_nothing(tmp_path):
    with tmpfs(tmp_path / "disk", "64k") as disk:
        (disk / "old.txt").write_text("the old one")
        with pytest.raises(DataFileError, match="free some disk space") as err:
            with atomic_write(disk / "old.txt") as handle:
                handle.write("x" * 200_000)
        assert "\n" not in str(err.value) and "old.txt" in str(err.value)
        assert listing(disk) == ["old.txt"]
        assert (disk / "old.txt").read_text() == "the old one"


def test_wav_on_a_full_disk_is_one_error_and_no_noise(tmp_path, capfd):
    with tmpfs(tmp_path / "disk", "64k") as disk:
        with pytest.raises(DataFileError, match="cannot write WAV file"):
            write_wav(str(disk / "a.wav"), np.zeros(100_000), 44100)
        assert listing(disk) == []
    import gc

    gc.collect()  # a half-built wave writer would complain from __del__ here
    assert "Exception ignored" not in capfd.readouterr().err


def test_live_recording_on_a_full_disk_keeps_the_data_in_part(tmp_path):
    with tmpfs(tmp_path / "disk", "64k") as disk:
        fill(disk, leave=16384)  # a few 4 KiB pages: the header fits, the samples do not
        out = disk / "rec.jsonl"
        writer = RecordingWriter(out, 400, 300, source="test")
        with pytest.raises(DataFileError) as err:
            with writer:
                for i in range(100_000):
                    writer.add(i * 0.01, i % 400, 100)
        text = str(err.value)
        assert "\n" not in text and f"{out}.part" in text  # says where the data is
        assert not out.exists()
        kept = read_recording(f"{out}.part")                # and the data is there, readable
        assert len(kept) > 10 and kept.x[0] == 0


@pytest.mark.parametrize("what", ["png", "bundle"])
def test_read_only_folder_is_one_line(tmp_path, what):
    with tmpfs(tmp_path / "disk", "64k", read_only=True) as disk:
        if what == "png":
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            fig = plt.figure()
            with pytest.raises(DataFileError, match="read-only") as err:
                save_png(fig, disk / "p.png", what="gesture plot")
            plt.close(fig)
        else:
            from instrument.formats.bundle import save_bundle

            with pytest.raises(ModelFileError, match="cannot write model") as err:
                save_bundle(disk / "m", {}, {"gesture_sae": {"a": np.zeros(3, np.float32)}})
        assert "\n" not in str(err.value)
        assert listing(disk) == []


def test_sound_bank_on_a_full_disk_leaves_the_old_bank(tmp_path):
    from instrument.config import FeatureConfig, SoundConfig
    from instrument.sound.bank import SoundBank, build_sound_bank

    bank = build_sound_bank(SoundConfig(n_sounds=2000, seconds=0.05, rate=8000),  # ~200 kB
                            FeatureConfig(n_bands=16), workers=1)
    with tmpfs(tmp_path / "disk", "64k") as disk:
        small = build_sound_bank(SoundConfig(n_sounds=20, seconds=0.05, rate=8000),
                                 FeatureConfig(n_bands=16), workers=1)
        small.save(str(disk / "bank.npz"))
        with pytest.raises(DataFileError, match="cannot write sound bank") as err:
            bank.save(str(disk / "bank.npz"))  # more than the disk holds
        assert "\n" not in str(err.value)
        assert listing(disk) == ["bank.npz"]
        assert len(SoundBank.load(str(disk / "bank.npz"))) == 20
