"""Run a write function at a fixed rate from a few threads, and time each call."""

import threading
import time


def paced(
    write, rate: float, seconds: float, threads: int = 8, give_up: float | None = None
) -> tuple[list, list[float], int]:
    """Call write(i) for i in range(rate*seconds), each at t0 + i/rate.

    With `give_up`, stop issuing writes once they run that many seconds behind the schedule
    (a rate the target cannot take would otherwise run for many times its length).
    Returns (results of successful calls, their durations, failures).
    """
    total = int(rate * seconds)
    start = time.monotonic() + 0.2
    lock, counter = threading.Lock(), iter(range(total))
    results, durations, failures = [], [], [0]

    def worker():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            delay = start + i / rate - time.monotonic()
            if give_up is not None and -delay > give_up:
                return
            if delay > 0:
                time.sleep(delay)  # pacing: the schedule, not a wait for an outcome
            began = time.monotonic()
            try:
                result = write(i)
            except Exception:  # a failed write is counted, the load goes on
                result = None
            with lock:
                if result is None:
                    failures[0] += 1
                else:
                    results.append(result)
                    durations.append(time.monotonic() - began)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results, durations, failures[0]


def percentiles(values: list[float]) -> dict:
    """p50/p95/p99/max in milliseconds."""
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def at(q):
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "n": len(ordered),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 2),
    }
