"""One JSON error shape for every failure, 500 included."""

import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


def error_body(error: HTTPException) -> dict:
    """Build {"code", "status", "message", "errors"?} from an HTTP exception."""
    body = {"code": error.code, "status": error.name, "message": error.description}
    data = getattr(error, "data", None) or {}
    body["message"] = data.get("message", body["message"])
    if data.get("messages") or data.get("errors"):
        body["errors"] = data.get("errors") or data["messages"]
    return body


def handle_http_exception(error: HTTPException):
    """Answer any HTTP error as JSON, keeping headers such as WWW-Authenticate."""
    response = jsonify(error_body(error))
    response.status_code = error.code
    for key, value in error.get_headers() if error.response is None else []:
        if key.lower() != "content-type":
            response.headers[key] = value
    return response


def handle_unexpected(error: Exception):
    """Log an unhandled exception and answer a bare 500 (no stack trace leaves the server)."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("unhandled error")
    return handle_http_exception(InternalServerError())


def register_errorhandlers(app) -> None:
    """Route every error through the JSON handlers."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
