"""GET <order>/conflicts on both services: roles, 404, newest first, paginated, documented."""

import json
import uuid

import pytest

from bench.client import PATHS, order_body
from ordersync.db.roles import CONFLICT_TABLE, OWNER
from ordersync.sync.mapping import columns
from tests.support.db import connect


def create(client, side) -> dict:
    """POST a valid order and return it."""
    response = client.post(PATHS[side], json=order_body(side))
    assert response.status_code == 201, response.json
    return response.json


def record(side, order_id, field="status", days_ago=0, **overrides) -> None:
    """Record a conflict as the sink would (as the owner: the app only reads the log)."""
    row = {
        "order_id": order_id,
        "field": field,
        "local_value": json.dumps("shipped"),
        "local_version": 2,
        "incoming_value": json.dumps("cancelled"),
        "incoming_version": 2,
        "winner": "local",
        "rule": "owner_tie",
        "source_topic": "store.public.store_order",
        "source_partition": 0,
        "source_offset": 7,
    } | overrides
    conn = connect(side, f"{side}_test", OWNER.name)
    with conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {CONFLICT_TABLE} ({', '.join(row)}, decided_at) "
            f"VALUES ({', '.join(['%s'] * len(row))}, now() - make_interval(days => %s))",
            (*row.values(), days_ago),
        )
    conn.close()


def url(side, order_id) -> str:
    return f"{PATHS[side]}/{order_id}/conflicts"


def test_an_orders_conflicts_newest_first_with_both_values(client, side):
    order = create(client, side)
    record(side, order["id"], "status", days_ago=2)
    record(
        side,
        order["id"],
        "customer_name",
        days_ago=1,
        local_value=json.dumps("Ann"),
        incoming_value=json.dumps(None),
        winner="incoming",
        rule="newer_version",
        incoming_version=3,
    )
    response = client.get(url(side, order["id"]))
    assert response.status_code == 200
    newest, oldest = response.json
    # under this side's own column name
    assert newest["field"] == columns(side)["customer_name"]
    assert (newest["winner"], newest["rule"]) == ("incoming", "newer_version")
    assert (newest["local_value"], newest["incoming_value"]) == ("Ann", None)
    assert (newest["local_version"], newest["incoming_version"]) == (2, 3)
    assert oldest["field"] == "status" and oldest["local_value"] == "shipped"
    assert oldest["source"] == {"topic": "store.public.store_order", "partition": 0, "offset": 7}
    assert oldest["decided_at"] < newest["decided_at"]


def test_conflicts_are_paginated_like_the_order_list(client, side):
    order = create(client, side)
    for n in range(3):
        record(side, order["id"], "notes", days_ago=n, local_version=10 + n)
    page = client.get(url(side, order["id"]), query_string={"page": 2, "page_size": 2})
    assert page.status_code == 200
    assert [c["local_version"] for c in page.json] == [12]
    assert '"total": 3' in page.headers["X-Pagination"]
    assert client.get(url(side, order["id"]), query_string={"page": 9}).json == []
    assert client.get(url(side, order["id"]), query_string={"page_size": 101}).status_code == 422


@pytest.mark.parametrize(
    "query", [{"page_size": 101}, {"page_size": 0}, {"page": 0}, {"page": "one"}]
)
def test_bad_paging_is_422_naming_the_parameter_as_the_order_list_does(client, side, query):
    order = create(client, side)
    response = client.get(url(side, order["id"]), query_string=query)
    assert response.status_code == 422
    assert next(iter(query)) in response.json["errors"]["query"]


def test_an_order_without_conflicts_has_an_empty_list(client, side):
    other = create(client, side)
    record(side, create(client, side)["id"])
    assert client.get(url(side, other["id"])).json == []


def test_an_unknown_order_is_404(client, side):
    response = client.get(url(side, uuid.uuid4()))
    assert response.status_code == 404 and "does not exist" in response.json["message"]


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("editor", 200), ("admin", 200)])
def test_editors_and_admins_may_read_conflicts_viewers_may_not(
    app, client, tokens, side, role, status
):
    order = create(client, side)
    reader = app.test_client()
    reader.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {tokens[role]}"
    response = reader.get(url(side, order["id"]))
    assert response.status_code == status
    if status == 403:
        assert "editor" in response.json["message"]


def test_a_viewer_is_refused_before_the_paging_is_read(app, client, tokens, side):
    order = create(client, side)
    reader = app.test_client()
    reader.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {tokens['viewer']}"
    for paging in ({"page": "one"}, {"page_size": 0}, {}):
        response = reader.get(url(side, order["id"]), query_string=paging)
        assert response.status_code == 403, paging
    # the order itself stays the viewer's to read
    assert reader.get(f"{PATHS[side]}/{order['id']}").status_code == 200


def test_without_a_token_it_is_401(app, client, side):
    order = create(client, side)
    assert app.test_client().get(url(side, order["id"])).status_code == 401


def test_the_openapi_document_lists_the_conflicts_of_an_order(client, side):
    spec = client.get("/api/openapi.json").json
    operation = spec["paths"][f"{PATHS[side]}/{{order_id}}/conflicts"]["get"]
    assert "newest first" in operation["summary"]
    schema = spec["components"]["schemas"][f"{side.capitalize()}Conflict"]
    expected = {"field", "winner", "rule", "local_value", "incoming_value", "decided_at"}
    assert expected | {"local_version", "incoming_version"} <= schema["properties"].keys()
