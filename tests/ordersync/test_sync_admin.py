"""The admin's Sync page through the test client: access, CSRF, Kafka or the sink down, schema."""

import html

import psycopg2.extensions
import pytest

from ordersync.admin import sync as sync_admin
from ordersync.admin.sync import schema_status
from ordersync.db import rollout
from ordersync.db.roles import OWNER, SCHEMA_TABLE
from ordersync.sync.fieldkinds import Integer, Text
from ordersync.sync.mapping import LATEST, STORE, WAREHOUSE, SchemaVersion, SyncedField
from ordersync.sync.sinkhealth import LeftAlone, SinkHealth, SinkSchema
from stack.probes import nobody_listens
from tests.support.db import connect
from tests.support.fake_sink import fake_sink
from tests.support.web import sign_in

GIFT = SyncedField(
    "gift_note", STORE, Text(200, nullable=True), columns={WAREHOUSE: "gift_message"}
)
PARCELS = SyncedField("parcels", WAREHOUSE, Integer(1, 20), default=1)
# the code's next version, as a release that adds the gift note would declare it
WITH_GIFT = LATEST.after(SchemaVersion(LATEST.version + 1, add=(GIFT,)))
WITHOUT_NOTES = LATEST.after(SchemaVersion(LATEST.version + 1, retire=("notes",)))


def admin_client(apps, side: str, sink_urls):
    """An admin client of the side's app on its test database; Kafka is unreachable."""
    tested, _ = apps[side]
    app = __import__(side).create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": tested.config["SQLALCHEMY_DATABASE_URI"],
            "KAFKA_CLIENT": {"bootstrap.servers": nobody_listens()},
            "SYNC_SINK_URLS": tuple(sink_urls),
            "SYNC_PROBE_TIMEOUT": 0.3,
        }
    )
    client = app.test_client()
    with app.app_context():
        assert sign_in(client, "admin").status_code == 302
    return client


@pytest.fixture
def offline(apps, side):
    """An admin client of the side's app whose Kafka and sink are both unreachable."""
    return admin_client(apps, side, (f"http://{nobody_listens()}", f"http://{nobody_listens()}"))


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


def sink(version, *left, available=True) -> SinkHealth:
    """A replica that answered with a schema version and fields it left alone."""
    if not available:
        return SinkHealth(healthy=False, error="refused")
    return SinkHealth(True, "ok", schema=SinkSchema(version, tuple(LeftAlone(*e) for e in left)))


@pytest.fixture
def code_declares(monkeypatch):
    """Let the page's code declare another latest field set."""
    return lambda fields: monkeypatch.setattr(sync_admin, "LATEST", fields)


def test_a_side_that_has_not_migrated_is_told_to(code_declares):
    code_declares(WITH_GIFT)
    status = schema_status(
        WAREHOUSE, LATEST, "", [sink(LATEST.version, ("gift_note", "target-lacks"))]
    )
    assert status.state == "mid-rollout"
    v, n = LATEST.version, WITH_GIFT.version
    assert status.notes == [
        f"This side syncs schema version {v}, this code declares {n}: "
        "migrate this side (make migrate SIDE=warehouse).",
        "Events from the store carry gift_note, which this side does not sync yet: "
        "migrate this side (make migrate SIDE=warehouse).",
    ]


def test_events_of_a_side_that_has_not_migrated_lack_the_field(code_declares):
    code_declares(WITH_GIFT)
    status = schema_status(
        STORE, WITH_GIFT, "", [sink(WITH_GIFT.version, ("gift_note", "event-lacks"))]
    )
    assert status.state == "mid-rollout"
    assert status.notes == [
        "Events from the warehouse lack gift_note, which this side syncs: "
        "the warehouse has not migrated to it yet (make migrate SIDE=warehouse)."
    ]


def test_a_retired_field_still_carried_by_the_other_side(code_declares):
    code_declares(WITHOUT_NOTES)
    status = schema_status(
        STORE, WITHOUT_NOTES, "", [sink(WITHOUT_NOTES.version, ("notes", "target-lacks"))]
    )
    assert status.state == "mid-rollout"
    assert status.notes == [
        "Events from the warehouse still carry notes, which this side no longer syncs: "
        "the warehouse has not migrated yet (make migrate SIDE=warehouse)."
    ]


def test_a_field_this_code_does_not_know_asks_for_its_code():
    status = schema_status(STORE, LATEST, "", [sink(LATEST.version, ("parcels", "target-lacks"))])
    assert status.state == "mid-rollout"
    assert status.notes == [
        "Events from the warehouse carry parcels, which this code does not declare: the "
        "warehouse runs a newer schema; deploy that code here, then migrate this side."
    ]


def test_nothing_left_alone_at_the_declared_version_is_in_step():
    status = schema_status(STORE, LATEST, "", [sink(LATEST.version)])
    assert status.state == "in step" and status.sink_version == f"version {LATEST.version}"
    assert status.notes == [
        "Both sides appear to agree on the synced fields: no event from the warehouse in the "
        "last 10 minutes carried a field this side lacks or lacked one it syncs "
        "(make status compares both databases)."
    ]


