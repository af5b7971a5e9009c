"""The pure merge rules: field-level versions, owners on ties, absorbing tombstones."""

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.sink.merge import (
    INCOMING,
    LOCAL,
    NEWER_VERSION,
    OWNER_TIE,
    Conflict,
    Merged,
    State,
    decide,
    merge,
    plan_batch,
)
from ordersync.sync.mapping import FIELD_NAMES, LATEST, STORE, TOMBSTONE, WAREHOUSE
from tests.support import examples
from tests.support.fakes import state

OWNERS = LATEST.owners


def test_higher_version_wins_per_field():
    local = state(WAREHOUSE, {"status": 2}, status="shipped")
    remote = state(STORE, {"shipping_address": 2}, shipping_address="2 Side St")
    merged, conflicts = merge(local, remote, STORE)
    assert merged.values["status"] == "shipped"
    assert merged.values["shipping_address"] == "2 Side St"
    assert merged.clock["status"] == 2 and merged.clock["shipping_address"] == 2
    assert conflicts == ()


@pytest.mark.parametrize("name", [n for n in FIELD_NAMES if n != TOMBSTONE])
def test_tie_goes_to_the_fields_owner_whichever_side_merges(name):
    value = {"items": [{"sku": "Y", "quantity": 9}]}.get(name, f"{name}-x")
    store = state(STORE, {name: 2}, **{name: value})
    warehouse = state(WAREHOUSE, {name: 2}, **{name: "w-" + str(value)[:20]})
    at_store, c1 = merge(store, warehouse, WAREHOUSE)
    at_warehouse, c2 = merge(warehouse, store, STORE)
    winner = store if OWNERS[name] == STORE else warehouse
    assert at_store.values[name] == at_warehouse.values[name] == winner.values[name]
    assert [c.field for c in c1] == [c.field for c in c2] == [name]
    assert {c1[0].winner, c2[0].winner} == {"local", "incoming"}
    assert c1[0].rule == c2[0].rule == "owner_tie"


def test_deletion_wins_over_a_newer_update():
    deleted = state(STORE, {TOMBSTONE: 2}, **{TOMBSTONE: True})
    updated = state(WAREHOUSE, {"status": 5, TOMBSTONE: 1}, status="shipped")
    assert merge(updated, deleted, STORE).state.values[TOMBSTONE] is True
    assert merge(deleted, updated, WAREHOUSE).state.values[TOMBSTONE] is True


def test_missing_local_row_takes_the_remote_state():
    remote = state(STORE)
    assert merge(None, remote, STORE) == Merged(remote, ())


def test_decide_skips_echoes_of_the_targets_own_writes():
    assert decide(state(WAREHOUSE), state(STORE), STORE, WAREHOUSE).reason == "echo"


def test_decide_skips_duplicates_and_stale_events():
    current = state(STORE, {"notes": 3}, notes="newest")
    assert decide(current, current, STORE, WAREHOUSE).reason == "duplicate"
    older = state(STORE, {"notes": 2}, notes="older")
    outcome = decide(older, current, STORE, WAREHOUSE)
    assert (outcome.write, outcome.reason) == (False, "stale")


def test_decide_applies_news_and_marks_the_sink_as_author():
    current = state(WAREHOUSE)
    outcome = decide(state(STORE, {"notes": 2}, notes="new"), current, STORE, WAREHOUSE)
    assert outcome.write and outcome.reason == "applied"
    assert outcome.state.values["notes"] == "new"
    assert outcome.state.author == STORE


def test_plan_batch_folds_in_order_and_writes_only_changed_rows():
    current = {"o1": state(WAREHOUSE)}
    events = [
        state(STORE, {"notes": 2}, notes="a"),
        state(STORE, {"notes": 3}, notes="b"),
        state(STORE, {"notes": 2}, notes="a"),
    ]
    writes, outcomes = plan_batch(events, current, STORE, WAREHOUSE)
    assert [o.reason for o in outcomes] == ["applied", "applied", "stale"]
    assert writes["o1"].values["notes"] == "b"
    assert plan_batch([current["o1"]], current, STORE, WAREHOUSE)[0] == {}


