"""Signed-in sessions, recorded server-side: a browser's or an API token's. Only hashes are stored."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update

from hub.audit.service import execute_even_if_refused
from hub.auth.models import AuthSession, User
from hub.extensions import db

# Write last_seen_at at most this often: a request a second need not write a row a second.
TOUCH_INTERVAL = timedelta(seconds=30)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def idle_timeout() -> timedelta:
    return timedelta(minutes=current_app.config["HUB"].session_idle_minutes)


def absolute_timeout() -> timedelta:
    return timedelta(hours=current_app.config["HUB"].session_absolute_hours)


def start_session(user: User, kind: str, now: datetime, source_address: str | None) -> tuple[AuthSession, str]:
    """Open a session; returns it with its secret (the token or cookie value), never stored."""
    secret = secrets.token_urlsafe(32)
    session = AuthSession(user=user, kind=kind, secret_hash=_hash(secret), created_at=now,
                          last_seen_at=now, expires_at=now + absolute_timeout(),
                          source_address=source_address)
    db.session.add(session)
    db.session.flush()
    return session, secret


def resolve_session(kind: str, secret: str, now: datetime) -> AuthSession | None:
    """The open session for this secret, touched; None when unknown, ended or expired."""
    session = db.session.scalar(_SESSION_BY_SECRET, {"secret_hash": _hash(secret), "kind": kind})
    if session is None or not session.user.active:
        return None
    if not session.is_valid(now, idle_timeout()):
        if session.ended_at is None:
            # The request is refused (401) and its transaction rolls back: the mark must outlive that.
            execute_even_if_refused(
                update(AuthSession).where(AuthSession.id == session.id, AuthSession.ended_at.is_(None))
                .values(ended_at=now, ended_reason="expired").execution_options(synchronize_session=False))
        return None
    if now - session.last_seen_at >= TOUCH_INTERVAL:
        session.last_seen_at = now
    return session


# Built once (every request runs it): building the select anew cost more than running it.
_SESSION_BY_SECRET = select(AuthSession).where(AuthSession.secret_hash == bindparam("secret_hash"),
                                               AuthSession.kind == bindparam("kind"))


def end_session(session: AuthSession, now: datetime, reason: str = "logout") -> None:
    if session.ended_at is None:
        session.ended_at, session.ended_reason = now, reason


def end_all_sessions(user: User, now: datetime, reason: str) -> int:
    """End every open session of the user (password change, disabling); returns how many."""
    result = db.session.execute(
        update(AuthSession).where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason).execution_options(synchronize_session=False))
    return result.rowcount
