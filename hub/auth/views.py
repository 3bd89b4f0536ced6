"""Web sign-in (password, then TOTP; enrolment with a QR code the first time), sign-out, account."""
from __future__ import annotations

import segno
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from hub.api import paginate
from hub.audit.models import AuditAction
from hub.audit.service import record
from hub.auth import service
from hub.auth.loader import WEB_SESSION_KEY
from hub.auth.models import User
from hub.auth.permissions import Permission, require
from hub.auth.schemas import ActivationForm, CodeForm, PasswordChangeForm, PasswordStepForm, UserCreateForm
from hub.auth.sessions import end_session
from hub.clock import utcnow
from hub.errors import HubError, NotFound
from hub.extensions import db
from hub.forms import load_form, safe_next
from hub.labels import role_label
from hub.partners.models import Organisation
from hub.vocab import Role

bp = Blueprint("auth", __name__, template_folder="templates")

PENDING_SECONDS = 300  # between the password step and the code step


def _pending_user() -> User | None:
    user_id, since = session.get("pending_user_id"), session.get("pending_since", 0)
    if not user_id or utcnow().timestamp() - since > PENDING_SECONDS:
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


def _address() -> str:
    return request.remote_addr or "unknown"


def _finish_sign_in(user: User):
    next_url = session.get("pending_next")
    locale = session.get("locale")
    session.clear()  # no fixation: a fresh session after sign-in
    _auth_session, secret = service.open_session(user, "web", _address(), utcnow())
    session[WEB_SESSION_KEY] = secret
    if locale:
        session["locale"] = locale
    return safe_next(next_url, url_for("core.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    errors: dict = {}
    if request.method == "POST":
        data, errors = load_form(PasswordStepForm)
        if data:
            try:
                user = service.check_password(data["email"], data["password"], _address(), utcnow())
            except HubError as error:
                flash(error.message, "error")
                return render_template("auth/login.html", errors={}, email=data["email"]), error.status
            session["pending_user_id"], session["pending_since"] = user.id, utcnow().timestamp()
            session["pending_next"] = request.args.get("next")
            return redirect(url_for("auth.enrol" if not user.totp_enrolled else "auth.code"))
    return render_template("auth/login.html", errors=errors, email=request.form.get("email", "")), (
        422 if errors else 200)


@bp.route("/login/code", methods=["GET", "POST"])
def code():
    user = _pending_user()
    if user is None or not user.totp_enrolled:
        return redirect(url_for("auth.login"))
    errors: dict = {}
    if request.method == "POST":
        data, errors = load_form(CodeForm)
        if data:
            try:
                service.check_second_factor(user, data["code"], _address(), utcnow())
            except HubError as error:
                flash(error.message, "error")
                return render_template("auth/code.html", errors={}), error.status
            return redirect(_finish_sign_in(user))
    return render_template("auth/code.html", errors=errors), 422 if errors else 200


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol():
    """First sign-in: scan the QR code, confirm with a first code, keep the recovery codes. The
    secret lives in this browser's session until confirmed; only then is it stored."""
    user = _pending_user()
    if user is None or user.totp_enrolled:
        return redirect(url_for("auth.login"))
    secret, uri = service.begin_enrolment(user, session.get("enrol_secret"))
    session["enrol_secret"] = secret
    errors: dict = {}
    if request.method == "POST":
        data, errors = load_form(CodeForm)
        if data:
            try:
                recovery_codes = service.confirm_enrolment(user, secret, data["code"], _address(), utcnow())
            except HubError as error:
                flash(error.message, "error")
                return _enrol_page(secret, uri, {}), error.status
            next_url = _finish_sign_in(user)
            return render_template("auth/recovery_codes.html", codes=recovery_codes, next_url=next_url)
    return _enrol_page(secret, uri, errors), 422 if errors else 200


def _enrol_page(secret: str, uri: str, errors: dict):
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, dark="#1b1b1f")
    return render_template("auth/enrol.html", qr=qr, secret=secret, errors=errors)


@bp.route("/activate/<token>", methods=["GET", "POST"])
def activate(token: str):
    """The one-time link of an invitation: choose one's own password, then set up the app. A link that
    no longer works says so at once (404), not after the password was typed twice."""
    errors: dict = {}
    if request.method == "GET":
        service.invited_by_link(token, utcnow())
    else:
        data, errors = load_form(ActivationForm)
        if data and data["password"] != data["password_again"]:
            errors = {"password_again": [_("The two passwords differ.")]}
        elif data:
            try:
                user = service.activate(token, data["password"], utcnow())
            except HubError as error:
                if error.status == 404:
                    raise
                errors = error.fields
            else:
                session.clear()
                session["pending_user_id"], session["pending_since"] = user.id, utcnow().timestamp()
                return redirect(url_for("auth.enrol"))
    return render_template("auth/activate.html", errors=errors), 422 if errors else 200


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        end_session(g.auth_session, utcnow())
        record("auth:session:ended", AuditAction.DELETE, object_type="session", object_id=g.auth_session.id)
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    errors: dict = {}
    status = 200
    if request.method == "POST":
        data, errors = load_form(PasswordChangeForm)
        status = 422 if errors else 200
        if data:
            try:
                service.change_password(current_user, data["current_password"], data["new_password"], _address(),
                                        utcnow())
            except HubError as error:
                errors, status = error.fields or {"current_password": [error.message]}, error.status
            else:
                session.clear()
                flash(_("Your password is changed. Sign in again with the new password."), "info")
                return redirect(url_for("auth.login"))
    return render_template("auth/account.html", errors=errors), status


# --- admin: users ----------------------------------------------------------------------------

@bp.route("/admin/users", methods=["GET", "POST"])
@login_required
@require(Permission.USER_MANAGE)
def users():
    errors: dict = {}
    form = request.form
    if request.method == "POST":
        data, errors = load_form(UserCreateForm)
        if data:
            try:
                user, token = service.invite_user(current_user, email=data["email"], name=data["name"],
                                                  organisation_id=data["organisation_id"], role=data["role"],
                                                  now=utcnow())
            except HubError as error:
                errors = error.fields or {"email": [error.message]}
            else:
                flash(_("Account created for %(email)s. They get a one-time link by e-mail to choose their own "
                        "password and set up their authenticator app.", email=user.email), "info")
                if not current_app.config["HUB"].smtp_url and not current_app.config["HUB"].production:
                    flash(_("Development only (no e-mail set up): the link is %(link)s",
                            link=url_for("auth.activate", token=token, _external=True)), "info")
                return redirect(url_for("auth.users"))
    page = request.args.get("page", 1, type=int)
    query = select(User).order_by(User.email)
    listing = paginate(query, max(page, 1), 25, db.session)
    organisation_options = db.session.execute(
        select(Organisation.id, Organisation.name).order_by(Organisation.name)).all()
    role_options = [(role.value, role_label(role)) for role in Role]
    return render_template("auth/users.html", listing=listing, organisation_options=organisation_options,
                           role_options=role_options, errors=errors, form=form), 422 if errors else 200


@bp.post("/admin/users/<int:user_id>/active")
@login_required
@require(Permission.USER_MANAGE)
def set_active(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("There is no such user."))
    active = request.form.get("active") == "1"
    try:
        service.set_active(current_user, user, active, utcnow())
    except HubError as error:
        flash(error.message, "error")
    else:
        flash(_("%(email)s can sign in again.", email=user.email) if active
              else _("%(email)s is disabled; their sessions have ended.", email=user.email), "info")
    return redirect(url_for("auth.users", page=request.args.get("page", 1, type=int)))
