"""The alert rules: valid for Prometheus, tested by promtool, backed by metrics we export and by a
runbook entry each; compose's Prometheus loads them."""

import re
import shutil

import yaml

from stack import topology
from stack.alerts import MONITORING, RULES, alerts, firing, run

OPERATIONS = topology.ROOT / "docs" / "operations.md"
# metric names of Prometheus itself, not of our processes
PROMETHEUS_OWN = {"up"}
WORDS = re.compile(r"[a-z_][a-z0-9_]*")
DECLARED = re.compile(r'(?:Counter|Gauge|Histogram)\(\s*"([a-z0-9_]+)"')
PROMQL = {"sum", "and", "or", "unless", "deriv", "increase", "time", "min_over_time"}


def test_promtool_finds_the_rules_valid():
    result = run("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in result.stdout


def test_the_rules_pass_their_unit_tests():
    result = run("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_accepts_the_compose_config_with_the_rules(tmp_path):
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    shutil.copy(RULES, tmp_path / "alerts.yml")
    config["rule_files"] = ["alerts.yml"]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    result = run("check", "config", "prometheus.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_mounts_the_rules_where_the_config_reads_them():
    compose = yaml.safe_load((topology.ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["prometheus"]["volumes"]
    assert "./monitoring/alerts.yml:/etc/prometheus/alerts.yml:ro" in volumes
    targets = [
        target
        for job in yaml.safe_load((MONITORING / "prometheus.yml").read_text())["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    ]
    for target in targets:  # every scraped service exists in compose
        assert target.split(":")[0] in compose["services"], target


def exported_metrics() -> set[str]:
    """Metric names our code declares (prometheus_client adds _total to counters)."""
    names = set()
    for folder in ("connectors", "ordersync"):
        for path in (topology.ROOT / folder).rglob("*.py"):
            for name in DECLARED.findall(path.read_text()):
                names |= {name, name.removesuffix("_total") + "_total"}
    return names


def test_every_metric_an_alert_reads_is_one_we_export():
    exported = exported_metrics() | PROMETHEUS_OWN
    for rule in alerts():
        expr = re.sub(r'\{[^}]*\}|"[^"]*"|\[[^\]]*\]|by\s*\([^)]*\)', "", rule["expr"])
        used = {w for w in WORDS.findall(expr) if w not in PROMQL}
        assert used <= exported, (rule["alert"], used - exported)


def test_every_alert_has_a_runbook_entry():
    headings = {
        line.lstrip("#").strip().lower()
        for line in OPERATIONS.read_text().splitlines()
        if line.startswith("### ")
    }
    for rule in alerts():
        anchor = rule["alert"].lower()
        assert rule["annotations"]["runbook"] == f"docs/operations.md#{anchor}"
        assert anchor in headings, f"docs/operations.md lacks ### {rule['alert']}"
        assert rule["labels"]["severity"] in {"warning", "critical"}


def test_a_healthy_scrape_fires_nothing_and_a_lost_slot_fires_slot_lost():
    healthy = (
        'pg_replication_slot_present{side="store",slot="store_cdc"} 1.0\n'
        'pg_replication_slot_wal_status{side="store",slot="store_cdc",status="lost"} 0.0\n'
    )
    assert firing("SlotLost", {"watchdog": healthy}, 5) == []
    lost = healthy.replace('status="lost"} 0.0', 'status="lost"} 1.0')
    assert firing("SlotLost", {"watchdog": lost}, 5) == [
        '{alertname="SlotLost", instance="watchdog", severity="critical", side="store", '
        'slot="store_cdc", status="lost"}'
    ]
