"""One JSON error shape for every failure, 500 included."""

import logging

from flask import jsonify
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

log = logging.getLogger(__name__)

# headers an error must keep when it is rewritten as JSON
KEPT_HEADERS = ("WWW-Authenticate", "Retry-After", "Allow")


def error_body(error: HTTPException) -> dict:
    """Build {"code", "status", "message", "errors"?} from an HTTP exception."""
    body = {"code": error.code, "status": error.name, "message": error.description}
    data = getattr(error, "data", None) or {}
    body["message"] = data.get("message", body["message"])
    if data.get("messages") or data.get("errors"):
        body["errors"] = data.get("errors") or data["messages"]
    return body


def json_error(code: int, message: str, headers: dict | None = None):
    """Build an error response in the shared shape, outside an exception handler."""
    response = jsonify(
        {"code": code, "status": HTTP_STATUS_CODES.get(code, ""), "message": message}
    )
    response.status_code = code
    response.headers.update(headers or {})
    return response


def handle_http_exception(error: HTTPException):
    """Answer any HTTP error as JSON, keeping headers such as WWW-Authenticate and Retry-After."""
    response = jsonify(error_body(error))
    response.status_code = error.code
    source = error.response.headers if error.response is not None else dict(error.get_headers())
    for key in KEPT_HEADERS:
        if key in source:
            response.headers[key] = source[key]
    data = getattr(error, "data", None) or {}
    response.headers.update(data.get("headers") or {})
    return response


def handle_unexpected(error: Exception):
    """Log an unhandled exception and answer a bare 500 (no stack trace leaves the server)."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("unhandled error")
    return handle_http_exception(InternalServerError())


def handle_database_error(error: DBAPIError):
    """A connection found dead (the pool now replaces it): 503, worth retrying; else a 500."""
    if not error.connection_invalidated:
        return handle_unexpected(error)
    log.warning("database connection lost: %s", type(error.orig).__name__)
    return json_error(503, "The database connection was lost; try again.", {"Retry-After": "1"})


def register_errorhandlers(app) -> None:
    """Route every error through the JSON handlers."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
