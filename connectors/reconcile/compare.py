"""Pure comparison of the two sides' synced states and the repair each difference needs."""

from dataclasses import dataclass, field

from connectors.sink.merge import State, merge
from ordersync.sync.mapping import LATEST, STORE, TOMBSTONE, WAREHOUSE, FieldSet


@dataclass
class Report:
    """What differs between the two databases."""

    missing: dict[str, list[State]] = field(default_factory=lambda: {STORE: [], WAREHOUSE: []})
    differing: list[tuple[State, State, list[str]]] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        """Tell whether the two sides agree on every order."""
        return not (self.missing[STORE] or self.missing[WAREHOUSE] or self.differing)

    def lines(self) -> list[str]:
        """Render the report for people."""
        out = []
        for side, states in self.missing.items():
            for s in states:
                out.append(f"missing in {side}: {s.id} ({s.values.get('order_number', '')})")
        for store, warehouse, names in self.differing:
            detail = "; ".join(
                f"{n}: store={store.values[n]!r} warehouse={warehouse.values[n]!r}" for n in names
            )
            out.append(f"differs: {store.id} ({store.values.get('order_number', '')}): {detail}")
        out.append(
            f"missing in store: {len(self.missing[STORE])}, missing in warehouse: "
            f"{len(self.missing[WAREHOUSE])}, differing: {len(self.differing)}"
        )
        return out


def differing_fields(a: State, b: State, clocks: bool = False) -> list[str]:
    """Return the compared fields whose values (and, if asked, clock entries) differ."""
    return [
        n
        for n in a.values
        if a.values.get(n) != b.values.get(n) or clocks and a.clock.get(n) != b.clock.get(n)
    ]


def compare(store: dict[str, State], warehouse: dict[str, State], clocks: bool = False) -> Report:
    """Compare both sides; a tombstone facing a purged row counts as in sync.

    With `clocks`, equal values at different versions differ too (after a rollout, a field
    versioned on one side only would later lose a tie it should win).
    """
    report = Report()
    for order_id in sorted(store.keys() | warehouse.keys()):
        s, w = store.get(order_id), warehouse.get(order_id)
        if s is None or w is None:
            present = s or w
            absent_side = WAREHOUSE if w is None else STORE
            if not present.values[TOMBSTONE]:
                report.missing[absent_side].append(present)
            continue
        names = differing_fields(s, w, clocks)
        if names:
            report.differing.append((s, w, names))
    return report


def repair_state(
    store: State | None, warehouse: State | None, fields: FieldSet = LATEST
) -> tuple[str, State]:
    """Pick the side to rewrite and the state that wins, with versions above both sides'.

    Only the compared `fields` are rewritten and versioned anew.
    """
    if store is None or warehouse is None:
        side, state = (STORE, store) if warehouse is None else (WAREHOUSE, warehouse)
        winner = state
    else:
        side = STORE
        winner = merge(store, warehouse, WAREHOUSE, fields).state
    top = {
        n: max(x.version(n) for x in (store, warehouse) if x is not None) + 1 for n in fields.names
    }
    return side, State(winner.id, winner.values, top, side)


def renamed(store: State | None, warehouse: State | None, number: str) -> tuple[str, State]:
    """Pick the side holding an order and its state with a new number that wins everywhere."""
    if store is None and warehouse is None:
        raise SystemExit("no such order on either side")
    side, state = (STORE, store) if store is not None else (WAREHOUSE, warehouse)
    version = max(x.version("order_number") for x in (store, warehouse) if x is not None) + 1
    values = state.values | {"order_number": number}
    return side, State(state.id, values, state.clock | {"order_number": version}, side)
