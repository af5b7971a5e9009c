"""Prometheus metrics and health of the running sinks, read with prometheus_client's parser."""

import requests
from prometheus_client.parser import text_string_to_metric_families

from ordersync import topology


def samples(text: str, name: str, **labels) -> list[float]:
    """The values of every sample called `name` whose labels include `labels`."""
    return [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    ]


def metric(text: str, name: str, **labels) -> float:
    """The sum of the matching samples, 0 when there are none."""
    return sum(samples(text, name, **labels))


def scrape(url: str) -> str:
    """GET a metrics page without credentials."""
    response = requests.get(url, timeout=5)
    assert response.status_code == 200, response.text
    return response.text


def sink_metrics_url(target: str) -> str:
    """The metrics page of the sink writing into `target`."""
    return f"http://{topology.HOST}:{topology.SINK_METRICS_PORTS[target]}/metrics"


def sink_metric(target: str, name: str, **labels) -> float:
    """Sum the samples of one metric of the sink writing into `target` that match the labels."""
    return metric(scrape(sink_metrics_url(target)), name, **labels)


def sink_health(target: str) -> dict:
    """The /healthz body of the sink writing into `target`."""
    port = topology.SINK_METRICS_PORTS[target]
    return requests.get(f"http://{topology.HOST}:{port}/healthz", timeout=5).json()
