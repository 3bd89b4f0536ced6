"""The start page and the language switch."""
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from hub import LOCALES
from hub.forms import safe_next

bp = Blueprint("core", __name__)


@bp.get("/")
@login_required
def dashboard():
    return render_template("dashboard.html")


@bp.post("/language")
def language():
    """Switch the interface language (kept on the account when signed in)."""
    locale = request.form.get("locale")
    if locale in LOCALES:
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
    return redirect(safe_next(request.form.get("next"), url_for("core.dashboard")))


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico wherever a page names no icon (a JSON answer, a PDF): the SVG."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.get("/healthz")
def health():
    """For load balancers: answers without touching client data."""
    return {"status": "ok"}
