"""Who is asking: an API request by its bearer token, a browser by its server-side session."""
from __future__ import annotations

from flask import abort, g, redirect, request, session, url_for
from flask_babel import gettext as _

from hub.auth.sessions import resolve_session
from hub.clock import utcnow
from hub.errors import Unauthorized
from hub.extensions import login_manager

WEB_SESSION_KEY = "sid"


def is_api_request() -> bool:
    return request.path.startswith("/api/")


@login_manager.request_loader
def load_user_from_request(req):
    """API paths accept only `Authorization: Bearer`; web paths only the session cookie (so CSRF
    protection of forms is enough, and a stolen cookie cannot drive the API)."""
    if is_api_request():
        scheme, _sep, token = req.headers.get("Authorization", "").partition(" ")
        secret, kind = (token.strip(), "api") if scheme.lower() == "bearer" else (None, None)
    else:
        secret, kind = session.get(WEB_SESSION_KEY), "web"
    if not secret:
        return None
    auth_session = resolve_session(kind, secret, utcnow())
    if auth_session is None:
        return None
    g.auth_session = auth_session
    return auth_session.user


@login_manager.user_loader
def _no_user_id_sessions(_user_id):
    # Sessions are never identified by a user id in the cookie: only by a server-side session.
    return None


@login_manager.unauthorized_handler
def unauthorized():
    if is_api_request():
        raise Unauthorized(_("Sign in first: send Authorization: Bearer <token>."))
    if request.method != "GET":
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path if request.args else request.path))
