"""What a sink's /healthz says: ok, stalled (the loop stopped polling) or stuck (with why)."""

import time

HEALTHY_POLL_AGE = 30.0
# this many failed attempts in a row at the same offset make the sink report itself unhealthy
STUCK_AFTER = 3
# how long a field left alone keeps /healthz saying "mid-rollout"
ROLLOUT_MEMORY_SECONDS = 600.0
# names come from events (hostile): past this many, further ones are remembered as "other"
MAX_FIELD_LABELS = 32


class Health:
    """The loop's liveness, the batch it is stuck on, and the fields it lately left alone."""

    def __init__(self):
        self.last_poll = 0.0
        # the batch being retried, if any: {"offset", "failure", "error", "attempts", "since"}
        self.stuck: dict = {}
        self.left_alone: dict[tuple[str, str], float] = {}  # (field, why) -> when last seen
        self.schema_version = 0  # the schema version the target syncs

    def polled(self) -> None:
        """The loop has just polled Kafka: it is alive."""
        self.last_poll = time.time()

    def failed(self, where: str, failure: str, error: BaseException, attempts: int) -> None:
        """Record that the batch starting at `where` failed again."""
        now = time.time()
        since = self.stuck.get("since", now) if self.stuck.get("offset") == where else now
        self.stuck = {
            "offset": where,
            "failure": failure,
            "error": str(error).strip()[:500],
            "attempts": attempts,
            "since": since,
        }

    def recovered(self) -> None:
        """The batch went through: the sink is no longer stuck."""
        self.stuck = {}

    def is_stuck(self) -> bool:
        """Tell whether the batch has failed often enough, or for a reason that needs people."""
        stuck = self.stuck
        return bool(stuck) and (stuck["attempts"] >= STUCK_AFTER or stuck["failure"] == "schema")

    def left_alone_now(self, name: str, why: str) -> tuple[str, str]:
        """Remember a field of an event that was not applied; return the label it counts under."""
        key = (name, why)
        if key not in self.left_alone and len(self.left_alone) >= MAX_FIELD_LABELS:
            key = ("other", why)
        self.left_alone[key] = time.time()
        return key

    def schema(self) -> dict:
        """The target's schema version, and fields left alone lately (the sides are mid-rollout)."""
        since = time.time() - ROLLOUT_MEMORY_SECONDS
        # a copy: the loop's thread may add a field while the server's thread reads
        seen = self.left_alone.copy()
        recent = sorted((f, why) for (f, why), when in seen.items() if when >= since)
        return {
            "version": self.schema_version,
            "left_alone": [{"field": f, "why": why} for f, why in recent],
        }

    def body(self) -> dict:
        """The /healthz body: its "status" is ok, stalled or stuck."""
        if time.time() - self.last_poll >= HEALTHY_POLL_AGE:
            return {"status": "stalled", "schema": self.schema()}
        if self.is_stuck():
            return {"status": "stuck", **self.stuck, "schema": self.schema()}
        return {"status": "ok", "schema": self.schema()}
