"""Run a command with a coarser timer slack: `python -m stack.slack NANOSECONDS -- COMMAND ...`.

The kernel may end a timed wait up to the thread's timer slack late (50 µs by default); the value
is inherited by every thread and child the command starts and kept across exec, so setting it
here applies to the whole process it becomes (as systemd's `TimerSlackNSec=` does).
"""

import ctypes
import os
import sys

PR_SET_TIMERSLACK = 29  # <linux/prctl.h>
MAX_SLACK_NS = 100_000_000


def set_timer_slack(nanoseconds: int) -> None:
    """Set the calling thread's timer slack (Linux; elsewhere there is none to set)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_TIMERSLACK, ctypes.c_ulong(nanoseconds), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_TIMERSLACK) failed")


def parse(argv: list[str]) -> tuple[int, list[str]]:
    """The slack in nanoseconds and the command, or SystemExit naming what is wrong."""
    if len(argv) < 3 or argv[1] != "--":
        raise SystemExit("usage: python -m stack.slack NANOSECONDS -- COMMAND [ARG ...]")
    try:
        nanoseconds = int(argv[0])
    except ValueError:
        nanoseconds = -1
    if not 1 <= nanoseconds <= MAX_SLACK_NS:
        raise SystemExit(f"timer slack must be 1 to {MAX_SLACK_NS} nanoseconds; got {argv[0]!r}")
    return nanoseconds, argv[2:]


def main(argv: list[str]) -> None:
    """Set the slack, then become the command (same pid: a supervisor keeps tracking it)."""
    nanoseconds, command = parse(argv)
    set_timer_slack(nanoseconds)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
