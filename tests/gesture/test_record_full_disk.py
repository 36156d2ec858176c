"""`instrument record` on a full disk (a real small tmpfs, a real window under Xvfb): the
recorded data stays in PATH.part and the user reads one line saying so, no traceback."""

from __future__ import annotations

import subprocess
import time

import pytest
from small_disk import fill, tmpfs
from test_capture import find_window, finish, start_record, xvfb_env  # noqa: F401 - fixture

from instrument.formats.recording import read_recording


@pytest.mark.slow
def test_record_on_a_full_disk_keeps_the_data_and_says_where(xvfb_env, tmp_path):  # noqa: F811
    with tmpfs(tmp_path / "disk", "64k") as disk:
        fill(disk, leave=8192)  # room for the header and a hundred-odd samples
        out = disk / "rec.jsonl"
        proc = start_record(xvfb_env, out, "--seconds", "120")
        try:
            wid = find_window(xvfb_env, proc)
            deadline = time.monotonic() + 90
            i = 0
            while proc.poll() is None and time.monotonic() < deadline:
                moves = []
                for _ in range(50):
                    i += 1
                    moves += ["mousemove", "--window", wid, str(10 + i % 300), str(10 + i % 200)]
                subprocess.run(["xdotool", *moves], env=xvfb_env, capture_output=True,
                               timeout=30)
            code, stdout, stderr = finish(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        lines = stderr.strip().splitlines()
        assert code == 2, stderr
        assert "Traceback" not in stderr and len(lines) == 2, stderr  # the start note + one
        assert lines[0].startswith(f"recording to {out}.part")
        assert f"{out}.part" in lines[1] and "disk space" in lines[1]
        assert not out.exists()
        kept = read_recording(f"{out}.part")
        assert len(kept) > 20
