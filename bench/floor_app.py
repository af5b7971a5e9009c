"""The floor of what a request costs: bare Flask, one psycopg2 INSERT, nothing else.

Served by the benchmark as the apps are served (ordersync.service.serve), against the store database
as the apps' role, into a scratch table the benchmark creates (bench/single.py).
No auth, no validation beyond the JSON shape, no ORM, no logging, no metrics: the distance
between this and an API create is what the API's own machinery costs.
"""

import os
import uuid

from flask import Flask, abort, request
from psycopg2.pool import ThreadedConnectionPool

TABLE = "bench_floor"


def create_app() -> Flask:
    """An app with one insert endpoint and a health check."""
    app = Flask(__name__)
    pool = ThreadedConnectionPool(1, 4, os.environ["DATABASE_URL"])

    @app.post("/orders")
    def create():
        """Insert one row; 201 with its id."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("order_number"), str):
            abort(400)
        order_id = uuid.uuid4()
        conn = pool.getconn()
        try:
            with conn, conn.cursor() as cur:
                cur.execute(
                    f"INSERT INTO {TABLE} (id, order_number) VALUES (%s, %s)",
                    (str(order_id), body["order_number"][:64]),
                )
        finally:
            pool.putconn(conn)
        return {"id": str(order_id)}, 201

    @app.get("/healthz")
    def healthz():
        """Alive."""
        return {"status": "ok"}

    return app
