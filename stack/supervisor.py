"""Talk to supervisord over its unix socket: start it, start and stop programs, read states."""

import subprocess
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

from stack import topology as t

SOCKET = t.RUN / "supervisor.sock"


def call(method: str, *args):
    """Call one supervisord XML-RPC method, closing the socket afterwards."""
    transport = SupervisorTransport(None, None, f"unix://{SOCKET}")
    try:
        proxy = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
        return getattr(proxy.supervisor, method)(*args)
    finally:
        transport.close()


def running() -> bool:
    """Tell whether our supervisord answers."""
    if not SOCKET.exists():
        return False
    try:
        return call("getState")["statename"] == "RUNNING"
    except (OSError, xmlrpc.client.Fault):
        return False


def start_daemon() -> None:
    """Start supervisord, which daemonizes and survives this process."""
    subprocess.run(
        [str(t.VENV_BIN / "supervisord"), "-c", str(t.CONF / "supervisord.conf")], check=True
    )


def reload_config() -> None:
    """Make supervisord pick up programs whose config changed, without touching the others."""
    added, changed, removed = call("reloadConfig")[0]
    for name in removed + changed:
        stop(name)
        call("removeProcessGroup", name)
    for name in added + changed:
        call("addProcessGroup", name)


def states() -> dict[str, dict]:
    """Map each program name to its supervisord process info."""
    return {info["name"]: info for info in call("getAllProcessInfo")}


def start(name: str) -> None:
    """Start one program without waiting; readiness is checked by the caller."""
    try:
        call("startProcess", name, False)
    except xmlrpc.client.Fault as fault:
        if "ALREADY_STARTED" not in fault.faultString:
            raise


def stop(name: str) -> None:
    """Stop one program by pid (supervisord's own child), waiting for it to exit."""
    try:
        call("stopProcess", name, True)
    except xmlrpc.client.Fault as fault:
        if "NOT_RUNNING" not in fault.faultString and "BAD_NAME" not in fault.faultString:
            raise


def shutdown() -> None:
    """Stop supervisord itself."""
    call("shutdown")
