"""The admin dashboard at /admin/: a session login for admin users and an order list/editor."""

import uuid

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import SecureForm
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf, validate_csrf
from marshmallow import ValidationError as SchemaError
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, ValidationError
from wtforms.validators import ValidationError as FormError

from ordersync.auth.accounts import find_account
from ordersync.auth.tokens import login_throttle
from ordersync.auth.users import authenticate
from ordersync.db.conflict_table import newest_first
from ordersync.sync.mapping import LOCAL_FIELDS, STATUSES, columns
from ordersync.web.extensions import db

API_PREFIX = "/api/"
SESSION_KEY = "admin_user"
STAMP_KEY = "admin_stamp"
STALE_EDIT = (
    "Not saved: this order was changed since you opened it (version {seen} then, {now} now). "
    "Reload the page to see the current values, then make your change again."
)


# an order's page shows its latest conflicts; the Conflicts page has them all
ON_ORDER_PAGE = 20


def order_conflicts(order_id) -> list:
    """An order's latest conflicts, newest first."""
    return db.session.execute(newest_first(order_id=order_id).limit(ON_ORDER_PAGE)).all()


class AdminSessions(SecureCookieSessionInterface):
    """Cookie sessions for the admin's browser pages; the API's bearer-token requests skip them.

    Opening a signed cookie session builds its serializer on every request, ~2 % of an API call.
    """

    def open_session(self, app, request):
        """No session under /api/: nothing there reads or writes one."""
        if request.path.startswith(API_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)


class LoginForm(FlaskForm):
    """Username and password, with a CSRF token."""

    username = StringField("Username", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])

    def __init__(self):
        # the posted form only: Flask-WTF would also read a JSON body, and fail on a JSON list
        super().__init__(formdata=request.form or None)


def signed_in_admin():
    """Return the admin user of this session, if still an active admin."""
    user = find_account(session.get(SESSION_KEY, ""))
    if user is None or not user.accepts(session.get(STAMP_KEY)):
        return None  # a password, role or active change since sign-in ends the session
    return user if user.can("admin") else None


class AdminsOnly:
    """A dashboard view only a signed-in admin sees; strangers are sent to the login page."""

    def is_accessible(self):
        """Only a signed-in admin."""
        return signed_in_admin() is not None

    def inaccessible_callback(self, name, **kwargs):
        """Send strangers to the login page."""
        return redirect(url_for("admin.login", next=request.url))


def failed_sign_in(response) -> bool:
    """Count refused sign-ins against the throttle."""
    return response.status_code in (401, 403)


class AdminHome(AdminIndexView):
    """The dashboard's home, login and logout."""

    def is_visible(self):
        """Keep the home link out of the menu."""
        return False

    @expose("/")
    def index(self):
        """Go to the order list, or to the login page."""
        if signed_in_admin() is None:
            return redirect(url_for(".login"))
        return redirect(url_for("orders.index_view"))

    @expose("/login", methods=("GET", "POST"))
    @login_throttle(failed_sign_in)
    def login(self):
        """Sign an admin in; refuse anyone else."""
        form = LoginForm()
        if not form.validate_on_submit():
            status = 400 if request.method == "POST" else 200
            return self.render("admin/login.html", form=form), status
        user = authenticate(form.username.data, form.password.data)
        if user is None or not user.can("admin"):
            message = (
                "Only admin users may sign in here." if user else "Invalid username or password."
            )
            flash(message, "error")
            return self.render("admin/login.html", form=form), 403 if user else 401
        session.clear()  # a fresh session (and CSRF secret) for the signed-in admin
        g.pop("csrf_token", None)
        session[SESSION_KEY] = user.username
        session[STAMP_KEY] = str(user.security_stamp)
        session.permanent = True
        return redirect(url_for(".index"))

    @expose("/logout", methods=("POST",))
    def logout(self):
        """Forget the session (a POST with the CSRF token, so no link can sign anyone out)."""
        try:
            validate_csrf(request.form.get("csrf_token", ""))
        except ValidationError:
            return self.render("admin/login.html", form=LoginForm()), 400
        session.clear()
        return redirect(url_for(".login"))


