"""One JSON line per change event, written a batch at a time.

Building a `logging` record per event cost more than merging it; these lines carry the same
fields a JSON log line would and go to stderr in one write per batch.
"""

import os
import sys
from datetime import UTC, datetime

import orjson

ENABLED = os.environ.get("SINK_EVENT_LOG", "on") != "off"


def lines(events: list, outcomes: list, source: str, target: str) -> bytes:
    """Render one line per (message, event) and its outcome."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    out = []
    for (message, event), outcome in zip(events, outcomes, strict=True):
        out.append(
            orjson.dumps(
                {
                    "asctime": now,
                    "levelname": "INFO",
                    "name": "sink.event",
                    "order_id": event.state.id,
                    "op": event.op,
                    "source": source,
                    "target": target,
                    "outcome": "applied" if outcome.write else "skipped",
                    "reason": outcome.reason,
                    "conflicts": list(outcome.conflicts) or None,
                    "topic": message.topic(),
                    "partition": message.partition(),
                    "offset": message.offset(),
                }
            )
        )
    return b"\n".join(out) + b"\n" if out else b""


def write(events: list, outcomes: list, source: str, target: str) -> None:
    """Write the batch's event lines to stderr in one call."""
    if ENABLED and events:
        sys.stderr.buffer.write(lines(events, outcomes, source, target))
        sys.stderr.buffer.flush()
