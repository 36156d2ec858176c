"""The CLI skeleton: lazy imports, one-line errors, exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from instrument import cli
from instrument.errors import BadInput, InstrumentError

HEAVY = ("torch", "pyo", "pygame", "sounddevice", "matplotlib", "sklearn")


def _modules_loaded_by(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\n"
                          "print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_package_and_help_load_no_heavy_module():
    code = ("import contextlib, io\nfrom instrument import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        cli.main(['--help'])\n    except SystemExit:\n        pass\n")
    loaded = _modules_loaded_by(code)
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


@pytest.mark.parametrize("name", cli.COMMANDS)
def test_subcommand_help_loads_no_heavy_module(name):
    module = __import__(f"instrument.commands.{name}", fromlist=["NAME"])
    code = ("import contextlib, io\nfrom instrument import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    try:\n        cli.main([{module.NAME!r}, '--help'])\n"
            "    except SystemExit:\n        pass\n")
    loaded = _modules_loaded_by(code)
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_version_and_module_entry_point(run_cli):
    result = run_cli("--version")
    assert result.code == 0 and result.out.startswith("instrument ")


def test_no_command_exits_2(run_cli):
    result = run_cli()
    assert result.code == 2
    assert "no command given" in result.err and "Traceback" not in result.err


def test_unknown_command_is_one_line_exit_2(run_cli):
    result = run_cli("fly-to-the-moon")
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert "invalid choice" in result.err and "Traceback" not in result.err


def test_instrument_error_becomes_one_line_exit_2(capsys, monkeypatch):
    def boom(args):
        raise BadInput("parameter index = 12 is out of range", "use 0..10")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser.set_defaults(run=boom)
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert err == "instrument: error: parameter index = 12 is out of range; use 0..10\n"


def test_unexpected_error_keeps_traceback(monkeypatch):
    def bug(args):
        raise ZeroDivisionError("a bug")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser.set_defaults(run=bug)
    with pytest.raises(ZeroDivisionError):
        cli.main([])


def test_error_message_is_folded_to_one_line():
    err = InstrumentError("first\nsecond", "fix\n it")
    assert str(err) == "first second; fix it"
