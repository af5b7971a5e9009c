"""Debezium connector configs, the Maven poms of the Kafka stack, and the Python sink."""
