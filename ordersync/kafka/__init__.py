"""Kafka: how our processes reach it, who may do what there, dead-letter topics."""
