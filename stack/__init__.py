"""Native launcher: runs the whole CDC stack as supervised local processes."""

from stack.shape import recall

recall()  # before any module reads the ports: the shape the last `make up` started
