"""Native launcher: runs the whole CDC stack as supervised local processes."""
