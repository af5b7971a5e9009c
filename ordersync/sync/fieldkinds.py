"""The value kinds a synced field may have: one check, one column type, one JSON form each.

The sink checks incoming values with `check`, a schema version's migration creates the column
from `sql_type`, and a side's database keeps the declaration as `to_json` (read back by
`from_json`, which trusts nothing it reads).
"""

from dataclasses import dataclass

# the order lines: 1 to MAX_ITEMS of {sku: 1 to SKU_LENGTH characters, quantity in QUANTITY},
# nothing else. The API, the sink and the database (ITEMS_FUNCTION) all read these.
MAX_ITEMS = 100
SKU_LENGTH = 64
QUANTITY = (1, 10_000)
LINE_KEYS = frozenset({"sku", "quantity"})


class BadValue(ValueError):
    """A value the field's kind refuses."""


@dataclass(frozen=True)
class Text:
    """A string of 1 to max_length characters without NUL; '' and null too when nullable."""

    max_length: int
    nullable: bool = False

    def check(self, value) -> None:
        """Refuse anything but a fitting string (or null when nullable)."""
        if value is None and self.nullable:
            return
        if not isinstance(value, str) or not value and not self.nullable:
            raise BadValue(f"expected a {'' if self.nullable else 'non-empty '}string")
        if len(value) > self.max_length or "\x00" in value:
            raise BadValue(f"longer than {self.max_length} characters or holds NUL")

    def sql_type(self) -> str:
        """The column type."""
        return f"varchar({self.max_length})"

    def sql_check(self, column: str) -> str | None:
        """The database's form of the same rule (the type bounds the length)."""
        return None if self.nullable else f"{column} <> ''"

    def to_json(self) -> dict:
        """The kind as the database keeps it."""
        return {"kind": "text", "max_length": self.max_length, "nullable": self.nullable}


@dataclass(frozen=True)
class Choice:
    """One of a few strings."""

    choices: tuple[str, ...]
    nullable: bool = False

    def check(self, value) -> None:
        """Refuse anything but one of the choices (or null when nullable)."""
        if value is None and self.nullable:
            return
        if value not in self.choices:
            raise BadValue(f"not one of {', '.join(self.choices)}")

    def sql_type(self) -> str:
        """The column type (the CHECK comes from `sql_check`)."""
        return f"varchar({max(map(len, self.choices))})"

    def sql_check(self, column: str) -> str | None:
        """The database's form of the same rule."""
        return f"{column} IN (" + ", ".join(f"'{c}'" for c in self.choices) + ")"

    def to_json(self) -> dict:
        """The kind as the database keeps it."""
        return {"kind": "choice", "choices": list(self.choices), "nullable": self.nullable}


@dataclass(frozen=True)
class Flag:
    """True or false."""

    nullable: bool = False

    def check(self, value) -> None:
        """Refuse anything but a boolean."""
        if value is None and self.nullable:
            return
        if not isinstance(value, bool):
            raise BadValue("expected true or false")

    def sql_type(self) -> str:
        """The column type."""
        return "boolean"

    def sql_check(self, column: str) -> str | None:
        """The type is the rule."""
        return None

    def to_json(self) -> dict:
        """The kind as the database keeps it."""
        return {"kind": "flag", "nullable": self.nullable}


@dataclass(frozen=True)
class Integer:
    """A whole number within [minimum, maximum]."""

    minimum: int
    maximum: int
    nullable: bool = False

    def check(self, value) -> None:
        """Refuse anything but an integer in range (booleans are not integers here)."""
        if value is None and self.nullable:
            return
        if type(value) is not int or not self.minimum <= value <= self.maximum:
            raise BadValue(f"expected an integer in [{self.minimum}, {self.maximum}]")

    def sql_type(self) -> str:
        """The column type."""
        return "bigint"

    def sql_check(self, column: str) -> str | None:
        """The database's form of the same rule."""
        return f"{column} BETWEEN {self.minimum} AND {self.maximum}"

    def to_json(self) -> dict:
        """The kind as the database keeps it."""
        return {
            "kind": "integer",
            "minimum": self.minimum,
            "maximum": self.maximum,
            "nullable": self.nullable,
        }


