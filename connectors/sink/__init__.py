"""The sink: applies one side's Debezium change events to the other side's database."""
