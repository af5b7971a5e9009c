"""Talk to supervisord over its unix socket: start it, start and stop programs, read states."""

import subprocess
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

from stack import topology as t

SOCKET = t.RUN / "supervisor.sock"


def rpc():
    """Return an XML-RPC proxy of the running supervisord."""
    transport = SupervisorTransport(None, None, f"unix://{SOCKET}")
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor


def running() -> bool:
    """Tell whether our supervisord answers."""
    if not SOCKET.exists():
        return False
    try:
        return rpc().getState()["statename"] == "RUNNING"
    except (OSError, xmlrpc.client.Fault):
        return False


def start_daemon() -> None:
    """Start supervisord, which daemonizes and survives this process."""
    subprocess.run(
        [str(t.VENV_BIN / "supervisord"), "-c", str(t.CONF / "supervisord.conf")], check=True
    )


def reload_config() -> None:
    """Make supervisord pick up programs whose config changed, without touching the others."""
    added, changed, removed = rpc().reloadConfig()[0]
    for name in removed + changed:
        stop(name)
        rpc().removeProcessGroup(name)
    for name in added + changed:
        rpc().addProcessGroup(name)


def states() -> dict[str, dict]:
    """Map each program name to its supervisord process info."""
    return {info["name"]: info for info in rpc().getAllProcessInfo()}


def start(name: str) -> None:
    """Start one program without waiting; readiness is checked by the caller."""
    try:
        rpc().startProcess(name, False)
    except xmlrpc.client.Fault as fault:
        if "ALREADY_STARTED" not in fault.faultString:
            raise


def stop(name: str) -> None:
    """Stop one program by pid (supervisord's own child), waiting for it to exit."""
    try:
        rpc().stopProcess(name, True)
    except xmlrpc.client.Fault as fault:
        if "NOT_RUNNING" not in fault.faultString and "BAD_NAME" not in fault.faultString:
            raise


def shutdown() -> None:
    """Stop supervisord itself."""
    rpc().shutdown()
