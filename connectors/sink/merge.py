"""Pure merge rules: what a change event from one side does to the other side's row.

No Kafka, no database: everything here is a function of its arguments.
"""

from dataclasses import dataclass, field, replace
from typing import NamedTuple, Protocol

from ordersync.sync.decisions import INCOMING, LOCAL, NEWER_VERSION, OWNER_TIE
from ordersync.sync.mapping import LATEST, TOMBSTONE, FieldSet


class Base(Protocol):
    """The source row an incoming change was written over (its before image), read lazily."""

    def version(self, name: str) -> int | None:
        """The field's version before the change (None when unknown)."""

    def value(self, name: str):
        """The field's value before the change (`UNKNOWN` when the row lacks it)."""


UNKNOWN = object()


@dataclass(frozen=True)
class State:
    """An order's synced state under canonical field names, with its per-field clock.

    `base` is, for an incoming change, the state it was written over (None when unknown).
    """

    id: str
    values: dict
    clock: dict
    author: str
    base: Base | None = field(default=None, compare=False, repr=False)

    def version(self, name: str) -> int:
        """Return the logical version of one field (0 when never written)."""
        return int(self.clock.get(name, 0))

    def same_as(self, other: "State | None") -> bool:
        """Tell whether two states hold the same values and versions."""
        return other is not None and self.values == other.values and self.clock == other.clock


class Conflict(NamedTuple):
    """A decision between two values of one field written concurrently, as the target saw it."""

    field: str
    winner: str  # LOCAL or INCOMING
    rule: str  # NEWER_VERSION or OWNER_TIE
    local_value: object
    local_version: int
    incoming_value: object
    incoming_version: int


@dataclass(frozen=True)
class Outcome:
    """What to do with one event: write `state`, or skip it for `reason`; and what it decided."""

    write: bool
    reason: str
    state: State | None = None
    conflicts: tuple[Conflict, ...] = field(default=())


def overwrote_unseen(name: str, local: State, remote: State) -> bool:
    """Tell whether the incoming change was written over a value of the field we never had.

    Its before image holds the field at our version but with another value: the source wrote
    over its own concurrent edit (one that lost or has yet to meet ours), never having seen ours.
    """
    base = remote.base
    if base is None:
        return False
    before = base.value(name)
    # the value first: an ordinary edit, made over our value, never decodes the clock
    if before is UNKNOWN or before == local.values.get(name):
        return False
    return base.version(name) == local.version(name)


def merge_field(name: str, local: State, remote: State, remote_side: str, owner: str) -> tuple:
    """Return the winning (value, version) of one field, and the Conflict it decided or None."""
    lv, rv = local.version(name), remote.version(name)
    lval, rval = local.values.get(name), remote.values.get(name)
    if name == TOMBSTONE:
        # deletion is final: once either side deleted the order, it stays deleted
        return bool(lval) or bool(rval), max(lv, rv), None
    if rv > lv:
        if lval == rval or not overwrote_unseen(name, local, remote):
            return rval, rv, None  # an ordinary later edit, made over our value
        return rval, rv, Conflict(name, INCOMING, NEWER_VERSION, lval, lv, rval, rv)
    if rv < lv or lval == rval:
        # an older incoming value: a replay, or an edit the other side records losing
        return lval, lv, None
    # same version, different values: the field's owner side keeps its value
    if owner == remote_side:
        return rval, lv, Conflict(name, INCOMING, OWNER_TIE, lval, lv, rval, rv)
    return lval, lv, Conflict(name, LOCAL, OWNER_TIE, lval, lv, rval, rv)


class Merged(NamedTuple):
    """The merged state, and the conflicts it decided (fields written concurrently)."""

    state: State
    conflicts: tuple[Conflict, ...] = ()


def merge(
    local: State | None, remote: State, remote_side: str, fields: FieldSet = LATEST
) -> Merged:
    """Merge a remote state into the local one field by field; also name the conflicting fields.

    Only the fields of `fields` that the remote state carries are merged: any other field keeps
    its local value and clock entry. A new row takes the declared default of a field the remote
    state lacks (its side has no such column yet).
    """
    owners = fields.owners
    if (
        local is None
        and remote.values.keys() == owners.keys()
        and remote.clock.keys() <= owners.keys()
    ):
        return Merged(remote)  # a new row with every field: the common insert, nothing to fill
    if local is None:
        values = {n: remote.values.get(n, d) for n, d in fields.defaults.items()}
        clock = {n: v for n, v in remote.clock.items() if n in remote.values and n in owners}
        return Merged(replace(remote, values=values, clock=clock, base=None))
    values, clock, conflicts = dict(local.values), dict(local.clock), []
    for name in remote.values:
        if name not in owners:
            continue
        values[name], version, conflict = merge_field(
            name, local, remote, remote_side, owners[name]
        )
        if version or name in clock:  # a field never written on either side stays unversioned
            clock[name] = version
        if conflict is not None:
            conflicts.append(conflict)
    return Merged(replace(local, values=values, clock=clock, author=remote_side), tuple(conflicts))


def decide(
    remote: State,
    current: State | None,
    remote_side: str,
    target_side: str,
    fields: FieldSet = LATEST,
) -> Outcome:
    """Decide what a remote change does to the current target row."""
    if remote.author == target_side:
        return Outcome(False, "echo")
    merged, conflicts = merge(current, remote, remote_side, fields)
    if merged.same_as(current):
        reason = "duplicate" if remote.same_as(current) else "stale"
        return Outcome(False, reason, conflicts=conflicts)
    return Outcome(True, "applied", merged, conflicts)


def tombstoned(state: State) -> State:
    """Return the state with its tombstone set (how a hard delete from the other side arrives)."""
    return replace(state, values=state.values | {TOMBSTONE: True})


def plan_batch(
    events: list,
    current: dict[str, State],
    remote_side: str,
    target_side: str,
    purged: frozenset = frozenset(),
    fields: FieldSet = LATEST,
):
    """Fold a batch of remote states into the current rows, in order.

    Returns the states to write (only rows that end up different) and one Outcome per event.
    Orders purged on the target stay gone: no late or replayed event brings them back.
    """
    states = dict(current)
    outcomes = []
    for remote in events:
        if remote.id in purged:
            outcomes.append(Outcome(False, "purged"))
            continue
        outcome = decide(remote, states.get(remote.id), remote_side, target_side, fields)
        if outcome.write:
            states[remote.id] = outcome.state
        outcomes.append(outcome)
    writes = {i: s for i, s in states.items() if not s.same_as(current.get(i))}
    return writes, outcomes
