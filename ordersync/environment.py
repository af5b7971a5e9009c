"""Numbers (and URLs) read from the environment, checked at start: the rules every process shares.

A leaf like ordersync.topology (which reads its ports through it): it imports nothing of ours.
"""

import os

from marshmallow import ValidationError, fields, validate

# a topic's partitions and replication factor, wherever they are read: the same bounds for all
PARTITIONS = (1, 10_000)
REPLICATION = (1, 100)


class UnsafeSettings(RuntimeError):
    """The environment does not hold what a non-development app needs; it must not start."""


class BadSetting(UnsafeSettings):
    """An environment variable holds a value the process cannot run with."""


def whole(low: int, high: int) -> fields.Integer:
    """An integer setting between low and high, inclusive."""
    return fields.Integer(strict=False, validate=validate.Range(low, high))


def one_of(*choices: int) -> fields.Integer:
    """An integer setting that must be one of a few values."""
    return fields.Integer(strict=False, validate=validate.OneOf(choices))


def seconds(low: float, high: float) -> fields.Float:
    """A number of seconds between low and high (NaN and infinity refused)."""
    return fields.Float(allow_nan=False, validate=validate.Range(low, high))


class URLList(fields.Field):
    """Comma-separated http(s) URLs, each without its trailing slash: one per replica."""

    def _deserialize(self, value, attr, data, **kwargs):
        check = validate.URL(schemes={"http", "https"}, require_tld=False)
        return tuple(check(part.strip().rstrip("/")) for part in str(value).split(","))


def setting(environ, name: str, field: fields.Field, default):
    """A value from the environment, or the default when unset; refused by name when invalid.

    Checked with the same marshmallow fields as request bodies: "abc", "-1", "nan" or a value
    out of range stop the process at start, naming the variable, instead of failing later.
    """
    raw = environ.get(name, "")
    if raw == "":
        return default
    try:
        return field.deserialize(raw)
    except ValidationError as error:
        raise BadSetting(f"{name}={str(raw)[:64]!r}: {' '.join(error.messages)}") from None


def checked(name: str, field: fields.Field, default):
    """setting() for a process with no error handling of its own: a bad value exits 1, named."""
    try:
        return setting(os.environ, name, field, default)
    except BadSetting as error:
        raise SystemExit(str(error)) from None
