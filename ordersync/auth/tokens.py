"""Bearer tokens for the order API: issuing and checking them, roles, the login throttle."""

import hashlib

from flask import current_app, request
from flask.views import MethodView
from flask_jwt_extended import create_access_token, current_user, verify_jwt_in_request
from flask_limiter.util import get_remote_address
from flask_smorest import abort
from marshmallow import Schema, ValidationError, fields, validate

from ordersync.auth.accounts import find_account
from ordersync.auth.users import CONTROL_CHARACTERS, authenticate
from ordersync.web.errors import json_error
from ordersync.web.extensions import jwt, limiter
from ordersync.web.parsing import Blueprint

READ_METHODS = {"GET", "HEAD"}
BEARER = {"WWW-Authenticate": 'Bearer realm="api"'}

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Access tokens")


class NoControlCharacters(validate.Regexp):
    """Refuse control characters; a Regexp, so the OpenAPI document states the rule too."""

    def __init__(self):
        super().__init__(r"^[^\x00-\x1f\x7f]*$", error="Must not contain control characters.")

    def __call__(self, value: str) -> str:
        # a search, not the pattern: a match's $ would let a trailing newline through
        if CONTROL_CHARACTERS.search(value):
            raise ValidationError(self.error)
        return value


class CredentialsSchema(Schema):
    """A login."""

    username = fields.String(
        required=True, validate=[validate.Length(1, 64), NoControlCharacters()]
    )
    password = fields.String(
        required=True, validate=[validate.Length(1, 1024), NoControlCharacters()], load_only=True
    )


class TokenSchema(Schema):
    """An access token to send as `Authorization: Bearer <token>`."""

    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


def login_key() -> str:
    """Throttle key of a login attempt: the client address and the username tried."""
    username = request.form.get("username")
    if username is None:
        body = request.get_json(silent=True)
        username = body.get("username") if isinstance(body, dict) else None
    # hashed: any length or character fits any storage, and no username sits in Redis
    digest = hashlib.sha256(repr(username).encode()).hexdigest()[:24]
    return f"{get_remote_address()}/{digest}"


# the blueprints holding the sign-ins (the API's token route, the admin's login page)
THROTTLED_BLUEPRINTS = frozenset({"auth", "admin"})


@limiter.request_filter
def unthrottled() -> bool:
    """Skip the limiter outside the sign-ins: it resolves limits on every request otherwise."""
    return request.blueprint not in THROTTLED_BLUEPRINTS


def login_throttle(deduct_when):
    """Limit failed logins per username and address, shared by the API and the admin sign-in."""
    return limiter.shared_limit(
        lambda: current_app.config["LOGIN_FAILURE_LIMIT"],
        scope="login",
        key_func=login_key,
        deduct_when=deduct_when,
        # showing the login page is no attempt, and a blocked address must still see it
        exempt_when=lambda: request.method != "POST",
    )


def failed_login(response) -> bool:
    """Count rejected logins against the throttle, invalid ones (control characters) included."""
    return response.status_code in (401, 422)


def issue_token(user) -> str:
    """Sign a bearer token for the user, bound to their current security stamp."""
    return create_access_token(
        identity=user.username, additional_claims={"stamp": str(user.security_stamp)}
    )


@blp.route("/token")
class Token(MethodView):
    # outermost, so requests that fail validation before the view count too
    @login_throttle(failed_login)
    @blp.doc(security=[])
    @blp.arguments(CredentialsSchema)
    @blp.response(200, TokenSchema)
    def post(self, credentials):
        """Exchange a username and password for a bearer token."""
        user = authenticate(credentials["username"], credentials["password"])
        if user is None:
            abort(401, message="Invalid username or password.", headers=BEARER)
        expires = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
        return {
            "access_token": issue_token(user),
            "token_type": "Bearer",
            "expires_in": int(expires.total_seconds()),
        }


def needed_role() -> str:
    """Editor to write; to read, viewer unless the view asks more (its class's `read_role`)."""
    if request.method not in READ_METHODS:
        return "editor"
    view = current_app.view_functions.get(request.endpoint)
    return getattr(getattr(view, "view_class", None), "read_role", "viewer")


def require_role() -> None:
    """Before any order endpoint: a valid token, and a role that may use this method."""
    if request.method == "OPTIONS":
        return  # Flask answers it with Allow; it reveals no more than the public OpenAPI document
    verify_jwt_in_request()
    needed = needed_role()
    if not current_user.can(needed):
        abort(403, message=f"This needs the {needed} role; you are {current_user.role}.")


def unauthorized(message: str):
    """A 401 in the shared JSON shape, with the Bearer challenge."""
    return json_error(401, message, BEARER)


@jwt.user_lookup_loader
def load_user(_header, payload):
    """Resolve the token to its user, if still active and unchanged since the token was issued."""
    user = find_account(payload["sub"])
    return user if user is not None and user.accepts(payload.get("stamp")) else None


@jwt.user_lookup_error_loader
def user_gone(_header, _payload):
    """The token's user was disabled, removed, or changed password or role."""
    return unauthorized(
        "This token no longer works: its user was disabled or removed, "
        "or changed password or role since it was issued."
    )


@jwt.unauthorized_loader
def missing_token(reason: str):
    """No or malformed Authorization header."""
    return unauthorized(f"Missing bearer token: {reason}.")


@jwt.invalid_token_loader
def invalid_token(reason: str):
    """A token that does not verify (forged, wrong algorithm, wrong issuer or audience, garbled)."""
    return unauthorized(f"Invalid token: {reason}.")


@jwt.expired_token_loader
def expired_token(_header, _payload):
    """A token past its expiry."""
    return unauthorized("The token has expired.")
