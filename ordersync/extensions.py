"""Extension objects, created here and initialised in each app factory."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of both services' models."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
