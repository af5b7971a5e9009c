"""A bounded write load on both APIs that records every acknowledged write."""

import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

from bench.client import PATHS, authed_session, order_body
from ordersync import topology
from tests.support.db import column_by_id


@dataclass
class Acked:
    """Writes the APIs acknowledged: created ids, and the last notes counter per order."""

    created: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class WriteLoad:
    """Threads that create orders and patch their notes until stopped (or a time limit)."""

    def __init__(self, sides=("store", "warehouse"), limit_seconds: float = 300):
        self.acked = Acked()
        self.stopping = threading.Event()
        self.deadline = time.monotonic() + limit_seconds
        self.threads = [
            threading.Thread(target=self.run, args=(side,), daemon=True) for side in sides
        ]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)

    def run(self, side: str) -> None:
        """Alternate creates and notes updates; a refused or failed write is simply not acked."""
        http, url = authed_session(side), topology.app_url(side) + PATHS[side]
        mine, counter, rnd = [], 0, random.Random(side)
        while not self.stopping.is_set() and time.monotonic() < self.deadline:
            counter += 1
            try:
                if not mine or rnd.random() < 0.4:
                    body = order_body(side, order_number=f"L-{uuid.uuid4().hex[:12]}")
                    response = http.post(url, json=body, timeout=5)
                    if response.status_code == 201:
                        with self.acked.lock:
                            self.acked.created[response.json()["id"]] = side
                        mine.append(response.json()["id"])
                        continue
                else:
                    order_id = rnd.choice(mine)
                    response = http.patch(
                        f"{url}/{order_id}", json={"notes": f"n-{counter:08d}"}, timeout=5
                    )
                    if response.status_code == 200:
                        with self.acked.lock:
                            self.acked.notes[order_id] = f"n-{counter:08d}"
                        continue
            except requests.RequestException:
                pass
            with self.acked.lock:
                self.acked.failures += 1


def notes_by_id(side: str) -> dict:
    """Map order id to its notes on one side."""
    return column_by_id(side, "notes")


def lost_writes(acked: Acked, store: dict, warehouse: dict) -> tuple[list, list]:
    """Acknowledged creates missing on a side, and acknowledged notes a side lost or disagrees on.

    `store` and `warehouse` map order id to notes. A later, unacknowledged write may have
    committed before its answer was lost, so a side may hold newer notes: >= not ==.
    """
    missing = [i for i in acked.created if i not in store or i not in warehouse]
    stale = [
        i
        for i, notes in acked.notes.items()
        if not (store.get(i) or "") >= notes or store.get(i) != warehouse.get(i)
    ]
    return missing, stale
