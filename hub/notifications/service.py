"""Notifications: `notify()` writes to the outbox in the caller's transaction; `deliver_outbox()`
sends what is due by e-mail.

Never twice: a notification is claimed (several schedulers skip each other's claims) and marked
`sending`, committed, before the SMTP server sees it. A crash after sending but before marking it
`sent` leaves it `sending`; when its claim runs out it becomes `uncertain` and is not sent again
(the web inbox shows it anyway). A failure to connect or a refusal by the server is retried with
backoff. Each e-mail carries a Message-ID derived from the notification, so that a receiving
server can recognise a copy too.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import lru_cache
from urllib.parse import unquote, urlparse

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import or_, select, text, update
from sqlalchemy.exc import IntegrityError

from hub.auth.models import User
from hub.connections import SqliteStatement
from hub.extensions import db
from hub.notifications.models import Notification

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
CLAIM_LEASE = timedelta(minutes=5)  # a claim by a crashed scheduler expires after this
BATCH = 50


def notify(user: User, subject, body, dedupe_key: str | None = None) -> Notification | None:
    """Queue a notification for `user`; it is e-mailed only if the caller's transaction commits.
    Pass lazy strings (`lazy_gettext`) and they are worded in the recipient's own language.
    With a `dedupe_key`, a second notification with the same key is not made (returns None), also
    when two schedulers race: the database's unique key decides."""
    with force_locale(user.locale or current_app.config["HUB"].default_locale):
        subject, body = str(subject), str(body)
    notification = Notification(user=user, subject=subject, body=body, dedupe_key=dedupe_key)
    if dedupe_key is None:
        db.session.add(notification)
        return notification
    if db.session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe_key)) is not None:
        return None
    try:
        with db.session.begin_nested():
            db.session.add(notification)
    except IntegrityError:
        return None
    return notification


def N_(message: str) -> str:  # noqa: N802 (pybabel's default keyword for a text marked, not translated)
    """Mark a plain text (no placeholders) for the catalogues, to be worded later per recipient (`worded`)."""
    return message


@lru_cache(maxsize=256)
def worded(message: str, locale: str) -> str:
    """A plain text marked with `N_`, in a language. The catalogues do not change while the hub runs, so
    each text is looked up once per language and process: a handoff words its notice in every language
    a coach may read, and `force_locale` cost more than writing the notification (bench/profile.py)."""
    with force_locale(locale):
        return gettext(message)


_SQLITE_INSERT = SqliteStatement.inserting(Notification.__table__)
_POSTGRESQL_INSERT = text(
    "INSERT INTO notifications (user_id, subject, body, created_at, email_status, email_attempts) "
    "SELECT u, s, b, :now, 'pending', 0 FROM unnest(CAST(:users AS integer[]), CAST(:subjects AS text[]), "
    "CAST(:bodies AS text[])) AS t(u, s, b)")


def write_notifications(now: datetime, rows: list[tuple[int, str, str]]) -> None:
    """`notify` for many at once, without an ORM object each: (user id, subject, body) rows, worded
    already (`worded`), in the caller's transaction. An escalation sweep after an outage may tell
    thousands at once, and a handoff tells each coach of the programme.

    PostgreSQL: one INSERT over arrays (an executemany would send a statement per row); SQLite, in
    process: one executemany on the driver's cursor (`SqliteStatement`). The body is sealed by its own
    column type, as the ORM would. (A handoff on PostgreSQL writes its notices inside its one
    statement instead: hub/referrals/handoff_writes.py.)"""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        _SQLITE_INSERT.executemany(connection, [{"user_id": user_id, "subject": subject, "body": body,
                                                 "created_at": now} for user_id, subject, body in rows])
        return
    seal = Notification.__table__.c.body.type.process_bind_param
    connection.execute(_POSTGRESQL_INSERT, {
        "now": now, "users": [user_id for user_id, _s, _b in rows], "subjects": [s for _u, s, _b in rows],
        "bodies": [seal(body, connection.dialect) for _u, _s, body in rows]})


