"""Bearer tokens for the order API: issuing them, checking them, and roles per method."""

from flask import current_app, request
from flask.views import MethodView
from flask_jwt_extended import create_access_token, current_user, verify_jwt_in_request
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from ordersync.errors import json_error
from ordersync.extensions import jwt, limiter
from ordersync.users import authenticate, find_user

READ_METHODS = {"GET", "HEAD", "OPTIONS"}
BEARER = {"WWW-Authenticate": 'Bearer realm="api"'}

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Access tokens")


class CredentialsSchema(Schema):
    """A login."""

    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 1024), load_only=True)


class TokenSchema(Schema):
    """An access token to send as `Authorization: Bearer <token>`."""

    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


def failed_login(response) -> bool:
    """Count only rejected logins against the throttle."""
    return response.status_code == 401


@blp.route("/token")
class Token(MethodView):
    @blp.doc(security=[])
    @blp.arguments(CredentialsSchema)
    @blp.response(200, TokenSchema)
    @limiter.limit(lambda: current_app.config["LOGIN_FAILURE_LIMIT"], deduct_when=failed_login)
    def post(self, credentials):
        """Exchange a username and password for a bearer token."""
        user = authenticate(credentials["username"], credentials["password"])
        if user is None:
            abort(401, message="Invalid username or password.", headers=BEARER)
        expires = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
        token = create_access_token(identity=user.username)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(expires.total_seconds()),
        }


def require_role() -> None:
    """Before any order endpoint: a valid token, and a role that may use this method."""
    verify_jwt_in_request()
    needed = "viewer" if request.method in READ_METHODS else "editor"
    if not current_user.can(needed):
        abort(403, message=f"This needs the {needed} role; you are {current_user.role}.")


def unauthorized(message: str):
    """A 401 in the shared JSON shape, with the Bearer challenge."""
    return json_error(401, message, BEARER)


@jwt.user_lookup_loader
def load_user(_header, payload):
    """Resolve the token's subject to a user still allowed in (else the token stops working)."""
    user = find_user(payload["sub"])
    return user if user is not None and user.active else None


@jwt.user_lookup_error_loader
def user_gone(_header, _payload):
    """The token's user was disabled or removed."""
    return unauthorized("This token's user is disabled or no longer exists.")


@jwt.unauthorized_loader
def missing_token(reason: str):
    """No or malformed Authorization header."""
    return unauthorized(f"Missing bearer token: {reason}.")


@jwt.invalid_token_loader
def invalid_token(reason: str):
    """A token that does not verify (forged, wrong algorithm, garbled)."""
    return unauthorized(f"Invalid token: {reason}.")


@jwt.expired_token_loader
def expired_token(_header, _payload):
    """A token past its expiry."""
    return unauthorized("The token has expired.")
