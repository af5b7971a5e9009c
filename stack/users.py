"""`make users`: run one side's `flask users` command against the dev stack's database.

The command builds the app, so it needs the app role's database URL (its password is the
stack's, in `.stack/db-passwords.json`) and a development APP_ENV; this module supplies both.
"""

import argparse
import os
import subprocess
import sys

from ordersync.sync.mapping import SIDES
from stack.secrets import database_url


def main(argv: list[str] | None = None) -> int:
    """Pass the arguments to `flask --app SIDE users`; standard input passes through too."""
    parser = argparse.ArgumentParser(prog="python -m stack.users", description=__doc__)
    parser.add_argument("side", choices=SIDES)
    args, rest = parser.parse_known_args(argv)
    command = [sys.executable, "-m", "flask", "--app", args.side, "users", *rest]
    environment = {"DATABASE_URL": database_url(args.side), "APP_ENV": "development"}
    return subprocess.call(command, env=os.environ | environment)


if __name__ == "__main__":
    sys.exit(main())
