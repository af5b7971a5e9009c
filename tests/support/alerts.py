"""monitoring/alerts.yml through Prometheus's own rule checker, promtool (`make promtool`)."""

import os
import re
import subprocess
import tempfile
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from stack import topology

MONITORING = topology.ROOT / "monitoring"
RULES = MONITORING / "alerts.yml"


def promtool() -> str:
    """The promtool binary: $PROMTOOL (`make test` sets it), else the one `make promtool` built."""
    found = os.environ.get("PROMTOOL") or next(
        (str(p) for p in sorted((topology.STATE / "tools").glob("promtool-*"))), None
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


def series(metrics_text: str) -> list[dict]:
    """Prometheus text as promtool input series, each value held for an hour."""
    found = []
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            found.append({"series": f"{sample.name}{{{labels}}}", "values": f"{sample.value}+0x60"})
    return found


def firing(alert: str, metrics_text: str, minutes: int) -> list[str]:
    """The label sets of `alert` firing after `minutes` of these metrics, as promtool says.

    The rule runs unchanged on the scraped values: promtool is asked to expect nothing and
    prints what fired instead.
    """
    test = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series(metrics_text),
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
