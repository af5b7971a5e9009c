"""The order REST resource and its schemas, mounted by each service with its own model."""
