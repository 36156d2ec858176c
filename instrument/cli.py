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
    """An ArgumentParser whose errors are one line (no usage block) with exit code 2.

    A mistyped flag is said with the nearest flag of its own subcommand (difflib) and that
    subcommand's --help, not the top-level one.
    """

    commands: dict[str, argparse.ArgumentParser] = {}
    argv: list[str] = []

    def error(self, message: str):  # noqa: D401 - argparse API
        prog = self.prog
        prefix = "unrecognized arguments: "
        command = next((a for a in self.argv if a in self.commands), None)
        if command is not None:
            sub = self.commands[command]
            prog = sub.prog
            flags = [f for action in sub._actions for f in action.option_strings]
            if message.startswith(prefix):
                message = self._suggest(message[len(prefix):].split(), flags)
            else:
                # a mistyped flag often shows first as another error ("--model is required"
                # for --modle): say the typo, which is the thing to fix
                typos = [t for t in self.argv if t.startswith("--") and not any(
                    f.startswith(t.split("=")[0]) for f in flags)]
                if typos:
                    message = self._suggest(typos[:1], flags) + f"; {message}"
        self.exit(2, f"{prog}: error: {message} (see '{prog} --help')\n")

    @staticmethod
    def _suggest(unknown: list[str], flags: list[str]) -> str:
        import difflib

        long_flags = [f for f in flags if f.startswith("--")]
        parts = []
        for token in unknown:
            guess = difflib.get_close_matches(token.split("=")[0], long_flags, n=1,
                                              cutoff=0.6) if token.startswith("-") else []
            parts.append(f"{token} (did you mean {guess[0]}?)" if guess else token)
        return "unrecognized argument" + ("s" if len(unknown) > 1 else "") + ": " + ", ".join(parts)


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
        Parser.commands[module.NAME] = cmd
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (0 ok, 2 user-fixable error, 130 interrupted)."""
    parser = build_parser()
    Parser.argv = list(sys.argv[1:] if argv is None else argv)
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
        import signal

        # A second Ctrl-C (or one still pending in a worker) during shutdown must not turn
        # the clean exit 130 into a death by SIGINT.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("instrument: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """The process entry (``instrument``, ``python -m instrument``): :func:`main`, then exit.

    After a Ctrl-C the process leaves at once (streams flushed, everything already closed and
    cleaned up by the time main returns), so no step of interpreter shutdown can turn the
    clean exit 130 into a death by SIGINT (seen in CI: "interrupted" printed, then -2).
    """
    code = main()
    if code == 130:
        import os

        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(130)
    sys.exit(code)


if __name__ == "__main__":
    run()