@dataclass(frozen=True)
class Items:
    """The order lines: a JSON array of 1 to MAX_ITEMS lines."""

    nullable: bool = False

    def check(self, value) -> None:
        """Refuse anything but an array of 1 to MAX_ITEMS valid lines."""
        if value is None and self.nullable:
            return
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_ITEMS:
            raise BadValue(f"expected an array of 1 to {MAX_ITEMS} items")
        for line in value:
            check_line(line)

    def sql_type(self) -> str:
        """The column type."""
        return "jsonb"

    def sql_check(self, column: str) -> str | None:
        """The database's form of the same rule (a function: a CHECK cannot hold a query)."""
        return f"public.{ITEMS_FUNCTION}({column})"

    def to_json(self) -> dict:
        """The kind as the database keeps it."""
        return {"kind": "items", "nullable": self.nullable}


Kind = Text | Choice | Flag | Integer | Items


def check_line(line) -> None:
    """Refuse an order line unless it is {sku, quantity} within their limits, nothing else."""
    if not isinstance(line, dict) or line.keys() != LINE_KEYS:
        raise BadValue("each item: expected an object of sku and quantity, nothing else")
    sku, quantity = line["sku"], line["quantity"]
    if not isinstance(sku, str) or not 1 <= len(sku) <= SKU_LENGTH or "\x00" in sku:
        raise BadValue(f"item sku: expected 1 to {SKU_LENGTH} characters without NUL")
    if type(quantity) is not int or not QUANTITY[0] <= quantity <= QUANTITY[1]:
        raise BadValue(f"item quantity: expected an integer in [{QUANTITY[0]}, {QUANTITY[1]}]")


ITEMS_FUNCTION = "order_items_valid"


def items_function_sql() -> str:
    """The function that checks order lines in the database, as `check_line` does.

    Immutable and pinned to pg_catalog, so a CHECK constraint may call it and no session can
    stand in a function of its own for one it calls.
    """
    low, high = QUANTITY
    return f"""
CREATE OR REPLACE FUNCTION public.{ITEMS_FUNCTION}(items jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
  SELECT CASE WHEN items IS NULL THEN true
    WHEN jsonb_typeof(items) <> 'array' THEN false
    WHEN jsonb_array_length(items) NOT BETWEEN 1 AND {MAX_ITEMS} THEN false
    ELSE NOT EXISTS (
      SELECT FROM jsonb_array_elements(items) AS line
      WHERE CASE WHEN jsonb_typeof(line) <> 'object' THEN true
        WHEN (SELECT count(*) FROM jsonb_object_keys(line)) <> 2 THEN true
        WHEN jsonb_typeof(line->'sku') IS DISTINCT FROM 'string' THEN true
        WHEN length(line->>'sku') NOT BETWEEN 1 AND {SKU_LENGTH} THEN true
        WHEN jsonb_typeof(line->'quantity') IS DISTINCT FROM 'number' THEN true
        WHEN line->>'quantity' !~ '^[0-9]{{1,5}}$' THEN true
        ELSE (line->>'quantity')::int NOT BETWEEN {low} AND {high} END)
  END
$$"""


# an integer column of ours is a bigint: a declared range must fit it
BIGINT = 2**63 - 1


def _bounded_int(value, what: str) -> int:
    if type(value) is not int or not -BIGINT <= value <= BIGINT:
        raise ValueError(f"{what}: expected an integer")
    return value


def kind_from_json(spec) -> Kind:
    """Read a kind back from its JSON form, refusing anything malformed."""
    if not isinstance(spec, dict):
        raise ValueError("kind: expected an object")
    nullable = spec.get("nullable", False)
    if not isinstance(nullable, bool):
        raise ValueError("kind.nullable: expected true or false")
    name = spec.get("kind")
    if name == "text":
        length = _bounded_int(spec.get("max_length"), "kind.max_length")
        if not 1 <= length <= 10_485_760:
            raise ValueError("kind.max_length: expected 1 to 10485760")
        return Text(length, nullable)
    if name == "choice":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices or len(choices) > 256:
            raise ValueError("kind.choices: expected 1 to 256 strings")
        if not all(isinstance(c, str) and 0 < len(c) <= 64 and "'" not in c for c in choices):
            raise ValueError("kind.choices: each 1 to 64 characters, without quotes")
        return Choice(tuple(choices), nullable)
    if name == "flag":
        return Flag(nullable)
    if name == "integer":
        low = _bounded_int(spec.get("minimum"), "kind.minimum")
        high = _bounded_int(spec.get("maximum"), "kind.maximum")
        if low > high:
            raise ValueError("kind: minimum above maximum")
        return Integer(low, high, nullable)
    if name == "items":
        return Items(nullable)
    raise ValueError(f"kind: unknown kind {str(name)[:32]!r}")
