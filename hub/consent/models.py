"""Consent records: who may see which part of a client's story, for what, until when.

Never deleted, never edited: the database refuses DELETE, and any UPDATE except the one-time
withdrawal (triggers in the migration). A change of mind is a new record.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.auth.models import User
from hub.clock import utcnow
from hub.db_types import EncryptedText, UTCDateTime
from hub.extensions import db
from hub.partners.models import Organisation
from hub.vocab import ConsentMethod, ConsentPurpose, enum_column

if TYPE_CHECKING:
    from hub.referrals.models import Client


class Consent(db.Model):
    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    recipient_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    purpose: Mapped[ConsentPurpose] = mapped_column(enum_column(ConsentPurpose, 20))
    method: Mapped[ConsentMethod] = mapped_column(enum_column(ConsentMethod, 10))
    statement: Mapped[str] = mapped_column(EncryptedText("consents.statement"))  # the exact text agreed to
    statement_hash: Mapped[str] = mapped_column(String(64))  # sha256 of that text
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_by_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawal_reason: Mapped[str | None] = mapped_column(EncryptedText("consents.withdrawal_reason"))

    recipient: Mapped[Organisation] = relationship(foreign_keys=[recipient_organisation_id])
    # by name: the client's model lives in hub.referrals, which builds on this package
    client: Mapped[Client] = relationship("Client")
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    scope_rows: Mapped[list[ConsentScope]] = relationship(order_by="ConsentScope.item", lazy="selectin")

    __table_args__ = (Index("ix_consents_lookup", "client_id", "recipient_organisation_id", "purpose"),)

    @property
    def scope(self) -> list[str]:
        return [row.item for row in self.scope_rows]

    def in_force(self, at: datetime) -> bool:
        return (self.valid_from <= at and (self.valid_until is None or at < self.valid_until)
                and (self.withdrawn_at is None or at < self.withdrawn_at))


class ConsentScope(db.Model):
    """One item a consent covers: `story`, `contact` or a life domain."""

    __tablename__ = "consent_scope"

    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id"), primary_key=True)
    item: Mapped[str] = mapped_column(String(20), primary_key=True)
