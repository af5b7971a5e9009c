"""Reading and replaying dead-letter topics: shared by `python -m connectors.dlq` and the admin."""
