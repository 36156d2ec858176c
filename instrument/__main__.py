"""`python -m instrument` is the same as the `instrument` command."""

from instrument.cli import run

run()
