"""The `instrument` command line: argparse subcommands that import their heavy modules lazily.

Each subcommand lives in ``instrument/commands/<name>.py`` and defines ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. Those modules import nothing heavy at
module level, so ``instrument --help`` and ``instrument X --help`` never load torch, pyo or
pygame. Errors the user can fix (:class:`instrument.errors.InstrumentError`) become one line
on stderr and exit code 2; anything else is a bug and keeps its traceback (exit code 1).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from instrument import __version__
from instrument.errors import InstrumentError

# Subcommand modules under instrument.commands, in the order `--help` lists them.
COMMANDS: list[str] = [
    "record",
    "gestures",
    "perform",
    "sounds",
    "synth",
    "train",
    "evaluate",
    "render",
    "match",
    "serve",
]


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block) with exit code 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> Parser:
    """The full parser, with every registered subcommand."""
    parser = Parser(
        prog="instrument",
        description="A gesture-to-sound instrument learned from data "
                    "(Fried & Fiebrink, NIME 2013): record, train, perform, render.",
    )
    parser.add_argument("--version", action="version", version=f"instrument {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"instrument.commands.{name}")
        cmd = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (0 ok, 2 user-fixable error, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "run", None)
    if run is None:
        parser.print_usage(sys.stderr)
        print("instrument: error: no command given (see 'instrument --help')", file=sys.stderr)
        return 2
    try:
        return int(run(args) or 0)
    except InstrumentError as err:
        print(f"instrument: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("instrument: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
