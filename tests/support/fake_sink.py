"""A sink's HTTP endpoint served from a thread, answering /healthz with what a test chose."""

import json
import threading
from contextlib import contextmanager
from wsgiref.simple_server import make_server

from connectors.sink.metrics import QuietHandler


@contextmanager
def fake_sink(body: dict, status: str = "200 OK"):
    """Serve `body` at /healthz and an empty metrics page; yield the sink's URL."""

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/healthz":
            start_response(status, [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="fake-sink")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
