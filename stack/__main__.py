"""Entry point of `python -m stack`."""

import sys

from stack.cli import main

sys.exit(main())