class OrderAdmin(AdminsOnly, ModelView):
    """Live orders of this side: search, filter by status, create, edit, delete."""

    form_base_class = SecureForm
    can_view_details = True
    page_size = 50
    column_default_sort = ("created_at", True)
    column_filters = ["status"]
    form_choices = {"status": [(s, s) for s in STATUSES]}
    edit_template = "admin/order_edit.html"
    details_template = "admin/order_details.html"
    # the row version the edit form was opened at, so a save over a newer write is refused
    form_extra_fields = {"seen_version": HiddenField()}

    def __init__(self, model, schema, side: str):
        cols = columns(side)
        self.schema = schema
        self.column_list = [
            "order_number",
            cols["customer_name"],
            "status",
            "tracking_number",
            "sync_origin",
            "version",
            "updated_at",
        ]
        self.column_searchable_list = ["order_number", cols["customer_name"], "shipping_address"]
        self.edited = [c for c in cols.values() if c != "deleted"] + list(LOCAL_FIELDS[side])
        self.form_columns = [*self.edited, "seen_version"]
        self.column_labels = {"sync_origin": "Author side"}
        super().__init__(model, db, name="Orders", endpoint="orders")

    def get_query(self):
        """Hide tombstones, as the API does."""
        return super().get_query().filter(self.model.is_live())

    def get_one(self, id):
        """Open live orders only: a tombstone or a malformed id is a 404, as in the API."""
        try:
            order_id = uuid.UUID(str(id))
        except ValueError:
            abort(404)
        order = self.get_query().filter(self.model.id == order_id).one_or_none()
        if order is None:
            abort(404)
        return order

    def get_count_query(self):
        """Count live orders only."""
        return super().get_count_query().filter(self.model.is_live())

    def on_model_change(self, form, model, is_created):
        """Hold admin edits to the API's validation rules."""
        payload = {name: getattr(model, name) for name in self.edited}
        if payload.get("total_amount") is not None:
            payload["total_amount"] = str(payload["total_amount"])
        try:
            self.schema().load(payload)
        except SchemaError as error:
            raise FormError("; ".join(f"{k}: {v}" for k, v in error.messages.items())) from error

    def edit_form(self, obj=None):
        """The edit form, remembering the version it shows when it is opened."""
        form = super().edit_form(obj)
        if request.method == "GET" and obj is not None:
            form.seen_version.data = str(obj.version)
        return form

    def update_model(self, form, model):
        """Save an edit only if nobody wrote the order since the form was opened."""
        db.session.refresh(model, with_for_update=True)  # locked until the save commits
        if form.seen_version.data != str(model.version):
            flash(STALE_EDIT.format(seen=form.seen_version.data or "?", now=model.version), "error")
            db.session.rollback()
            return False
        return super().update_model(form, model)

    def render(self, template, **kwargs):
        """Render; an order's pages (details, edit) also show its latest conflicts."""
        order_page = template in (self.details_template, self.edit_template)
        if order_page and kwargs.get("model") is not None:
            kwargs["order_conflicts"] = order_conflicts(kwargs["model"].id)
            kwargs["names"] = columns(current_app.config["SIDE"])
        return super().render(template, **kwargs)

    def delete_model(self, model):
        """Delete as the API does: a tombstone that syncs."""
        model.deleted = True
        db.session.commit()
        self.after_model_delete(model)
        return True


def register_admin(app, model, schema) -> Admin:
    """Mount the dashboard on the app."""
    from flask import Blueprint

    app.register_blueprint(Blueprint("ordersync_templates", __name__, template_folder="templates"))
    app.session_interface = AdminSessions()
    app.jinja_env.globals["signout_csrf_token"] = generate_csrf
    admin = Admin(
        app,
        name=f"{app.config['SIDE'].capitalize()} admin",
        index_view=AdminHome(url="/admin", endpoint="admin"),
    )
    admin.add_view(OrderAdmin(model, schema, app.config["SIDE"]))
    return admin
