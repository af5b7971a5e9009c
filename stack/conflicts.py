"""`make conflicts [ORDER=<id>] [SIDE=store|warehouse]`: the conflicts each side's sink decided.

Runs `flask --app SIDE conflicts list` against the dev stack's databases as the app's role (it
reads the log), for both sides unless one is named.
"""

import argparse
import os
import subprocess
import sys

from ordersync.sync.mapping import SIDES
from stack.secrets import database_url


def main(argv: list[str] | None = None) -> int:
    """List each side's conflicts, newest first; extra arguments pass to `conflicts list`."""
    parser = argparse.ArgumentParser(prog="python -m stack.conflicts", description=__doc__)
    parser.add_argument("--side", choices=SIDES)
    parser.add_argument("--order", help="Only this order's conflicts.")
    args, rest = parser.parse_known_args(argv)
    status = 0
    for side in [args.side] if args.side else SIDES:
        print(f"== {side} ==", flush=True)
        command = [sys.executable, "-m", "flask", "--app", side, "conflicts", "list", *rest]
        command += ["--order", args.order] if args.order else []
        environment = {"DATABASE_URL": database_url(side), "APP_ENV": "development"}
        status = subprocess.call(command, env=os.environ | environment) or status
    return status


if __name__ == "__main__":
    sys.exit(main())
