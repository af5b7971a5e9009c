"""`make env`: write the .env docker compose reads, with a strong secret for every blank in
.env.example. An existing .env keeps its values (a database volume remembers its passwords);
only names it lacks or leaves blank are added. Standard library only: no venv needed.
"""

import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / ".env.example"
TARGET = ROOT / ".env"


def assignments(text: str) -> dict[str, str]:
    """The NAME=value lines of an env file (comments and blank lines left out)."""
    pairs = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            pairs[name.strip()] = value.strip()
    return pairs


def new_secret() -> str:
    """43 URL-safe characters (256 bits): passwords go into connection URLs unescaped."""
    return secrets.token_urlsafe(32)


def filled(text: str, example: dict[str, str]) -> str:
    """The env file with each blank value filled and each name of the example it lacks added."""
    lines = []
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#") and not value.strip():
            line = f"{name}={example.get(name.strip()) or new_secret()}"
        lines.append(line)
    missing = [name for name in example if name not in assignments(text)]
    lines += [f"{name}={example[name] or new_secret()}" for name in missing]
    return "\n".join(lines) + "\n"


def write(target: Path = TARGET, example_path: Path = EXAMPLE) -> list[str]:
    """Create or complete the env file (mode 0600); return the names it had to fill or add."""
    example_text = example_path.read_text()
    text = target.read_text() if target.exists() else example_text
    before = {name for name, value in assignments(text).items() if value}
    new = filled(text, assignments(example_text))
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(new)
    target.chmod(0o600)
    return [name for name in assignments(new) if name not in before]


def main() -> int:
    """Write .env beside docker-compose.yml and say what was generated."""
    added = write()
    if added:
        print(f"[env] wrote {TARGET}: set {', '.join(added)}")
    else:
        print(f"[env] {TARGET} already sets every variable of {EXAMPLE.name}; nothing changed")
    print("[env] the admin password (dashboards, API tokens) is SYNC_ADMIN_PASSWORD in it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
