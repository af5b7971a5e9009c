"""The sink's purge of conflicts past their retention."""

import psycopg2

from connectors.sink.retention import Retention
from tests.support import fakes


class Clock:
    """A monotonic clock moved by hand."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Failing(fakes.Target):
    """A target whose purge is refused."""

    def purge_conflicts(self, days):
        raise psycopg2.OperationalError("gone")

    def reset(self):
        self.was_reset = True


def test_the_first_purge_runs_at_once_then_at_most_once_per_period():
    target, clock = fakes.Target(), Clock()
    retention = Retention(target, 90, 3600, clock)
    retention.purge()
    retention.purge()
    clock.now = 3599
    retention.purge()
    assert target.purges == 1
    clock.now = 3600
    retention.purge()
    assert target.purges == 2


def test_a_refused_purge_is_logged_not_fatal_and_tried_again_next_period(caplog):
    clock = Clock()
    target = Failing()
    retention = Retention(target, 90, 60, clock)
    retention.purge()
    assert "could not purge conflicts" in caplog.text and target.was_reset
    clock.now = 60
    assert retention.due()
