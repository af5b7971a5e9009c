"""The admin's conflicts: a list with filters (field, winner, time) and each order's section."""

import uuid
from datetime import UTC, datetime, time

from flask import current_app, flash, request
from flask_admin import BaseView, expose
from sqlalchemy import false, func, select

from ordersync.admin.dashboard import AdminsOnly
from ordersync.db.conflict_table import conflicts, newest_first
from ordersync.db.conflicts import WINNERS
from ordersync.sync.mapping import columns
from ordersync.web.extensions import db

PAGE_SIZE = 50


def day(text: str, end: bool = False) -> datetime | None:
    """A YYYY-MM-DD filter as the start (or the end) of that day in UTC; None if blank or bad."""
    try:
        date = datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(date, time.max if end else time.min, tzinfo=UTC)


def bad_days(args) -> list[str]:
    """The date filters given but not readable as a day."""
    given = [name for name in ("since", "until") if args.get(name, "").strip()]
    return [name for name in given if day(args[name]) is None]


def filtered(args, names: dict) -> tuple:
    """The list's query, its count, and what of the filters asked could not be read."""
    query, where, unread = newest_first(), [], []
    asked = args.get("field", "")
    field = {column: name for name, column in names.items()}.get(asked)
    if field:
        where.append(conflicts.c.field == field)
    elif asked:
        unread.append(f"field: no synced field is called {asked!r}")
    winner = args.get("winner", "")
    if winner in WINNERS:
        where.append(conflicts.c.winner == winner)
    elif winner:
        unread.append(f"winner: expected one of {', '.join(WINNERS)}")
    since, until = day(args.get("since", "")), day(args.get("until", ""), end=True)
    if since:
        where.append(conflicts.c.decided_at >= since)
    if until:
        where.append(conflicts.c.decided_at <= until)
    unread += [f"{name}: expected a date as YYYY-MM-DD" for name in bad_days(args)]
    order = args.get("order", "").strip()
    if order:
        try:
            where.append(conflicts.c.order_id == uuid.UUID(order))
        except ValueError:
            unread.append("order: expected an order id (a UUID)")
            where.append(false())
    count = select(func.count()).select_from(conflicts).where(*where)
    return query.where(*where), count, unread


class ConflictsView(AdminsOnly, BaseView):
    """Every conflict the sink decided on this side, newest first, with filters."""

    @expose("/")
    def index(self):
        """List the conflicts that match the filters, a page at a time."""
        names = columns(current_app.config["SIDE"])
        query, count, unread = filtered(request.args, names)
        for problem in unread:  # said, not silently dropped: the list would look unfiltered
            flash(f"Filter not applied: {problem}.", "error")
        page = max(request.args.get("page", 1, type=int), 1)
        total, first = db.session.scalar(count), (page - 1) * PAGE_SIZE
        # past the end, nothing to read: also keeps absurd page numbers out of OFFSET
        rows = []
        if first < total:
            rows = db.session.execute(query.limit(PAGE_SIZE).offset(first)).all()
        return self.render(
            "admin/conflicts.html",
            rows=rows,
            total=total,
            page=page,
            page_size=PAGE_SIZE,
            names=names,
            winners=WINNERS,
            args=request.args,
        )


def register_conflicts_page(admin) -> None:
    """Add the Conflicts page to the dashboard."""
    admin.add_view(ConflictsView(name="Conflicts", endpoint="conflicts", url="/admin/conflicts"))
