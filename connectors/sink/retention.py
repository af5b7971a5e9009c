"""Keep the conflict log bounded: the sink deletes decisions past their retention now and then.

The sink, not the watchdog: it already holds the target's connection as the one role that
writes the log, and it purges between batches, never inside one.
"""

import logging
import time

import psycopg2

from connectors.sink import metrics

log = logging.getLogger("sink")


class Retention:
    """Purges the conflicts older than `days`, at most once every `every` seconds."""

    def __init__(self, target, days: int, every: float, clock=time.monotonic):
        self.target, self.days, self.every, self.clock = target, days, every, clock
        self.last = None  # the first purge runs with the first batch after the start

    def due(self) -> bool:
        """Tell whether a purge is due (and the target connected: a purge never connects)."""
        now = self.clock()
        return self.target.connected() and (self.last is None or now - self.last >= self.every)

    def purge(self) -> None:
        """Purge if due; a failure is logged and retried at the next turn, never fatal."""
        if not self.due():
            return
        self.last = self.clock()
        try:
            purged = self.target.purge_conflicts(self.days)
        except psycopg2.Error as error:
            self.target.reset()
            log.warning("could not purge conflicts past %d days: %s", self.days, error)
            return
        metrics.CONFLICTS_PURGED.inc(purged)
        if purged:
            log.info("purged %d conflict(s) decided more than %d days ago", purged, self.days)
