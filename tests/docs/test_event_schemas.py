"""The published event schemas match the tables, and v2's files match the declaration.

A column added without its schema fails here, and so does a declaration changed without
`python -m ordersync.sync.eventschema --write`.
"""

import pytest
from jsonschema import Draft202012Validator

from ordersync.sync import eventschema
from ordersync.sync.mapping import BOOKKEEPING, LATEST, LOCAL_FIELDS, SIDES, TABLES, TOMBSTONE
from tests.support.schemas import SCHEMAS, schema, value_schema

VERSIONS = (1, eventschema.VERSION)
PUBLISHED = sorted(str(path.relative_to(SCHEMAS)) for path in SCHEMAS.rglob("*.json"))


def order_table(side: str):
    """The SQLAlchemy table of one side's orders."""
    model = __import__(f"{side}.models", fromlist=["models"])
    return next(
        m.__table__
        for m in vars(model).values()
        if getattr(m, "__tablename__", None) == TABLES[side]
    )


@pytest.mark.parametrize("name", PUBLISHED)
def test_every_schema_is_a_valid_draft_2020_12_schema(name):
    Draft202012Validator.check_schema(schema(name))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("side", SIDES)
def test_the_row_schema_lists_exactly_the_tables_columns(side, version):
    table = order_table(side)
    row = value_schema(side, version)["$defs"]["row"]
    assert set(row["properties"]) == {c.name for c in table.columns}


@pytest.mark.parametrize("side", SIDES)
def test_v1_requires_every_column(side):
    row = value_schema(side, 1)["$defs"]["row"]
    assert set(row["required"]) == set(row["properties"])
    assert row["additionalProperties"] is False


@pytest.mark.parametrize("side", SIDES)
def test_v2_requires_all_but_the_synced_fields_that_a_schema_step_may_add_or_retire(side):
    row = value_schema(side, 2)["$defs"]["row"]
    tombstone = LATEST.columns(side)[TOMBSTONE]
    assert set(row["required"]) == {*BOOKKEEPING, *LOCAL_FIELDS[side], tombstone}
    assert row["additionalProperties"] is not False


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("side", SIDES)
def test_text_limits_match_the_columns(side, version):
    table = order_table(side)
    properties = value_schema(side, version)["$defs"]["row"]["properties"]
    for column in table.columns:
        length = getattr(column.type, "length", None)
        if length and "enum" not in properties[column.name]:
            assert properties[column.name]["maxLength"] == length, column.name


@pytest.mark.parametrize("path", sorted(eventschema.rendered()), ids=lambda p: p.name)
def test_the_committed_v2_schemas_are_what_the_declaration_generates(path):
    assert path.read_text() == eventschema.rendered()[path], (
        "stale: run `python -m ordersync.sync.eventschema --write`"
    )


def test_the_regenerate_command_writes_what_the_check_then_accepts(tmp_path, monkeypatch):
    monkeypatch.setattr(eventschema, "OUTPUT", tmp_path / "v2")
    assert eventschema.main([]) == 1  # nothing written yet
    assert eventschema.main(["--write"]) == 0
    assert eventschema.main([]) == 0
    written = sorted(tmp_path.glob("v2/*.json"))
    assert len(written) == len(SIDES)
    written[0].write_text(written[0].read_text().replace('"maxLength": 32', '"maxLength": 33'))
    assert eventschema.main([]) == 1
