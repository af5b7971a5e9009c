"""Benchmarks of the pipeline beside native PostgreSQL logical replication (`make bench`)."""

# the shape the last `make up` started (stack/shape.py), recalled before any port is read
import stack  # noqa: F401
