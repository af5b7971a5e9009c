"""The admin's Sync page through the test client: access, CSRF, and Kafka or the sink down."""

import pytest

from stack.probes import nobody_listens
from tests.support.web import sign_in


@pytest.fixture
def offline(apps, side):
    """An admin client of the side's app whose Kafka and sink are both unreachable."""
    tested, _ = apps[side]
    app = __import__(side).create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": tested.config["SQLALCHEMY_DATABASE_URI"],
            "KAFKA_BOOTSTRAP_SERVERS": nobody_listens(),
            "SYNC_SINK_URLS": (f"http://{nobody_listens()}", f"http://{nobody_listens()}"),
            "SYNC_PROBE_TIMEOUT": 0.3,
        }
    )
    client = app.test_client()
    with app.app_context():
        assert sign_in(client, "admin").status_code == 302
    return client


def test_strangers_are_sent_to_login(anonymous):
    for response in (anonymous.get("/admin/sync/"), anonymous.post("/admin/sync/replay")):
        assert response.status_code == 302
        assert "/admin/login" in response.headers["Location"]


def test_the_page_says_unavailable_when_kafka_and_the_sink_are_down(offline, side):
    page = offline.get("/admin/sync/")
    assert page.status_code == 200
    other = "warehouse" if side == "store" else "store"
    assert f"sink-{other}-to-{side}" in page.text
    assert 'id="sink-state">unavailable' in page.text
    assert 'id="sink-state-1">unavailable' in page.text  # each replica of the sink
    assert "Sink, replica 1" in page.text
    assert 'id="dead-letter-count">unavailable' in page.text
    assert "Kafka unavailable" in page.text


def test_replay_needs_the_csrf_token(offline):
    assert offline.post("/admin/sync/replay", data={}).status_code == 400


def test_a_replay_with_kafka_down_fails_with_a_message_not_a_500(offline):
    page = offline.get("/admin/sync/")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = offline.post("/admin/sync/replay", data={"csrf_token": token})
    assert response.status_code == 302
    shown = offline.get("/admin/sync/").text
    assert "Replay failed, nothing was marked replayed" in shown
