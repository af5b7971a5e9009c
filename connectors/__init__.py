"""The pipeline around the apps: Debezium configs, the sinks, reconcile, dead letters, watchers."""
