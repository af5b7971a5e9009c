"""monitoring/alerts.yml run by Prometheus's own rule checker, promtool (`make promtool`).

The native stack has no Prometheus: the tests and the outage benchmark evaluate the rules on
scrapes of the running processes instead, unchanged, through promtool's rule unit tests.
"""

import contextlib
import os
import re
import subprocess
import tempfile
from pathlib import Path

import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from ordersync import topology
from stack.topology import ROOT, STATE

MONITORING = ROOT / "monitoring"
RULES = MONITORING / "alerts.yml"


def promtool() -> str:
    """The promtool binary: $PROMTOOL (`make test` sets it), else the one `make promtool` built."""
    found = os.environ.get("PROMTOOL") or next(
        (str(p) for p in sorted((STATE / "tools").glob("promtool-*"))), None
    )
    if not found or not Path(found).is_file():
        raise AssertionError("promtool is missing: `make promtool` builds it (needs Go)")
    return found


def run(*args: str, cwd: Path = MONITORING) -> subprocess.CompletedProcess:
    """Run promtool with arguments, captured."""
    return subprocess.run([promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def alerts() -> list[dict]:
    """Every alerting rule of alerts.yml."""
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def series(scraped: dict[str, str]) -> list[dict]:
    """Scrapes (instance -> Prometheus text) as promtool input series, each held for an hour."""
    found = []
    for instance, text in scraped.items():
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = sample.labels | {"instance": instance}
                rendered = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
                found.append(
                    {"series": f"{sample.name}{{{rendered}}}", "values": f"{sample.value}+0x60"}
                )
    return found


def scrape() -> dict[str, str]:
    """The Prometheus text of the watchdog, the monitor and every sink replica, by instance."""
    ports = [topology.WATCHDOG_METRICS_PORT, topology.MONITOR_METRICS_PORT]
    ports += [
        topology.sink_metrics_port(target, r)
        for target in topology.SINK_METRICS_PORTS
        for r in range(topology.SINK_REPLICAS)
    ]
    texts = {}
    for port in ports:
        address = f"{topology.HOST}:{port}"
        with contextlib.suppress(requests.RequestException):  # a process down is a finding
            texts[address] = requests.get(f"http://{address}/metrics", timeout=5).text
    return texts


def firing_now(minutes: int = 10) -> dict[str, list[str]]:
    """Alert -> label sets firing if the current scrape held for `minutes`."""
    scraped = scrape()
    found = {rule["alert"]: firing(rule["alert"], scraped, minutes) for rule in alerts()}
    return {name: labels for name, labels in found.items() if labels}


def firing(alert: str, scraped: dict[str, str], minutes: int) -> list[str]:
    """The label sets of `alert` firing after `minutes` of these scrapes, as promtool says.

    The rule runs unchanged on the scraped values: promtool is asked to expect nothing and
    prints what fired instead.
    """
    test = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series(scraped),
                "alert_rule_test": [
                    {"eval_time": f"{minutes}m", "alertname": alert, "exp_alerts": []}
                ],
            }
        ],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as file:
        yaml.safe_dump(test, file)
        file.flush()
        result = run("test", "rules", file.name)
    if result.returncode == 0:
        return []
    got = (result.stdout + result.stderr).split("got:", 1)
    assert len(got) == 2, result.stdout + result.stderr
    return re.findall(r"Labels:(\{[^}]*\})", got[1])
