"""The published event schemas in docs/schemas, and events drawn from them for property tests.

The strategies read a value schema's rules (types, enums, lengths, ranges, patterns) as a
consumer would; the two JSON-in-a-string columns get the content their description promises.
"""

import json
from datetime import UTC
from pathlib import Path

from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ordersync.sync.eventschema import NO_NUL, VERSION
from ordersync.sync.fieldkinds import QUANTITY
from ordersync.sync.mapping import CLOCK_COLUMN, MAX_VERSION, topic

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
# the schemas the connectors' events follow today; v1's files sit at the top of docs/schemas
CURRENT = VERSION


def schema(name: str) -> dict:
    """Load one published schema."""
    return json.loads((SCHEMAS / name).read_text())


def value_schema(side: str, version: int = CURRENT) -> dict:
    """The value schema of one side's change topic, at a schema version."""
    folder = "" if version == 1 else f"v{version}/"
    return schema(f"{folder}{topic(side)}.value.json")


# PostgreSQL text holds neither NUL nor a lone surrogate: no event carries one
CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
# the widest integer a PostgreSQL column (bigint) or Debezium's envelope holds
BIGINT = 2**63 - 1
# order lines as the API takes them (what v1's description of items promises)
LINE = st.fixed_dictionaries(
    {"sku": st.text(CHARS, min_size=1, max_size=8), "quantity": st.integers(*QUANTITY)}
)
LINES = st.lists(LINE, min_size=1, max_size=100)
CLOCK_VERSIONS = st.integers(0, 3) | st.just(MAX_VERSION)


def clocks(names) -> st.SearchStrategy:
    """`field_versions` contents: logical versions of some of the fields named."""
    return st.dictionaries(st.sampled_from(sorted(names)), CLOCK_VERSIONS)


def strings(rule: dict) -> st.SearchStrategy:
    """Strings a string rule admits."""
    if rule.get("format") == "uuid":
        return st.uuids().map(str)
    if rule.get("format") == "date-time":
        times = st.datetimes(timezones=st.just(UTC))
        return times.map(lambda t: t.isoformat().replace("+00:00", "Z"))
    if rule.get("pattern", NO_NUL) != NO_NUL:  # a decimal: draw one, not any text
        return st.from_regex(rule["pattern"], fullmatch=True)
    shortest, longest = rule.get("minLength", 0), rule.get("maxLength")
    text = st.text(CHARS, min_size=shortest, max_size=min(longest or 40, 40))
    return text if longest is None else text | CHARS.map(lambda c: c * longest)


def values(rule: dict, column: str, clock_names) -> st.SearchStrategy:
    """Values a column's rule admits; JSON text holds what its column's description says."""
    if rule.get("contentMediaType") == "application/json":
        content = clocks(clock_names) if column == CLOCK_COLUMN else LINES
        text = content.map(json.dumps)
        return text | st.none() if "null" in rule["type"] else text
    if "const" in rule:
        return st.just(rule["const"])
    if "enum" in rule:
        return st.sampled_from(rule["enum"])
    kinds = {
        "null": st.none(),
        "boolean": st.booleans(),
        "integer": st.integers(rule.get("minimum", -BIGINT), rule.get("maximum", BIGINT)),
    }
    types = rule["type"] if isinstance(rule["type"], list) else [rule["type"]]
    return st.one_of([strings(rule) if t == "string" else kinds[t] for t in types])


def objects(rule: dict, clock_names=()) -> st.SearchStrategy:
    """Objects an object rule admits: every required property, and some of the others."""
    drawn = {name: values(p, name, clock_names) for name, p in rule["properties"].items()}
    required = {name: s for name, s in drawn.items() if name in rule["required"]}
    optional = {name: s for name, s in drawn.items() if name not in rule["required"]}
    return st.fixed_dictionaries(required, optional=optional)


@st.composite
def change_events(draw, document: dict, clock_names) -> dict:
    """A change event a value schema admits, its rows' clocks naming some of `clock_names`."""
    op = draw(st.sampled_from(document["properties"]["op"]["enum"]))
    rows = objects(document["$defs"]["row"], clock_names)
    envelope = {
        "op": op,
        "before": draw(rows) if op in ("u", "d") else None,
        "after": None if op == "d" else draw(rows),
        "source": draw(objects(document["$defs"]["source"])),
    }
    rest = {k: v for k, v in document["properties"].items() if k not in envelope}
    return envelope | draw(objects({"properties": rest, "required": document["required"]}))


def text_errors(rule: dict, text: str) -> list[str]:
    """Errors of JSON text against the contentSchema a column's rule gives it."""
    try:
        content = json.loads(text)
    except ValueError:
        return ["not JSON"]
    return [e.message for e in Draft202012Validator(rule["contentSchema"]).iter_errors(content)]


def content_errors(document: dict, event: dict) -> list[str]:
    """Errors of the JSON text in an event's rows (validators only annotate contentSchema)."""
    rules = document["$defs"]["row"]["properties"]
    errors = []
    for row in filter(None, (event.get("before"), event.get("after"))):
        for column, rule in rules.items():
            if "contentSchema" in rule and isinstance(row.get(column), str):
                errors += [f"{column}: {e}" for e in text_errors(rule, row[column])]
    return errors
