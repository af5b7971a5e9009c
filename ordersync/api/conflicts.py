"""An order's conflicts: what the sink decided on this side when both sides edited a field."""

from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import func, select

from ordersync.api.paging import one_page
from ordersync.db.conflict_table import conflicts, newest_first
from ordersync.db.conflicts import RULES, WINNERS
from ordersync.sync.mapping import TABLES, columns
from ordersync.web.extensions import db

# reading what people lost in a conflict is for those who may edit (and so make it win)
NEEDED_ROLE = "editor"


def side_of(model) -> str:
    """The side whose order table a model maps."""
    return next(side for side, table in TABLES.items() if table == model.__tablename__)


class SourceSchema(Schema):
    """Where the incoming change was read in Kafka."""

    topic = fields.String(attribute="source_topic")
    partition = fields.Integer(attribute="source_partition")
    offset = fields.Integer(attribute="source_offset")


SOURCE = SourceSchema()


def conflict_schema(side: str) -> type[Schema]:
    """The schema of one side's conflicts: fields under that side's column names."""
    names = columns(side)

    class ConflictSchema(Schema):
        """One decision between two values of a field written concurrently on both sides."""

        id = fields.Integer()
        field = fields.Function(
            lambda row: names.get(row.field, row.field),
            metadata={"type": "string", "description": "The field, under this side's name"},
        )
        winner = fields.String(metadata={"enum": list(WINNERS)})
        rule = fields.String(metadata={"enum": list(RULES)})
        local_value = fields.Raw(
            allow_none=True, metadata={"description": "The value this side had"}
        )
        local_version = fields.Integer()
        incoming_value = fields.Raw(
            allow_none=True, metadata={"description": "The value the other side sent"}
        )
        incoming_version = fields.Integer()
        decided_at = fields.DateTime()
        source = fields.Function(
            lambda row: SOURCE.dump(row),
            metadata={"type": "object", "description": "Where the incoming change was in Kafka"},
        )

    ConflictSchema.__name__ = f"{side.capitalize()}ConflictSchema"
    return ConflictSchema


def add_conflicts_route(blp, model, find_order, single_statement) -> None:
    """Mount GET <order>/conflicts on an order blueprint: newest first, paginated like the list."""
    schema = conflict_schema(side_of(model))

    @blp.route("/<uuid:order_id>/conflicts")
    class OrderConflicts(MethodView):
        read_role = NEEDED_ROLE  # checked with the token, before any argument is read

        @blp.response(200, schema(many=True))
        @blp.paginate()
        def get(self, order_id, pagination_parameters):
            """List an order's conflicts decided on this side, newest first (editor and admin)."""
            single_statement()
            find_order(model, order_id)
            count = select(func.count()).where(conflicts.c.order_id == order_id)
            page = one_page(newest_first(order_id=order_id), count, pagination_parameters)
            return [] if page is None else db.session.execute(page).all()
