"""Real full and read-only disks for tests: a small tmpfs mounted on a test's folder.

Mounting needs root; a test using these is skipped with the reason when it cannot mount.
The disk is always unmounted (lazily, so a process still holding a file cannot block it).
"""

from __future__ import annotations

import contextlib
import os
import subprocess

import pytest


@contextlib.contextmanager
def tmpfs(path, size: str = "256k", read_only: bool = False):
    """Mount a tmpfs of ``size`` on ``path`` (created); ``read_only`` remounts it ro."""
    os.makedirs(path, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small disk needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True,
                           capture_output=True)
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(path, leave: int = 0) -> None:
    """Fill the disk holding folder ``path`` until about ``leave`` bytes are free."""
    with open(os.path.join(path, "filler"), "wb") as handle:
        while True:
            free = os.statvfs(path).f_bavail * os.statvfs(path).f_frsize
            if free <= leave:
                break
            try:
                handle.write(b"\0" * min(4096, free - leave))
                handle.flush()
            except OSError:
                break


def listing(path) -> list[str]:
    """The folder's entries, hidden temporaries included, without the filler."""
    return sorted(name for name in os.listdir(path) if name != "filler")
