"""benchmarks/matching.py end to end, as a user runs it, on tiny generated collections."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_the_benchmark_prints_every_method_beside_chance():
    proc = subprocess.run([sys.executable, f"{ROOT}/benchmarks/matching.py", "--seeds", "1",
                           "--per-category", "8", "--labelled", "3", "--json"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    rows = out["results"][0]
    assert set(rows) == {"l2, labels", "l2, no labels", "mlp, labels", "mlp, no labels"}
    labelled = rows["l2, labels"]
    assert labelled["precision_chance"] == 0.25 and labelled["precision"] > 0.5
    assert rows["l2, no labels"]["precision"] is None
    for row in rows.values():
        assert row["structure"]["trustworthiness"] > row["structure"]["chance"]
