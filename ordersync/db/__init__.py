"""PostgreSQL: order columns, job roles, the versioning trigger, schema versions, migrations."""

from pathlib import Path

# the migrations both services run: Flask-Migrate's directory
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
