"""What a sink's own HTTP endpoint says about it: healthy, how far behind, when it last applied."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
from prometheus_client.parser import text_string_to_metric_families

from ordersync.sync.mapping import NAME

# why a sink left a field of an event alone: the target does not sync it, or the event lacks it
TARGET_LACKS, EVENT_LACKS = "target-lacks", "event-lacks"
# how long a sink's /healthz keeps naming a field it left alone (its ROLLOUT_MEMORY_SECONDS)
LEFT_ALONE_MINUTES = 10
# more entries than a sink reports (it names 32 fields at most): the rest of a body is ignored
MAX_LEFT_ALONE = 64
# sync_schema.version is a PostgreSQL integer
MAX_SCHEMA_VERSION = 2**31 - 1


@dataclass(frozen=True)
class LeftAlone:
    """A field of recent events the sink did not apply, and why (TARGET_LACKS or EVENT_LACKS)."""

    field: str
    why: str


@dataclass(frozen=True)
class SinkSchema:
    """The version the sink writes with (None before its first batch), fields it left alone."""

    version: int | None
    left_alone: tuple[LeftAlone, ...] = ()


@dataclass(frozen=True)
class SinkHealth:
    """A sink as seen through /healthz and /metrics; `error` says why it could not be read."""

    healthy: bool
    state: str = ""  # the sink's own word: ok, stalled, stuck at an offset and why
    lag: int | None = None
    last_applied: float | None = None
    last_polled: float | None = None
    schema: SinkSchema | None = None  # None when the sink does not say
    error: str = ""

    @property
    def available(self) -> bool:
        """Tell whether the sink answered at all."""
        return not self.error


def metric_totals(text: str) -> dict[str, float]:
    """Sum each sample name over its labels in Prometheus text (the lag over partitions)."""
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def describe(healthy: bool, body) -> str:
    """The /healthz answer in words: its status, and for a stuck sink where and why."""
    body = body if isinstance(body, dict) else {}
    status = str(body.get("status") or ("ok" if healthy else "unhealthy"))
    if status == "stuck":
        return (
            f"stuck at {body.get('offset')} ({body.get('failure')}, "
            f"{body.get('attempts')} attempts): {body.get('error')}"
        )
    return status


def read_schema(body) -> SinkSchema | None:
    """The `schema` object of a /healthz body; what is malformed in it is left out."""
    schema = body.get("schema") if isinstance(body, dict) else None
    if not isinstance(schema, dict):
        return None
    version = schema.get("version")
    # the sink says 0 until its first batch has read the target's version
    valid = type(version) is int and 0 < version <= MAX_SCHEMA_VERSION
    entries = schema.get("left_alone")
    return SinkSchema(
        version if valid else None,
        read_left_alone(entries if isinstance(entries, list) else []),
    )


def read_left_alone(entries: list) -> tuple[LeftAlone, ...]:
    """The well-formed entries (a plain field name and a known why), sorted, each once."""
    found = set()
    for entry in entries[:MAX_LEFT_ALONE]:
        if not isinstance(entry, dict):
            continue
        name, why = entry.get("field"), entry.get("why")
        if isinstance(name, str) and NAME.fullmatch(name) and why in (TARGET_LACKS, EVENT_LACKS):
            found.add(LeftAlone(name, why))
    return tuple(sorted(found, key=lambda left: (left.field, left.why)))


def from_metrics(healthy: bool, text: str, body=None) -> SinkHealth:
    """Read the health answer and the metrics page; a gauge still at 0 means never yet."""
    totals = metric_totals(text)
    lag = totals.get("sink_consumer_lag")
    return SinkHealth(
        healthy=healthy,
        state=describe(healthy, body),
        lag=None if lag is None else int(lag),
        last_applied=totals.get("sink_last_applied_timestamp_seconds") or None,
        last_polled=totals.get("sink_last_poll_timestamp_seconds") or None,
        schema=read_schema(body),
    )


def health_body(response):
    """The JSON body of a /healthz answer, None when it has none."""
    try:
        return response.json()
    except ValueError:
        return None


def probe(url: str, timeout: float) -> SinkHealth:
    """Ask the sink whose metrics server is at `url`; an unreachable sink is unavailable."""
    try:
        health = requests.get(f"{url}/healthz", timeout=timeout)
        metrics = requests.get(f"{url}/metrics", timeout=timeout)
        metrics.raise_for_status()
        return from_metrics(health.status_code == 200, metrics.text, health_body(health))
    except (requests.RequestException, ValueError) as error:
        return SinkHealth(healthy=False, error=str(error))


def probe_all(urls, timeout: float) -> list[SinkHealth]:
    """Ask every replica at once: a page waits for the slowest one, not for their sum."""
    with ThreadPoolExecutor(max_workers=len(urls) or 1) as pool:
        return list(pool.map(lambda url: probe(url, timeout), urls))
