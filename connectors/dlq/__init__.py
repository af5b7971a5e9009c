"""Operate dead letters: list them and replay them through the normal merge.

Nothing here imports the rest of the project (only the standard library and confluent-kafka),
so the apps' admin can use it as a leaf, like the CLI and `make status` do.
"""
