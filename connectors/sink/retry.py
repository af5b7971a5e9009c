"""Retrying a batch until it goes through: backoff by failure class, fetching paused meanwhile."""

import logging
import time
from collections.abc import Callable

import psycopg2
from tenacity import Retrying, retry_if_exception, wait_random_exponential

from connectors.sink import metrics
from connectors.sink.failures import Failure, SchemaChanged, classify
from connectors.sink.health import Health
from connectors.sink.positions import Positions
from connectors.sink.transport import delivered, position

log = logging.getLogger("sink")


def wait_after(error: BaseException):
    """How long to wait after a failed attempt: not at all when a migration moved the target on."""
    if isinstance(error, SchemaChanged):
        return lambda _state: 0  # the new field set is already read: merge the batch again now
    return wait_for(classify(error))


def wait_for(failure: Failure):
    """Backoff with jitter: quick for transient failures, slow for schema and privileges."""
    if failure is Failure.SCHEMA:
        return wait_random_exponential(multiplier=1, max=30)
    return wait_random_exponential(multiplier=0.1, max=5)


class Retry:
    """Runs attempts at the batch in flight until one returns, while the loop is running.

    Anything but bad data is retried (bad data is the processor's to isolate); between attempts
    the partitions are paused and the consumer still polled, so the group keeps this replica.
    """

    def __init__(self, consumer, positions: Positions, health: Health, target, running: Callable):
        self.consumer, self.positions, self.health = consumer, positions, health
        self.target, self.running = target, running
        self.paused = False

    def __call__(self, attempt: Callable):
        """Call `attempt` until it returns; raise what cannot be retried, or the last failure."""
        retrying = Retrying(
            retry=retry_if_exception(lambda error: classify(error) is not Failure.DATA),
            wait=lambda state: wait_after(state.outcome.exception())(state),
            stop=lambda _state: not self.running(),
            sleep=self.idle,
            before_sleep=self.failed,
            reraise=True,
        )
        try:
            return retrying(attempt)
        finally:
            self.resume()

    def failed(self, state) -> None:
        """Log a failed attempt, count it, and tell the health why the sink is stuck."""
        error = state.outcome.exception()
        failure = classify(error)
        batch = self.positions.in_flight
        where = position(batch[0]) if batch else "parked changes"
        metrics.RETRIES.labels(failure.value).inc()
        self.health.failed(where, failure.value, error, state.attempt_number)
        log.warning(
            "batch at %s failed (%s, attempt %d), retrying: %s",
            where,
            failure.value,
            state.attempt_number,
            error,
        )
        if isinstance(error, psycopg2.Error):
            self.target.reset()

    def idle(self, seconds: float) -> None:
        """Wait between attempts with the partitions paused, still polling to stay in the group."""
        if seconds <= 0:
            return
        self.consumer.pause(self.consumer.assignment())
        self.paused = True
        deadline = time.monotonic() + seconds
        while self.running() and time.monotonic() < deadline:
            message = self.consumer.poll(min(0.5, max(0.0, deadline - time.monotonic())))
            if message is not None and delivered(message):
                self.positions.hold([message])  # fetched before the pause: keep it, in order
            self.health.polled()

    def resume(self) -> None:
        """Resume fetching after a pause: everything assigned now.

        A partition lost and assigned again while paused comes back still paused.
        """
        if self.paused:
            self.consumer.resume(self.consumer.assignment())
            self.paused = False
