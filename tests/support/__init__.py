"""The suite's one toolkit: import what a test needs from the module that owns it.

db (connections as a role, rows, plain SQL), kafka (topics, lag), metrics (Prometheus text
through prometheus_client's parser), processes (pausing, freezing, re-capturing, running
modules), sync (waiting for a change to arrive, for the sinks to settle, the API client),
web (admin sign-in), fakes (the sink's collaborators and events), schemas, compose, load,
dead_letters. Waiting on a condition and free ports come from `stack.probes`, which the
launcher and the benchmarks use too.
"""

import os

# `make test-fast` runs the property-based tests on a quarter of their examples
EXAMPLES_SCALE = float(os.environ.get("TEST_EXAMPLES_SCALE", 1))


def examples(full: int) -> int:
    """How many examples a property-based test generates in this run (at least 10)."""
    return max(10, round(full * EXAMPLES_SCALE))
