"""`python -m connectors.register [CONNECT_URL]`: PUT every connectors/*.json into Kafka Connect.

What compose's one-shot `register-connectors` service runs, from the files the image already
holds. `PUT /connectors/<name>/config` creates or updates, so running it again is harmless. Exits
non-zero when it finds no config at all, or when Connect refuses one. Logs in to Connect with
CONNECT_USER and CONNECT_PASSWORD.
"""

import json
import os
import sys
from pathlib import Path

import requests
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential

from connectors.connect_rest import auth
from ordersync.environment import PARTITIONS, REPLICATION, BadSetting, setting, whole
from ordersync.kafka.access import CONNECT_OFFSETS

CONFIG_DIR = Path(__file__).resolve().parent
DEFAULT_URL = os.environ.get("CONNECT_URL", "http://connect:8083")


def retryable(error: BaseException) -> bool:
    """Connect not reachable yet, rebalancing (409) or failing on its side (5xx)."""
    if isinstance(error, requests.HTTPError):
        return error.response.status_code == 409 or error.response.status_code >= 500
    return isinstance(error, requests.ConnectionError | requests.Timeout)


@retry(
    retry=retry_if_exception(retryable),
    wait=wait_exponential(multiplier=0.5, max=5),
    stop=stop_after_delay(120),
    reraise=True,
)
def put(url: str, spec: dict, credentials: tuple[str, str] | None = None) -> int:
    """PUT one connector's config; return the HTTP status (201 created, 200 updated)."""
    response = requests.put(
        f"{url}/connectors/{spec['name']}/config",
        json=spec["config"],
        timeout=60,
        auth=credentials,
    )
    response.raise_for_status()
    return response.status_code


def configs(folder: Path) -> list[dict]:
    """Every {"name", "config"} file in the folder, in name order, sized by TOPIC_* variables."""
    partitions = setting(os.environ, "TOPIC_PARTITIONS", whole(*PARTITIONS), 1)
    replication = setting(os.environ, "TOPIC_REPLICATION_FACTOR", whole(*REPLICATION), 1)
    specs = [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]
    return [with_topic_settings(spec, partitions, replication) for spec in specs]


def with_topic_settings(spec: dict, partitions: int, replication: int) -> dict:
    """The connector config with the partitions and replication of the topics it creates.

    Debezium keys each change by the order id, so one order's changes stay on one partition.
    The offsets topic named as the connector's own, though it is the workers': the task then
    reads and writes its position through clients of its own (the connector's principal and
    the workers' `admin.` settings) instead of the worker's shared admin client. Debezium reads
    its position back before each commit, in the task's thread; a read caught on a broker that
    just died waits out that client's whole call deadline, and the task sends nothing meanwhile
    (stack/configs.py WORKER_LIVENESS bounds the task's admin calls, not the worker's).
    """
    config = spec["config"] | {
        "topic.creation.default.partitions": str(partitions),
        "topic.creation.default.replication.factor": str(replication),
        "offsets.storage.topic": CONNECT_OFFSETS,
    }
    return spec | {"config": config}


def main(argv: list[str]) -> int:
    """Register every connector config; fail loudly on none or on a refusal."""
    url = argv[0] if argv else DEFAULT_URL
    folder = Path(os.environ.get("CONNECTOR_CONFIG_DIR", CONFIG_DIR))
    try:
        specs, credentials = configs(folder), auth()
    except BadSetting as error:
        print(error, file=sys.stderr)
        return 1
    if not specs:
        print(f"no connector configs (*.json) in {folder}", file=sys.stderr)
        return 1
    for spec in specs:
        try:
            status = put(url, spec, credentials)
        except requests.RequestException as error:
            detail = error.response.text if error.response is not None else error
            print(f"{spec['name']}: Connect refused the config: {detail}", file=sys.stderr)
            return 1
        print(f"{spec['name']} registered: {status}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
