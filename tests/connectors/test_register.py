"""`python -m connectors.register`: what compose's register-connectors service runs."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connectors import register
from ordersync.environment import BadSetting


@pytest.fixture
def fake_connect():
    """A Connect REST stand-in on loopback that records each PUT and answers 201."""
    received = {}

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received[self.path] = json.loads(body)
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    server.server_close()


def test_it_puts_every_config_the_folder_holds(fake_connect):
    url, received = fake_connect
    assert register.main([url]) == 0
    wanted = {
        f"/connectors/{spec['name']}/config": spec["config"]
        for spec in register.configs(register.CONFIG_DIR)
    }
    assert len(wanted) == 2
    assert received == wanted


def test_it_fails_when_it_finds_no_config(fake_connect, monkeypatch, tmp_path, capsys):
    url, received = fake_connect
    monkeypatch.setenv("CONNECTOR_CONFIG_DIR", str(tmp_path))
    assert register.main([url]) == 1
    assert received == {}
    assert "no connector configs" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["TOPIC_PARTITIONS", "TOPIC_REPLICATION_FACTOR"])
def test_a_bad_topic_size_is_refused_by_name(monkeypatch, capsys, name):
    monkeypatch.setenv(name, "three")
    with pytest.raises(BadSetting, match=name):
        register.configs(register.CONFIG_DIR)
    assert register.main(["http://127.0.0.1:9"]) == 1  # before any request
    assert f"{name}='three'" in capsys.readouterr().err


def test_topics_are_sized_from_the_environment(monkeypatch):
    monkeypatch.setenv("TOPIC_PARTITIONS", "3")
    spec = register.configs(register.CONFIG_DIR)[0]
    assert spec["config"]["topic.creation.default.partitions"] == "3"
