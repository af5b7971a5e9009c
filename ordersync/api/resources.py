"""The order REST resource, built once and mounted by each service with its own model and schema."""

import uuid
from contextlib import contextmanager
from functools import cache

from flask import request
from flask.views import MethodView
from flask_smorest import abort
from psycopg2 import errorcodes
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from ordersync.api.conflicts import add_conflicts_route
from ordersync.api.paging import one_page
from ordersync.api.schemas import OrderQueryArgsSchema
from ordersync.auth.tokens import require_role
from ordersync.web.extensions import db
from ordersync.web.parsing import Blueprint


def etag(order) -> str:
    """Return the strong ETag of an order's current version."""
    return f'"{order.version}"'


def single_statement() -> None:
    """Run what follows in autocommit: one statement is its own transaction.

    A read or a create is one statement; wrapped in BEGIN … COMMIT (or the ROLLBACK when the
    session closes) it costs two more round trips, each a wake-up of the app and the server.
    """
    session = db.session()
    if session.in_transaction():
        session.commit()  # what ran before (an account lookup on a cache miss) is done
    # psycopg2's own switch: SQLAlchemy's AUTOCOMMIT option costs a SET when it is undone;
    # the pool switches it back when the connection returns (ordersync.db.pooling)
    session.connection().connection.dbapi_connection.autocommit = True


def find_order(model, order_id: uuid.UUID, for_update: bool = False):
    """Return a live order or answer 404; lock the row when it is about to change."""
    order = db.session.get(model, order_id, with_for_update=for_update)
    if order is None or order.deleted:
        abort(404, message=f"Order {order_id} does not exist.")
    return order


def check_if_match(order) -> None:
    """Answer 412 when If-Match names a version other than the current one."""
    if request.if_match and not request.if_match.contains(str(order.version)):
        abort(412, message=f"Order {order.id} changed: its current ETag is {etag(order)}.")


@contextmanager
def number_clash_as_409():
    """Turn a duplicate order_number raised inside into 409."""
    try:
        yield
    except IntegrityError as error:
        db.session.rollback()
        duplicate = (errorcodes.UNIQUE_VIOLATION, errorcodes.EXCLUSION_VIOLATION)
        if getattr(error.orig, "pgcode", None) in duplicate:
            abort(
                409,
                message="Order number already in use.",
                errors={"json": {"order_number": ["An order with this number already exists."]}},
            )
        raise


def commit() -> None:
    """Commit the session, turning a duplicate order_number into 409."""
    with number_clash_as_409():
        db.session.commit()


def insert_order(model, data: dict):
    """Insert an order with one INSERT … RETURNING and commit; the row as the trigger left it.

    Core, not the ORM's unit of work: a create needs no identity map or flush bookkeeping,
    which cost more CPU than the rest of the handler (measured: docs/performance.md).
    """
    single_statement()
    with number_clash_as_409():
        order = db.session.execute(inserting(model.__table__), data).one()
        db.session.commit()
    return order


@cache
def inserting(table):
    """The INSERT … RETURNING of a table, built once (its values come as parameters)."""
    return insert(table).returning(*table.columns)


def copy_fields(order, data: dict) -> None:
    """Copy loaded fields onto the order."""
    for key, value in data.items():
        setattr(order, key, value)


def orders_blueprint(name: str, url_prefix: str, model, schema) -> Blueprint:
    """Build the list/create and read/replace/patch/delete endpoints of one side's orders."""
    blp = Blueprint(name, name, url_prefix=url_prefix, description=f"{model.__name__} resources")
    blp.before_request(require_role)
    # instances, not classes: webargs would build a new Schema (deep-copying its fields) per request
    order_schema, query_schema = schema(), OrderQueryArgsSchema()
    # a named subclass, so the OpenAPI document gets a distinct schema for partial bodies
    patch_schema = type(f"{schema.__name__}Patch", (schema,), {})(partial=True)

    @blp.route("")
    class Orders(MethodView):
        @blp.arguments(query_schema, location="query")
        @blp.response(200, schema(many=True))
        @blp.paginate()
        def get(self, filters, pagination_parameters):
            """List live orders, newest first."""
            single_statement()
            query = model.live().filter_by(**filters)
            count = select(func.count()).select_from(query.order_by(None).subquery())
            page = one_page(query, count, pagination_parameters)
            return [] if page is None else db.session.scalars(page).all()

        @blp.arguments(order_schema)
        @blp.response(201, schema)
        def post(self, data):
            """Create an order."""
            order = insert_order(model, data)
            return order, {"Location": f"{request.base_url}/{order.id}", "ETag": etag(order)}

    @blp.route("/<uuid:order_id>")
    class OrderById(MethodView):
        @blp.response(200, schema)
        def get(self, order_id):
            """Get one order; its ETag is its version."""
            single_statement()
            order = find_order(model, order_id)
            return order, {"ETag": etag(order)}

        @blp.arguments(order_schema)
        @blp.response(200, schema)
        def put(self, data, order_id):
            """Replace every writable field of an order."""
            return self.change(order_id, data)

        @blp.arguments(patch_schema)
        @blp.response(200, schema)
        def patch(self, data, order_id):
            """Change some fields of an order."""
            return self.change(order_id, data)

        @blp.response(204)
        def delete(self, order_id):
            """Delete an order (a tombstone that syncs to the other side)."""
            order = find_order(model, order_id, for_update=True)
            check_if_match(order)
            order.deleted = True
            commit()

        @staticmethod
        def change(order_id, data):
            order = find_order(model, order_id, for_update=True)
            check_if_match(order)
            copy_fields(order, data)
            commit()
            return order, {"ETag": etag(order)}

    add_conflicts_route(blp, model, find_order, single_statement)
    return blp
