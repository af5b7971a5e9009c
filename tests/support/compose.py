"""docker-compose.yml, loaded once."""

import re

import yaml

from stack import topology

COMPOSE = yaml.safe_load((topology.ROOT / "docker-compose.yml").read_text())


SERVICES = COMPOSE["services"]


DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")


def env(service: str, settings: dict[str, str] | None = None) -> dict[str, str]:
    """A service's environment as a dict of strings, whichever form the file uses.

    `${NAME:-default}` becomes NAME's value in `settings`, else its default, as compose does.
    """
    raw = SERVICES[service].get("environment", {})
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)

    def resolve(match: re.Match) -> str:
        return (settings or {}).get(match[1], match[2])

    return {key: DEFAULTED.sub(resolve, str(value)) for key, value in raw.items()}
