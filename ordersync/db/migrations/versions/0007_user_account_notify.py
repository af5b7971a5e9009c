"""NOTIFY user_account_changed on every change to user_account: workers empty their user cache.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# per statement: a bulk change is one notification, and NOTIFY folds repeats in a transaction
CREATE = """
CREATE FUNCTION user_account_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('user_account_changed', '');
  RETURN NULL;
END
$$;
CREATE TRIGGER user_account_notify
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON user_account
  FOR EACH STATEMENT EXECUTE FUNCTION user_account_notify();
"""


def upgrade():
    op.execute(CREATE)


def downgrade():
    op.execute("DROP TRIGGER user_account_notify ON user_account")
    op.execute("DROP FUNCTION user_account_notify()")
