"""Random creates, updates and deletes on both APIs and in SQL, then both databases agree."""

import random
import threading
import time
import uuid

from bench.client import PATHS, authed_session, order_body
from ordersync import topology
from ordersync.sync.mapping import STATUSES, TABLES, columns
from stack.probes import wait_until
from tests.support.db import connect
from tests.support.processes import reconcile
from tests.support.sync import settled

CLIENTS = 6
SECONDS = 15


def api_step(rnd: random.Random, side: str, http, ids: list) -> None:
    """One random API operation on a shared pool of orders."""
    url = topology.app_url(side) + PATHS[side]
    roll = rnd.random()
    if roll < 0.25 or not ids:
        response = http.post(url, json=order_body(side), timeout=5)
        if response.status_code == 201:
            ids.append(response.json()["id"])
    elif roll < 0.9:
        field, value = rnd.choice(
            [
                ("status", rnd.choice(STATUSES)),
                ("notes", f"note-{rnd.randint(0, 9)}"),
                ("shipping_address", f"{rnd.randint(1, 99)} Random Rd"),
                ("tracking_number", f"T{rnd.randint(0, 9)}"),
            ]
        )
        http.patch(f"{url}/{rnd.choice(ids)}", json={field: value}, timeout=5)
    else:
        http.delete(f"{url}/{rnd.choice(ids)}", timeout=5)


def sql_step(rnd: random.Random, side: str, conn, ids: list) -> None:
    """One random plain-SQL write: a field update or a hard delete."""
    if not ids:
        return
    with conn.cursor() as cur:
        if rnd.random() < 0.85:
            column = rnd.choice(["notes", "status", columns(side)["customer_name"]])
            value = rnd.choice(STATUSES) if column == "status" else f"sql-{rnd.randint(0, 9)}"
            cur.execute(
                f"UPDATE {TABLES[side]} SET {column} = %s WHERE id = %s AND NOT deleted",
                (value, rnd.choice(ids)),
            )
        else:
            cur.execute(f"DELETE FROM {TABLES[side]} WHERE id = %s", (rnd.choice(ids),))


def client(seed: int, ids: list, deadline: float, errors: list) -> None:
    """Run random steps on a random side until the deadline."""
    rnd = random.Random(seed)
    http = {side: authed_session(side) for side in ("store", "warehouse")}
    conns = {}
    try:
        while time.monotonic() < deadline:
            side = rnd.choice(["store", "warehouse"])
            if rnd.random() < 0.7:
                api_step(rnd, side, http[side], ids)
            else:
                if side not in conns:
                    conns[side] = connect(side)
                sql_step(rnd, side, conns[side], ids)
    except Exception as error:  # surfaced by the test, not swallowed
        errors.append(error)
    finally:
        for conn in conns.values():
            conn.close()


def test_random_writes_from_many_clients_converge(apis):
    ids, errors = [], []
    deadline = time.monotonic() + SECONDS
    seed = uuid.uuid4().int % 10_000
    threads = [
        threading.Thread(target=client, args=(seed + i, ids, deadline, errors))
        for i in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SECONDS + 60)
    assert errors == [], f"seed {seed}"
    assert len(ids) > 20
    result = wait_until(lambda: (r := reconcile()).returncode == 0 and r, 120, "convergence")
    assert "in sync" in result.stdout
    settled()