def _claim(now: datetime) -> list[int]:
    """Claim up to BATCH due notifications for this process; committed before any e-mail is sent."""
    db.session.execute(update(Notification).where(Notification.email_status == "sending",
                                                  Notification.claimed_until < now)
                       .values(email_status="uncertain").execution_options(synchronize_session=False))
    due = (select(Notification.id)
           .where(Notification.email_status == "pending",
                  or_(Notification.claimed_until.is_(None), Notification.claimed_until < now))
           .order_by(Notification.id).limit(BATCH)
           .with_for_update(skip_locked=True))  # SQLite: its write lock, taken before the select (hub/connections.py)
    ids = list(db.session.scalars(due))
    if ids:
        db.session.execute(update(Notification).where(Notification.id.in_(ids))
                           .values(claimed_until=now + CLAIM_LEASE)
                           .execution_options(synchronize_session=False))
    db.session.commit()
    return ids


class SmtpSettings:
    """HUB_SMTP_URL: smtp://host:25, smtp+starttls://user:password@host:587 or smtps://...@host:465."""

    def __init__(self, url: str):
        parsed = urlparse(url)
        if parsed.scheme not in ("smtp", "smtp+starttls", "smtps") or not parsed.hostname:
            raise ValueError("HUB_SMTP_URL must look like smtp://host:25, smtp+starttls://user:pw@host:587 "
                             "or smtps://user:pw@host:465")
        self.scheme = parsed.scheme
        self.host = parsed.hostname
        self.port = parsed.port or {"smtp": 25, "smtp+starttls": 587, "smtps": 465}[parsed.scheme]
        self.username = unquote(parsed.username) if parsed.username else None
        self.password = unquote(parsed.password) if parsed.password else None

    def connect(self) -> smtplib.SMTP:
        tls = ssl.create_default_context()  # certificates and host names verified
        if self.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=20, context=tls)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=20)
            if self.scheme == "smtp+starttls":
                smtp.starttls(context=tls)
        if self.username:
            smtp.login(self.username, self.password or "")
        return smtp


def _message(notification: Notification, sender: str, base_url: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = notification.user.email
    message["Subject"] = notification.subject
    stamp = int(notification.created_at.timestamp())
    message["Message-ID"] = f"<notification-{notification.id}-{stamp}@{urlparse(base_url).hostname or 'hub'}>"
    message.set_content(f"{notification.body}\n\n{base_url}/inbox\n")
    return message


def deliver_outbox(now: datetime) -> int:
    """Send every due notification by e-mail; returns how many were sent."""
    cfg = current_app.config["HUB"]
    ids = _claim(now)
    if not ids:
        return 0
    notifications = db.session.scalars(select(Notification).where(Notification.id.in_(ids))).all()
    if not cfg.smtp_url:
        for notification in notifications:
            notification.email_status, notification.claimed_until = "skipped", None
        db.session.commit()
        return 0
    sent = 0
    try:
        smtp = SmtpSettings(cfg.smtp_url).connect()
    except (OSError, smtplib.SMTPException) as error:
        log.warning("SMTP server not reachable: %s", type(error).__name__)
        for notification in notifications:
            _failed(notification, f"connect: {type(error).__name__}", now)
        db.session.commit()
        return 0
    with smtp:
        for notification in notifications:
            notification.email_status = "sending"
            db.session.commit()  # from here on, a crash means "maybe sent": never sent again
            try:
                smtp.send_message(_message(notification, cfg.mail_from, cfg.base_url))
            except smtplib.SMTPException as error:
                _failed(notification, type(error).__name__, now)
            else:
                notification.email_status, notification.sent_at = "sent", now
                notification.claimed_until = None
                sent += 1
            db.session.commit()  # one by one: a crash later does not resend what went out
    return sent


def _failed(notification: Notification, reason: str, now: datetime) -> None:
    """Nothing was delivered: try again later, waiting longer each time (2, 4, 8, 16 minutes)."""
    notification.email_attempts += 1
    notification.last_error = reason[:200]
    notification.email_status = "failed" if notification.email_attempts >= MAX_ATTEMPTS else "pending"
    notification.claimed_until = now + timedelta(minutes=2 ** notification.email_attempts)
