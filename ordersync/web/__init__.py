"""Flask plumbing both services share: extensions, strict JSON, one error shape, probes, metrics."""
