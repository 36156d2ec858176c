"""`python -m instrument` is the same as the `instrument` command."""

import sys

from instrument.cli import main

sys.exit(main())
