"""Generate, from the mapping, the trigger that versions every local write to an order table.

Any writer that is not the sink (API, admin page, psql, bulk UPDATE) goes through it: it marks
the row as authored by this side and bumps the logical version of each synced field that
changed. Only the sink's own role may write authorship and versions as given: trust comes from
the session's role, which no client can forge with a setting. A DELETE by anyone but the
table's owner becomes a tombstone; the owner may purge tombstones, and purged ids are remembered
so that no late or replayed event brings the order back.
"""

import json

from ordersync.db.roles import PURGED_TABLE, SINK
from ordersync.sync.mapping import CLOCK_COLUMN, LATEST, SYNC_COLUMN, TABLES, TOMBSTONE, FieldSet


def function_name(side: str) -> str:
    """Return the name of the trigger function of one side's table."""
    return f"{TABLES[side]}_sync_versioning"


def _bump(side: str, fields: FieldSet) -> str:
    """PL/pgSQL lines that bump the clock entry of each changed synced field."""
    lines = []
    for f in fields.fields:
        column = f.column(side)
        lines.append(
            f"    IF NEW.{column} IS DISTINCT FROM OLD.{column} THEN\n"
            f"      clock := pg_catalog.jsonb_set(clock, '{{{f.name}}}', "
            f"pg_catalog.to_jsonb(coalesce((clock->>'{f.name}')::bigint, 0) + 1));\n"
            f"    END IF;"
        )
    return "\n".join(lines)


def create_sql(side: str, fields: FieldSet = LATEST) -> str:
    """Return the SQL that (re)creates the versioning trigger of one side's table.

    `fields` is the field set of the schema version the side is at: a field it does not sync
    yet, or no longer, keeps whatever clock entry the row has.
    """
    table = TABLES[side]
    initial = json.dumps({f.name: 1 for f in fields.fields})
    fn = function_name(side)
    return f"""
CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  clock jsonb;
BEGIN
  IF TG_OP = 'DELETE' THEN
    -- catalogs and tables named in full: a session's temporary view or table, searched before
    -- any schema for an unqualified name, must not stand in for them (any role may create one)
    IF (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
        = (SELECT relowner FROM pg_catalog.pg_class WHERE oid = TG_RELID) THEN
      IF NOT OLD.{TOMBSTONE} THEN
        RAISE EXCEPTION 'order % is live: only deleted orders can be purged', OLD.id
          USING ERRCODE = 'check_violation';
      END IF;
      EXECUTE pg_catalog.format(
        'INSERT INTO %I.%I (id) VALUES ($1) ON CONFLICT DO NOTHING',
        TG_TABLE_SCHEMA, '{PURGED_TABLE}'
      ) USING OLD.id;
      RETURN OLD;
    END IF;
    -- a hard delete becomes a tombstone, so a late update cannot resurrect the order
    EXECUTE pg_catalog.format(
      'UPDATE %I.%I SET {TOMBSTONE} = true WHERE id = $1 AND NOT {TOMBSTONE}',
      TG_TABLE_SCHEMA, TG_TABLE_NAME
    ) USING OLD.id;
    RETURN NULL;
  END IF;
  NEW.updated_at := pg_catalog.now();
  IF TG_OP = 'INSERT' THEN
    NEW.created_at := pg_catalog.now();
    NEW.version := 1;
  ELSE
    NEW.created_at := OLD.created_at;
    NEW.version := OLD.version + 1;
  END IF;
  IF current_user = '{SINK.name}' THEN
    RETURN NEW;
  END IF;
  NEW.{SYNC_COLUMN} := '{side}';
  IF TG_OP = 'INSERT' THEN
    NEW.{CLOCK_COLUMN} := '{initial}'::jsonb;
    RETURN NEW;
  END IF;
  IF OLD.{TOMBSTONE} AND NOT NEW.{TOMBSTONE} THEN
    RAISE EXCEPTION 'order % is deleted; a tombstone cannot be revived', OLD.id
      USING ERRCODE = 'check_violation';
  END IF;
  clock := OLD.{CLOCK_COLUMN};
{_bump(side, fields)}
  NEW.{CLOCK_COLUMN} := clock;
  RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS {fn} ON {table};
CREATE TRIGGER {fn}
  BEFORE INSERT OR UPDATE OR DELETE ON {table}
  FOR EACH ROW EXECUTE FUNCTION {fn}();
"""


def drop_sql(side: str) -> str:
    """Return the SQL that removes the versioning trigger of one side's table."""
    fn = function_name(side)
    return f"DROP TRIGGER IF EXISTS {fn} ON {TABLES[side]};\nDROP FUNCTION IF EXISTS {fn}();\n"
