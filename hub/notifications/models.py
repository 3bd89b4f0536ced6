"""The outbox: every notification is visible in the user's inbox and, with SMTP set up, e-mailed."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.auth.models import User
from hub.clock import utcnow
from hub.db_types import EncryptedText, UTCDateTime
from hub.extensions import db


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    subject: Mapped[str] = mapped_column(String(200))  # no client data in subjects: they travel by e-mail
    body: Mapped[str] = mapped_column(EncryptedText("notifications.body"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # E-mail delivery: pending -> sent | failed (after MAX_ATTEMPTS) | skipped (no SMTP configured)
    email_status: Mapped[str] = mapped_column(String(10), default="pending")
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
    # for reminders and digests: at most one notification per key, however often a job runs
    # (uq_notifications_dedupe_key, which holds the keyed notifications only)
    dedupe_key: Mapped[str | None] = mapped_column(String(100))

    user: Mapped[User] = relationship()

    __table_args__ = (
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index("ix_notifications_email_due", "email_status", "claimed_until"),
        Index("uq_notifications_dedupe_key", "dedupe_key", unique=True,
              sqlite_where=sql_text("dedupe_key IS NOT NULL"), postgresql_where=sql_text("dedupe_key IS NOT NULL")),
    )
