"""`/api/v1/auth/*`: sign in with password and TOTP for a bearer token; sign out."""
from flask import g, request
from flask_login import current_user

from hub.api import api_blueprint
from hub.audit.models import AuditAction
from hub.audit.service import record
from hub.auth.permissions import signed_in
from hub.auth.schemas import LoginSchema, MeSchema, TokenSchema
from hub.auth.service import sign_in_api
from hub.auth.sessions import end_session, idle_timeout
from hub.clock import utcnow

blp = api_blueprint("auth_api", __name__, "Sign-in with password and TOTP; bearer tokens.")


@blp.post("/auth/login")
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, description="Wrong e-mail, password or code (one answer for all three)")
@blp.alt_response(403, description="The account has not enrolled its authenticator app yet")
@blp.alt_response(429, description="Too many failed attempts for this account or address")
def login(credentials):
    """Exchange e-mail, password and a TOTP code for a bearer token."""
    now = utcnow()
    session, token = sign_in_api(credentials["email"], credentials["password"], credentials["otp"],
                                 request.remote_addr or "unknown", now)
    return {"token": token, "expires_at": session.idle_expires_at(idle_timeout()),
            "absolute_expires_at": session.expires_at}


@blp.post("/auth/logout")
@blp.response(204)
@blp.alt_response(401, description="No valid token")
@signed_in(blp)
def logout():
    """End this token at once."""
    end_session(g.auth_session, utcnow())
    record("auth:session:ended", AuditAction.DELETE, object_type="session", object_id=g.auth_session.id)
    return None


@blp.get("/auth/me")
@blp.response(200, MeSchema)
@blp.alt_response(401, description="No valid token")
@signed_in(blp)
def me():
    """Who this token belongs to."""
    return current_user