def test_what_the_sink_remembers_from_before_a_migration_is_not_a_rollout(code_declares):
    code_declares(WITH_GIFT)
    replicas = [sink(LATEST.version, ("gift_note", "target-lacks")), sink(WITH_GIFT.version)]
    status = schema_status(WAREHOUSE, WITH_GIFT, "", replicas)
    assert status.state == "in step"
    v, n = LATEST.version, WITH_GIFT.version
    assert status.sink_version == f"versions {v}, {n}"
    assert status.notes[:2] == [
        f"The sink last wrote with schema version {v}; "
        f"it reads this side's version {n} with its next batch.",
        "Events from the store carried gift_note before this side synced it.",
    ]


def test_a_database_ahead_of_the_code_is_said_but_is_no_rollout():
    newer = WITH_GIFT
    status = schema_status(WAREHOUSE, newer, "", [sink(newer.version)])
    assert status.state == "in step"
    assert status.notes[0] == (
        f"This side's database syncs schema version {newer.version}, newer than this app's "
        f"code declares ({LATEST.version}): deploy the code that declares it."
    )


def test_replicas_report_together_and_an_unavailable_one_is_skipped():
    replicas = [
        sink(LATEST.version, ("parcels", "target-lacks")),
        sink(None, available=False),
        sink(LATEST.version, ("notes", "event-lacks"), ("parcels", "target-lacks")),
    ]
    status = schema_status(STORE, LATEST, "", replicas)
    assert [n.split(",")[0] for n in status.notes] == [
        "Events from the warehouse lack notes",
        "Events from the warehouse carry parcels",
    ]


def test_a_field_this_side_stopped_syncing_is_no_longer_missed():
    status = schema_status(STORE, LATEST, "", [sink(LATEST.version, ("gift_note", "event-lacks"))])
    assert status.state == "in step"
    assert status.notes[0] == (
        "Events from the warehouse lacked gift_note while this side synced it; it no longer does."
    )


@pytest.mark.parametrize(
    "replicas, version, note",
    [
        ([sink(None, available=False)], "unavailable", "The sink is unavailable"),
        ([SinkHealth(True, "ok")], "not reported", "The sink does not report its schema"),
    ],
)
def test_without_the_sinks_word_the_state_is_unknown(replicas, version, note):
    status = schema_status(STORE, LATEST, "", replicas)
    assert status.state == "unknown" and status.sink_version == version
    assert status.notes[-1].startswith(note)


def test_a_sink_before_its_first_batch_has_no_version_yet():
    assert schema_status(STORE, LATEST, "", [sink(None)]).sink_version == (
        "none yet (no batch since it started)"
    )


def test_an_unreadable_database_still_shows_what_the_sink_says():
    replicas = [sink(LATEST.version, ("gift_note", "event-lacks"))]
    status = schema_status(STORE, None, "connection refused", replicas)
    assert status.state == "mid-rollout" and status.error == "connection refused"
    assert schema_status(STORE, None, "refused", [sink(LATEST.version)]).state == "unknown"


@pytest.fixture
def ahead(apps, side):
    """This side's test database records a newer schema version (taken back afterwards).

    The test database is the suite's: the row goes in and out in one autocommit each.
    """
    conn = connect(side, f"{side}_test", OWNER.name)
    current = rollout.read(conn.cursor(cursor_factory=psycopg2.extensions.cursor))
    fields = current.after(SchemaVersion(current.version + 1, add=(GIFT, PARCELS)))
    with conn.cursor() as cur:
        cur.execute(rollout.record_sql(fields))
    yield fields
    with conn.cursor() as cur:
        cur.execute(f"DELETE FROM {SCHEMA_TABLE} WHERE version = %s", (fields.version,))
    conn.close()


def test_the_page_shows_this_sides_version_from_its_database(apps, side, ahead):
    page = admin_client(apps, side, [f"http://{nobody_listens()}"]).get("/admin/sync/")
    text = html.unescape(page.text)
    assert page.status_code == 200
    assert f'id="schema-version">version {ahead.version}</span>' in text
    gift = "<code>gift_note</code>" + (
        " (column <code>gift_message</code>)" if side == WAREHOUSE else ""
    )
    assert gift in text and "<code>parcels</code>" in text
    assert f'id="schema-declared">version {LATEST.version}' in text
    assert f"syncs schema version {ahead.version}, newer than this app's code" in text
    assert 'id="schema-state">unknown' in text and 'id="schema-sink-version">unavailable' in text


def test_the_page_says_what_its_sink_left_alone(apps, side):
    other = STORE if side == WAREHOUSE else WAREHOUSE
    body = {
        "status": "ok",
        "schema": {
            "version": LATEST.version,
            "left_alone": [
                {"field": "parcels", "why": "target-lacks"},
                {"field": "<script>x</script>", "why": "target-lacks"},
            ],
        },
    }
    with fake_sink(body) as url:
        page = admin_client(apps, side, [url]).get("/admin/sync/")
    assert 'id="schema-state">mid-rollout' in page.text
    assert f'id="schema-sink-version">version {LATEST.version}' in page.text
    assert f"Events from the {other} carry parcels, which this code does not declare" in page.text
    assert "script" not in page.text.split('id="schema"', 1)[1].split('id="dead-letters"', 1)[0]