# --- property: any delivery order, with duplicates, converges -------------------------------

values_for = {
    "order_number": st.sampled_from(["A-1", "A-2", "A-3"]),
    "customer_name": st.sampled_from(["Ann", "Bob"]),
    "shipping_address": st.sampled_from(["1 Main St", "2 Side St"]),
    "items": st.sampled_from([[{"sku": "X", "quantity": 1}], [{"sku": "Y", "quantity": 2}]]),
    "status": st.sampled_from(["pending", "shipped", "cancelled"]),
    "tracking_number": st.sampled_from([None, "T1", "T2"]),
    "notes": st.sampled_from([None, "n1", "n2"]),
    TOMBSTONE: st.just(True),
}
write = st.tuples(st.sampled_from([STORE, WAREHOUSE]), st.sampled_from(FIELD_NAMES)).flatmap(
    lambda sf: st.tuples(st.just(sf[0]), st.just(sf[1]), values_for[sf[1]])
)


def local_write(current: State, side: str, name: str, value) -> State:
    """What the versioning trigger does for a local write of one field."""
    clock = dict(current.clock)
    if current.values[name] != value:
        clock[name] = clock.get(name, 0) + 1
    return State(current.id, current.values | {name: value}, clock, side)


def deliver(local: State, remote: State, remote_side: str, local_side: str) -> State:
    """Apply one delivered event the way the sink does."""
    outcome = decide(remote, local, remote_side, local_side)
    return outcome.state if outcome.write else local


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(write, max_size=12), st.randoms(use_true_random=False))
def test_any_interleaving_with_duplicates_converges(writes, rnd: random.Random):
    sides = {STORE: state(STORE), WAREHOUSE: state(STORE)}
    emitted = {STORE: [], WAREHOUSE: []}
    inbox = {STORE: [], WAREHOUSE: []}
    for side, name, value in writes:
        # deliver a random part of the pending events first: writes interleave with sync
        for target in (STORE, WAREHOUSE):
            source = WAREHOUSE if target == STORE else STORE
            take = rnd.randint(0, len(inbox[target]))
            for event in inbox[target][:take]:
                sides[target] = deliver(sides[target], event, source, target)
            del inbox[target][:take]
        if sides[side].values[TOMBSTONE] and name == TOMBSTONE:
            continue
        if sides[side].values[TOMBSTONE]:
            continue  # the trigger refuses writes to a tombstone's revival; others are moot
        sides[side] = local_write(sides[side], side, name, value)
        other = WAREHOUSE if side == STORE else STORE
        emitted[side].append(sides[side])
        inbox[other].append(sides[side])
    for target in (STORE, WAREHOUSE):
        source = WAREHOUSE if target == STORE else STORE
        # every event arrives at least once, shuffled, some twice
        events = emitted[source] + rnd.sample(emitted[source], len(emitted[source]) // 2)
        rnd.shuffle(events)
        for event in events:
            sides[target] = deliver(sides[target], event, source, target)
    assert sides[STORE].values == sides[WAREHOUSE].values
    assert sides[STORE].clock == sides[WAREHOUSE].clock


class Before:
    """A before image: the state an incoming change was written over."""

    def __init__(self, base):
        self.base = base

    def version(self, name):
        return self.base.version(name)

    def value(self, name):
        return self.base.values.get(name)


def over(base, author=STORE, clock=None, **values):
    """An incoming state written over `base` (its before image)."""
    return replace(state(author, clock, **values), base=Before(base))


def test_a_tie_records_one_conflict_with_both_values_and_the_owner_as_winner():
    local = state(WAREHOUSE, {"status": 2}, status="shipped")
    incoming = state(STORE, {"status": 2}, status="cancelled")
    merged, conflicts = merge(local, incoming, STORE)
    assert conflicts == (Conflict("status", LOCAL, OWNER_TIE, "shipped", 2, "cancelled", 2),)
    merged, conflicts = merge(incoming, local, WAREHOUSE)
    assert conflicts == (Conflict("status", INCOMING, OWNER_TIE, "cancelled", 2, "shipped", 2),)


def test_a_newer_edit_over_a_value_we_never_had_is_a_conflict_won_by_the_newer_version():
    # the store edited notes twice (v2, v3) while the warehouse edited them once (v2)
    local = state(WAREHOUSE, {"notes": 2}, notes="warehouse's")
    incoming = over(
        state(STORE, {"notes": 2}, notes="store's first"), clock={"notes": 3}, notes="s"
    )
    merged, conflicts = merge(local, incoming, STORE)
    assert merged.values["notes"] == "s"
    assert conflicts == (Conflict("notes", INCOMING, NEWER_VERSION, "warehouse's", 2, "s", 3),)


def test_an_ordinary_later_edit_over_our_value_is_no_conflict():
    local = state(WAREHOUSE, {"notes": 2}, notes="agreed")
    incoming = over(state(STORE, {"notes": 2}, notes="agreed"), clock={"notes": 3}, notes="later")
    assert merge(local, incoming, STORE).conflicts == ()


def test_an_older_incoming_value_records_nothing_here_a_replay_looks_the_same():
    local = state(WAREHOUSE, {"notes": 3}, notes="newest")
    incoming = over(state(STORE, {"notes": 1}), clock={"notes": 2}, notes="older")
    assert merge(local, incoming, STORE).conflicts == ()


def test_equal_values_deletions_and_unknown_bases_record_nothing():
    same = state(STORE, {"status": 2}, status="packed")
    assert merge(state(WAREHOUSE, {"status": 2}, status="packed"), same, STORE).conflicts == ()
    deleted = state(STORE, {TOMBSTONE: 2}, **{TOMBSTONE: True})
    assert merge(state(WAREHOUSE, {TOMBSTONE: 2}), deleted, STORE).conflicts == ()
    no_base = state(STORE, {"notes": 3}, notes="x")
    assert merge(state(WAREHOUSE, {"notes": 2}, notes="y"), no_base, STORE).conflicts == ()


def test_replaying_a_decided_batch_decides_nothing_new():
    """After the tie is applied both ways, the same incoming events find nothing to decide."""
    store = state(STORE, {"status": 2}, status="cancelled")
    warehouse = state(WAREHOUSE, {"status": 2}, status="shipped")
    at_store = merge(store, warehouse, WAREHOUSE).state
    assert merge(at_store, warehouse, WAREHOUSE).conflicts == ()


def test_plan_batch_reports_each_events_conflicts_even_when_it_writes_nothing():
    current = {"o1": state(WAREHOUSE, {"status": 2}, status="shipped")}
    incoming = state(STORE, {"status": 2}, status="cancelled")
    writes, outcomes = plan_batch([incoming], current, STORE, WAREHOUSE)
    assert writes == {} and [c.winner for c in outcomes[0].conflicts] == [LOCAL]


def test_local_only_fields_are_never_decided():
    local = state(WAREHOUSE, {"status": 2}, status="shipped")
    incoming = replace(state(STORE), values=state(STORE).values | {"bin_location": "A1"})
    assert merge(local, incoming, STORE).conflicts == ()


def test_two_edits_against_the_owners_one_record_a_tie_then_a_newer_version():
    """The store sets status twice (v2, v3) while the warehouse, its owner, sets it once (v2)."""
    start = state(STORE)
    second = over(start, clock={"status": 2}, status="processing")
    third = over(second, clock={"status": 3}, status="cancelled")
    current = {"o1": state(WAREHOUSE, {"status": 2}, status="shipped")}
    writes, outcomes = plan_batch([second, third], current, STORE, WAREHOUSE)
    assert writes["o1"].values["status"] == "cancelled"
    assert [c for o in outcomes for c in o.conflicts] == [
        Conflict("status", LOCAL, OWNER_TIE, "shipped", 2, "processing", 2),
        Conflict("status", INCOMING, NEWER_VERSION, "shipped", 2, "cancelled", 3),
    ]
    # the warehouse's own event reaches the store after its v3: older, nothing recorded there
    at_store = state(STORE, {"status": 3}, status="cancelled")
    shipped = over(state(WAREHOUSE), author=WAREHOUSE, clock={"status": 2}, status="shipped")
    assert merge(at_store, shipped, WAREHOUSE).conflicts == ()
