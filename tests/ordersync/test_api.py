"""Every status code of the order API, on both services, against a real PostgreSQL."""

import uuid

import pytest

from bench.client import PATHS, name_field, order_body
from ordersync.sync.mapping import TABLES


def create(client, side, **overrides):
    """POST a valid order and return the response."""
    response = client.post(PATHS[side], json=order_body(side, **overrides))
    assert response.status_code == 201, response.json
    return response


def count(conn, side) -> int:
    """Return how many rows the side's test table holds."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) AS n FROM {TABLES[side]}")
        return cur.fetchone()["n"]


def test_create_returns_order_location_and_etag(client, side):
    response = create(client, side, notes="fragile")
    body = response.json
    assert response.headers["Location"].endswith(f"{PATHS[side]}/{body['id']}")
    assert response.headers["ETag"] == '"1"'
    assert body["status"] == "pending"
    assert body["notes"] == "fragile"
    assert body[name_field(side)] == "Ada Lovelace"
    assert body["sync"]["author"] == side
    assert body["version"] == 1


def test_get_returns_etag_of_current_version(client, side):
    order = create(client, side).json
    response = client.get(f"{PATHS[side]}/{order['id']}")
    assert response.status_code == 200
    assert response.json["order_number"] == order["order_number"]
    assert response.headers["ETag"] == '"1"'


def test_list_is_paginated_filtered_and_newest_first(client, side):
    numbers = [create(client, side).json["order_number"] for _ in range(3)]
    shipped = create(client, side, status="shipped").json
    page = client.get(PATHS[side], query_string={"page": 1, "page_size": 2})
    assert page.status_code == 200
    assert [o["order_number"] for o in page.json] == [shipped["order_number"], numbers[2]]
    assert '"total": 4' in page.headers["X-Pagination"]
    by_status = client.get(PATHS[side], query_string={"status": "shipped"}).json
    assert [o["id"] for o in by_status] == [shipped["id"]]
    by_number = client.get(PATHS[side], query_string={"order_number": numbers[0]}).json
    assert [o["order_number"] for o in by_number] == [numbers[0]]


@pytest.mark.parametrize(
    "query", [{"page_size": 101}, {"page": 0}, {"status": "lost"}, {"page_size": "ten"}]
)
def test_bad_list_query_is_422_naming_the_parameter(client, side, query):
    response = client.get(PATHS[side], query_string=query)
    assert response.status_code == 422
    assert next(iter(query)) in response.json["errors"]["query"]


def test_put_replaces_all_writable_fields(client, side):
    order = create(client, side, notes="old").json
    body = order_body(side, status="processing")
    response = client.put(f"{PATHS[side]}/{order['id']}", json=body)
    assert response.status_code == 200
    assert response.json["notes"] is None
    assert response.json["status"] == "processing"
    assert response.json["order_number"] == body["order_number"]
    assert response.headers["ETag"] == '"2"'


def test_put_without_a_required_field_is_422(client, side):
    order = create(client, side).json
    body = order_body(side)
    del body["shipping_address"]
    response = client.put(f"{PATHS[side]}/{order['id']}", json=body)
    assert response.status_code == 422
    assert "shipping_address" in response.json["errors"]["json"]


def test_patch_changes_only_given_fields(client, side):
    order = create(client, side, notes="keep").json
    response = client.patch(f"{PATHS[side]}/{order['id']}", json={"status": "shipped"})
    assert response.status_code == 200
    assert response.json["status"] == "shipped"
    assert response.json["notes"] == "keep"
    assert response.json["sync"]["field_versions"]["status"] == 2
    assert response.json["sync"]["field_versions"]["notes"] == 1


def test_delete_hides_the_order_everywhere(client, side, test_db):
    order = create(client, side).json
    url = f"{PATHS[side]}/{order['id']}"
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.patch(url, json={"notes": "x"}).status_code == 404
    assert client.put(url, json=order_body(side)).status_code == 404
    assert client.delete(url).status_code == 404
    assert order["id"] not in [o["id"] for o in client.get(PATHS[side]).json]
    with test_db.cursor() as cur:
        cur.execute(f"SELECT deleted FROM {TABLES[side]} WHERE id = %s", (order["id"],))
        assert cur.fetchone()["deleted"] is True


def test_deleted_order_number_can_be_reused(client, side):
    order = create(client, side).json
    client.delete(f"{PATHS[side]}/{order['id']}")
    create(client, side, order_number=order["order_number"])


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_stale_if_match_is_412_and_changes_nothing(client, side, method):
    order = create(client, side).json
    url = f"{PATHS[side]}/{order['id']}"
    client.patch(url, json={"notes": "moved on"})
    kwargs = {"json": order_body(side)} if method == "put" else {}
    if method == "patch":
        kwargs = {"json": {"notes": "lost update"}}
    response = getattr(client, method)(url, headers={"If-Match": '"1"'}, **kwargs)
    assert response.status_code == 412
    assert '"2"' in response.json["message"]
    current = client.get(url)
    assert current.json["notes"] == "moved on"
    assert current.headers["ETag"] == '"2"'


def test_matching_if_match_is_accepted(client, side):
    order = create(client, side).json
    url = f"{PATHS[side]}/{order['id']}"
    response = client.patch(url, json={"notes": "ok"}, headers={"If-Match": '"1"'})
    assert response.status_code == 200
    assert client.delete(url, headers={"If-Match": '"2"'}).status_code == 204


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"items": [{"sku": "A", "quantity": -7}]}, "items"),
        ({"items": [{"sku": "A", "quantity": 10001}]}, "items"),
        ({"items": [{"sku": "A", "quantity": "2"}]}, "items"),
        ({"items": []}, "items"),
        ({"items": [{"sku": "A", "quantity": 1}] * 101}, "items"),
        ({"items": [{"sku": "", "quantity": 1}]}, "items"),
        ({"items": [{"sku": "A", "quantity": 1, "price": 3}]}, "items"),
        ({"status": "lost"}, "status"),
        ({"order_number": ""}, "order_number"),
        ({"order_number": "x" * 33}, "order_number"),
        ({"order_number": 42}, "order_number"),
        ({"shipping_address": "x" * 501}, "shipping_address"),
        ({"tracking_number": "x" * 65}, "tracking_number"),
        ({"notes": "x" * 2001}, "notes"),
        ({"id": "8d3c9a58-7f43-4d52-9a3b-43ddf1c0a001"}, "id"),
        ({"version": 9}, "version"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_body_is_422_naming_the_field_and_changes_nothing(
    client, side, test_db, overrides, field
):
    before = count(test_db, side)
    response = client.post(PATHS[side], json=order_body(side, **overrides))
    assert response.status_code == 422
    assert response.json["code"] == 422
    assert field in response.json["errors"]["json"]
    assert count(test_db, side) == before


def test_missing_required_fields_are_each_named(client, side):
    response = client.post(PATHS[side], json={})
    assert response.status_code == 422
    named = set(response.json["errors"]["json"])
    assert {"order_number", "shipping_address", "items", name_field(side)} <= named


def test_invalid_patch_changes_nothing(client, side):
    order = create(client, side).json
    url = f"{PATHS[side]}/{order['id']}"
    response = client.patch(url, json={"status": "shipped", "items": [{"sku": "A", "quantity": 0}]})
    assert response.status_code == 422
    assert client.get(url).json["status"] == "pending"


def test_malformed_json_is_400(client, side, test_db):
    before = count(test_db, side)
    response = client.post(PATHS[side], data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.is_json
    assert count(test_db, side) == before


def test_body_over_one_mebibyte_is_413(client, side):
    body = order_body(side, notes="x" * (1024 * 1024))
    response = client.post(PATHS[side], json=body)
    assert response.status_code == 413
    assert response.json["code"] == 413


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_non_uuid_id_is_404(client, side, method):
    response = getattr(client, method)(f"{PATHS[side]}/not-a-uuid", json={})
    assert response.status_code == 404
    assert response.is_json


def test_unknown_uuid_is_404(client, side):
    response = client.get(f"{PATHS[side]}/{uuid.uuid4()}")
    assert response.status_code == 404
    assert "does not exist" in response.json["message"]


def test_duplicate_order_number_is_409(client, side, test_db):
    order = create(client, side).json
    before = count(test_db, side)
    response = client.post(PATHS[side], json=order_body(side, order_number=order["order_number"]))
    assert response.status_code == 409
    assert "order_number" in response.json["errors"]["json"]
    assert count(test_db, side) == before


def test_duplicate_order_number_on_update_is_409(client, side):
    first, second = create(client, side).json, create(client, side).json
    url = f"{PATHS[side]}/{second['id']}"
    response = client.patch(url, json={"order_number": first["order_number"]})
    assert response.status_code == 409
    assert client.get(url).json["order_number"] == second["order_number"]


def test_wrong_method_is_json_405(client, side):
    response = client.delete(PATHS[side])
    assert response.status_code == 405
    assert response.json["code"] == 405


def test_openapi_document_and_swagger_ui(client, side):
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200
    assert PATHS[side] in spec.json["paths"]
    assert f"{PATHS[side]}/{{order_id}}" in spec.json["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"/api/swagger-ui/swagger-ui-bundle.js" in docs.data
    with client.get("/api/swagger-ui/swagger-ui-bundle.js") as assets:
        assert assets.status_code == 200 and len(assets.data) > 100_000


def test_health_probes(client, side):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
