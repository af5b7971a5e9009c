"""The benchmark's sizes and rates from the environment, each checked by name at start."""

import os

from ordersync.environment import BadSetting, checked, seconds, setting

# no size, count, rate or duration the benchmarks take is larger (or infinite, or NaN)
LARGEST = 1e9


def number(name: str, default: float, low: float = 0) -> float:
    """A size from the environment; anything but a finite number from low up exits 1, named."""
    return checked(name, seconds(low, LARGEST), default)


def numbers(name: str, default: str) -> list[float]:
    """Comma-separated positive numbers from the environment, each checked like number()."""
    parts = (os.environ.get(name) or default).split(",")
    try:
        return [setting({name: part or "empty"}, name, seconds(1e-9, LARGEST), 0) for part in parts]
    except BadSetting as error:
        raise SystemExit(str(error)) from None
