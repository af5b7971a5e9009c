# the shape the last `make up` started (stack/shape.py), recalled before any port is read
import stack  # noqa: F401
