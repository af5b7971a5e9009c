"""docker-compose.yml, loaded once."""

import yaml

from stack import topology

COMPOSE = yaml.safe_load((topology.ROOT / "docker-compose.yml").read_text())


SERVICES = COMPOSE["services"]


def env(service: str) -> dict[str, str]:
    """A service's environment as a dict of strings, whichever form the file uses."""
    raw = SERVICES[service].get("environment", {})
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: str(value) for key, value in raw.items()}
