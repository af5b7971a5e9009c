"""Benchmarks of the pipeline beside native PostgreSQL logical replication (`make bench`)."""
