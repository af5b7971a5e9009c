"""Strict JSON request bodies: too deep, NaN, huge numbers or bad UTF-8 are a 400, not a 500.

Python's json module answers deep nesting with RecursionError and 5,000-digit numbers with a bare
ValueError, and lets lone surrogates through to the database driver; orjson refuses all of them
with one JSONDecodeError (nesting is capped at 1024 levels).
"""

import orjson
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest import abort
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, parsing with orjson (request.get_json: the login throttle's key)."""

    def loads(self, s, **kwargs):
        """Parse JSON strictly; anything odd raises a ValueError (orjson's JSONDecodeError)."""
        return orjson.loads(s)


class StrictParser(FlaskParser):
    """webargs' Flask parser reading JSON bodies with orjson."""

    def load_json(self, req, schema):
        """Return the JSON body, `missing` without one, or answer 400 naming what is wrong."""
        if not is_json_request(req) or not req.get_data(cache=True):
            return core.missing
        try:
            return orjson.loads(req.get_data(cache=True))
        except orjson.JSONDecodeError as error:
            reason = f"Invalid JSON body: {error.msg}."
            abort(400, message=reason, messages={"json": [reason]})


class Blueprint(SmorestBlueprint):
    """A flask-smorest blueprint whose @arguments parse JSON strictly."""

    ARGUMENTS_PARSER = StrictParser()
