"""Column types shared by every capability: UTC timestamps and encrypted text."""
from datetime import UTC, datetime

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import DateTime, Text
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC and always returns them aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the hub stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EncryptedText(TypeDecorator):
    """Text encrypted at rest with the hub's field keys (Fernet: AES-128-CBC + HMAC-SHA256).

    The newest key in HUB_FIELD_KEYS encrypts; every listed key decrypts, so keys can rotate.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect):
        if value is None:
            return None
        return current_app.extensions["hub.cipher"].encrypt(value.encode()).decode("ascii")

    def process_result_value(self, value: str | None, dialect):
        if value is None:
            return None
        try:
            return current_app.extensions["hub.cipher"].decrypt(value.encode("ascii")).decode()
        except InvalidToken as exc:
            raise RuntimeError("a field could not be decrypted: is HUB_FIELD_KEYS missing a key?") from exc
