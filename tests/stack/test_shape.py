"""The stack remembers the shape its last `up` started, so later commands need no variables."""

import json
import os
import subprocess
import sys

from stack import shape
from stack.topology import ROOT

# what a launcher command does: importing stack recalls the shape, then the ports are read
PORTS = "import stack; from ordersync import topology as t; print(t.BROKERS, t.SINK_REPLICAS"


def run_python(code: str, env: dict) -> str:
    """Run Python in a fresh process (the shape is read at import) and return its output."""
    clean = {k: v for k, v in os.environ.items() if k not in shape.VARIABLES}
    result = subprocess.run(
        [sys.executable, "-c", code], env=clean | env, cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_later_command_talks_to_the_cluster_the_last_up_started(tmp_path):
    (tmp_path / "shape.json").write_text(json.dumps({"STACK_BROKERS": "3", "SINK_REPLICAS": "2"}))
    code = PORTS + ", t.TOPIC_PARTITIONS)"
    assert run_python(code, {"STACK_DIR": str(tmp_path)}) == "3 2 3"
    # a variable set by the caller wins over the memory
    assert run_python(code, {"STACK_DIR": str(tmp_path), "STACK_BROKERS": "1"}) == "1 2 1"


def test_no_memory_or_a_broken_one_means_the_defaults(tmp_path):
    code = PORTS + ")"
    assert run_python(code, {"STACK_DIR": str(tmp_path)}) == "1 1"
    (tmp_path / "shape.json").write_text('["not", "a", "shape"]')
    assert run_python(code, {"STACK_DIR": str(tmp_path)}) == "1 1"
    (tmp_path / "shape.json").write_text('{"PATH": "/evil", "STACK_BROKERS": "3"}')
    assert (
        run_python("import os; print(os.environ['PATH'] != '/evil')", {"STACK_DIR": str(tmp_path)})
        == "True"
    )


def test_the_defaults_and_their_spelling_out_are_one_shape():
    assert shape.effective({}) == shape.effective({"STACK_BROKERS": "1", "SINK_REPLICAS": "1"})
    assert shape.effective({"STACK_BROKERS": "3"})["partitions"] == "3"
    assert shape.effective({"STACK_BROKERS": "3"}) != shape.effective({})
