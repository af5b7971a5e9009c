"""Extension objects, created here and initialised in each app factory."""

import time

from flask import current_app
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

# verified tokens remembered per process; beyond this many the memory starts over
MAX_VERIFIED_TOKENS = 4096


class TokenManager(JWTManager):
    """Flask-JWT-Extended, remembering each token it verified until the token expires.

    Checking a token parses it three times (PyJWT checks every base64 character in Python), a
    third of the Python work of a request; a client sends the same token many times. Entries are
    keyed by the exact token and by this app's key, issuer and audience, so a token is only
    ever accepted where it was verified. Who the token speaks for is still checked per request.
    """

    def __init__(self):
        super().__init__()
        self.verified: dict[tuple, dict] = {}

    def _decode_jwt_from_config(self, encoded_token, csrf_value=None, allow_expired=False):
        """Decode and verify a token, or return its claims verified earlier and not expired."""
        if csrf_value is not None or allow_expired:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        config = current_app.config
        key = (
            encoded_token,
            config.get("JWT_SECRET_KEY"),
            config.get("JWT_DECODE_ISSUER"),
            config.get("JWT_DECODE_AUDIENCE"),
        )
        claims = self.verified.get(key)
        if claims is None or time.time() >= claims["exp"]:
            claims = super()._decode_jwt_from_config(encoded_token)
            if len(self.verified) >= MAX_VERIFIED_TOKENS:
                self.verified = {}
            if "exp" in claims:
                self.verified[key] = claims
        return dict(claims)


class Base(DeclarativeBase):
    """Declarative base of both services' models."""


# responses serialise the committed row: no reason to reload it with another SELECT
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
jwt = TokenManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
