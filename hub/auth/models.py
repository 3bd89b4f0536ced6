"""Users, their sign-in sessions (web and API), recovery codes and sign-in attempts."""
from datetime import datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.clock import utcnow
from hub.crypto import RowBound, encrypted_field
from hub.db_types import UTCDateTime
from hub.extensions import db
from hub.partners.models import Organisation
from hub.vocab import Role


class User(RowBound, UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)  # binds the sealed TOTP secret to this row
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]))
    password_hash: Mapped[str] = mapped_column(String(200))
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    totp_secret_sealed: Mapped[str | None] = mapped_column("totp_secret", Text)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last TOTP time step accepted: a code is accepted once only (updated atomically).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    locale: Mapped[str | None] = mapped_column(String(5))
    # an invitation: the hash of a one-time link to set one's own password (accounts made on the web)
    activation_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    activation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    # Row-bound like client data: a secret copied into another user's row does not decrypt there.
    totp_secret = encrypted_field("totp_secret_sealed", "users.totp_secret")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def totp_enrolled(self) -> bool:
        return self.totp_enrolled_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class AuthSession(db.Model):
    """A signed-in session: a browser (`web`) or an API token (`api`). Only a hash is stored."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(3))  # "web" or "api"
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # absolute end
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(30))
    source_address: Mapped[str | None] = mapped_column(String(45))

    user: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (Index("ix_auth_sessions_user_open", "user_id", "ended_at"),)

    def idle_expires_at(self, idle: timedelta) -> datetime:
        return min(self.last_seen_at + idle, self.expires_at)

    def is_valid(self, now: datetime, idle: timedelta) -> bool:
        return self.ended_at is None and now < self.idle_expires_at(idle)


class RecoveryCode(db.Model):
    """A one-time code to sign in without the authenticator app. Only a hash is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(db.Model):
    """One sign-in attempt, counted for the failure limits shared by all web workers.

    The account is kept as a hash of the e-mail address given, so attempts on addresses that
    have no account are limited the same way without storing those addresses.
    """

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64))
    source_address: Mapped[str] = mapped_column(String(45))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(10), default="pending")  # pending, failed, succeeded

    __table_args__ = (
        Index("ix_login_attempts_account", "account_key", "attempted_at"),
        Index("ix_login_attempts_address", "source_address", "attempted_at"),
    )
