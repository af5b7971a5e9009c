"""One JSON line per change event, written a batch at a time.

Building a `logging` record per event cost more than merging it; these lines carry the same
fields a JSON log line would and go to stderr in one write per batch.
"""

import functools
import os
import sys
from datetime import UTC, datetime

import orjson

ENABLED = os.environ.get("SINK_EVENT_LOG", "on") != "off"


def lines(events: list, outcomes: list, source: str, target: str) -> bytes:
    """Render one line per (message, event) and its outcome."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    # a dict and an orjson.dumps per line measured 3.3 us per event in a 2,000-event batch, this
    # 1.0: the fields shared by the batch are rendered once, each line only adds its own
    head = orjson.dumps({"asctime": now, "levelname": "INFO", "name": "sink.event"})[:-1]
    sides = orjson.dumps({"source": source, "target": target})[1:-1]
    text = functools.cache(orjson.dumps)  # ops, reasons, conflicts and topics repeat
    out = []
    for (message, event), outcome in zip(events, outcomes, strict=True):
        out.append(
            b'%b,"order_id":%b,"op":%b,%b,"outcome":%b,"reason":%b,"conflicts":%b,'
            b'"topic":%b,"partition":%d,"offset":%d}'
            % (
                head,
                orjson.dumps(event.state.id),
                text(event.op),
                sides,
                b'"applied"' if outcome.write else b'"skipped"',
                text(outcome.reason),
                text(tuple(c.field for c in outcome.conflicts) or None),
                text(message.topic()),
                message.partition(),
                message.offset(),
            )
        )
    return b"\n".join(out) + b"\n" if out else b""


def write(events: list, outcomes: list, source: str, target: str) -> None:
    """Write the batch's event lines to stderr in one call."""
    if ENABLED and events:
        sys.stderr.buffer.write(lines(events, outcomes, source, target))
        sys.stderr.buffer.flush()
