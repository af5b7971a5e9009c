"""Waiting on a condition and finding a free port: how the launcher, bench and tests poll."""

import socket

from tenacity import Retrying, retry_if_result, stop_after_delay, wait_exponential


class NotReady(TimeoutError):
    """A condition did not hold in time."""


def wait_until(check, timeout: float = 30.0, what: str = "condition", give_up=None):
    """Poll `check` until it returns something truthy and return that.

    Polls fast at first, then every 0.2 s (fine enough to time a drain by); raises NotReady
    at the deadline, or at once when `give_up()` says the condition can no longer come true.
    """
    stop = stop_after_delay(timeout)
    if give_up is not None:
        stop = stop | (lambda state: give_up())
    retrying = Retrying(
        stop=stop,
        wait=wait_exponential(multiplier=0.02, max=0.2),
        retry=retry_if_result(lambda value: not value),
        retry_error_callback=lambda state: _not_ready(state, timeout, what),
    )
    return retrying(check)


def _not_ready(state, timeout: float, what: str):
    """Raise the timeout with what was awaited and for how long."""
    waited = state.seconds_since_start or 0.0
    if waited < timeout:
        raise NotReady(f"gave up after {waited:.1f}s waiting for {what}")
    raise NotReady(f"timed out after {timeout:g}s waiting for {what}")


def free_port() -> int:
    """Return a loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nobody_listens() -> str:
    """Return a loopback address with nothing behind it (host:port)."""
    return f"127.0.0.1:{free_port()}"
