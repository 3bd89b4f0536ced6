"""Clients, their story (told once), and the warm handoff to an exit programme."""
from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.clock import utcnow
from hub.crypto import RowBound, encrypted_field
from hub.db_types import UTCDateTime
from hub.extensions import db
from hub.partners.models import Organisation
from hub.vocab import Gender, LegalStatus, LifeDomain, Urgency, enum_column


class Client(RowBound, db.Model):
    """A person in (or on the way to) an exit programme. No legal name: an alias is enough."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    alias_sealed: Mapped[str] = mapped_column("alias", Text)
    gender: Mapped[Gender] = mapped_column(enum_column(Gender, 12))
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    municipality_of_residence: Mapped[str | None] = mapped_column(String(100))
    municipality_of_work: Mapped[str | None] = mapped_column(String(100))
    legal_status: Mapped[LegalStatus] = mapped_column(enum_column(LegalStatus, 20))
    target_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    safe_contact_sealed: Mapped[str | None] = mapped_column("safe_contact", Text)
    story_summary_sealed: Mapped[str | None] = mapped_column("story_summary", Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    programme: Mapped[Organisation] = relationship()
    story_domains: Mapped[list[StoryDomain]] = relationship(
        back_populates="client", order_by="StoryDomain.domain", cascade="all, delete-orphan")

    alias = encrypted_field("alias_sealed", "clients.alias")
    story_summary = encrypted_field("story_summary_sealed", "clients.story_summary")
    _safe_contact_json = encrypted_field("safe_contact_sealed", "clients.safe_contact")

    @property
    def safe_contact(self) -> dict:
        """How to reach the client safely: channel, times, never_call, code_word, no_letters_home."""
        raw = self._safe_contact_json
        return json.loads(raw) if raw else {}

    @safe_contact.setter
    def safe_contact(self, value: dict) -> None:
        self._safe_contact_json = json.dumps(value, ensure_ascii=False) if value else None


class StoryDomain(RowBound, db.Model):
    """The client's situation in one life domain: score now and wish (1-10), and notes."""

    __tablename__ = "story_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    domain: Mapped[LifeDomain] = mapped_column(enum_column(LifeDomain, 20))
    score: Mapped[int | None] = mapped_column(SmallInteger)
    wish: Mapped[int | None] = mapped_column(SmallInteger)
    notes_sealed: Mapped[str | None] = mapped_column("notes", Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship(back_populates="story_domains")
    notes = encrypted_field("notes_sealed", "story_domains.notes")

    __table_args__ = (UniqueConstraint("client_id", "domain", name="uq_story_domains_client_domain"),)


class HandoffStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    FIRST_CONTACT = "first_contact"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Handoff(RowBound, db.Model):
    """A referrer hands a client over to an exit programme, once, with the client's consent."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    from_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    from_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    to_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id"))
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency, 10))
    safety_concerns_sealed: Mapped[str | None] = mapped_column("safety_concerns", Text)
    status: Mapped[HandoffStatus] = mapped_column(enum_column(HandoffStatus, 15), default=HandoffStatus.SUBMITTED)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    coach_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    backup_coach_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    first_contact_on: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)

    client: Mapped[Client] = relationship()
    from_organisation: Mapped[Organisation] = relationship(foreign_keys=[from_organisation_id])
    to_organisation: Mapped[Organisation] = relationship(foreign_keys=[to_organisation_id])

    safety_concerns = encrypted_field("safety_concerns_sealed", "handoffs.safety_concerns")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # the intake queue: a programme's open handoffs, most urgent and oldest first
        Index("ix_handoffs_queue", "to_organisation_id", "status", "submitted_at"),
        Index("ix_handoffs_from", "from_organisation_id", "submitted_at"),
    )
