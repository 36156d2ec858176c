"""A missing optional part (pip extra) is one line naming the extra, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT
from tiny_model import write_strokes

from instrument.extras import EXTRA_OF, MissingExtra, optional_import


@pytest.mark.parametrize("module, extra", [("pyo", "pyo"), ("matplotlib.pyplot", "plots"),
                                           ("sounddevice", "sounddevice"), ("mido", "midi")])
def test_a_missing_extra_names_it(monkeypatch, module, extra):
    # import now fails, even when an earlier test imported the module already
    monkeypatch.setitem(sys.modules, module.split(".")[0], None)
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingExtra) as err:
        optional_import(module, "the thing")
    text = str(err.value)
    assert "\n" not in text and f"pip install 'instrument[{extra}]'" in text
    assert text.startswith("the thing needs")


def test_a_module_the_extra_needs_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(MissingExtra, match=r"cannot import matplotlib\.pyplot|not installed"):
        optional_import("matplotlib.pyplot", "the plot")


def test_every_extra_is_declared_in_pyproject():
    import tomllib

    with open(f"{ROOT}/pyproject.toml", "rb") as handle:
        extras = tomllib.load(handle)["project"]["optional-dependencies"]
    assert set(EXTRA_OF.values()) <= set(extras)


# The package is blocked the way a missing one fails: ``import`` raises ImportError.
BLOCK = ("import sys; sys.modules[{name!r}] = None; from instrument.cli import main; "
         "sys.exit(main(sys.argv[1:]))")


def test_gestures_plot_without_matplotlib_is_one_line(tmp_path):
    gestures = write_strokes(tmp_path / "g.jsonl", seconds=2, seed=1)
    proc = subprocess.run([sys.executable, "-c", BLOCK.format(name="matplotlib"), "gestures",
                           "plot", gestures, "--out", str(tmp_path / "p.png")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "instrument[plots]" in proc.stderr
    assert not (tmp_path / "p.png").exists()


def test_synth_with_pyo_engine_without_pyo_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-c", BLOCK.format(name="pyo"), "synth", "--engine",
                           "pyo", "--seconds", "0.1", "--out", str(tmp_path / "a.wav")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "instrument[pyo]" in proc.stderr
