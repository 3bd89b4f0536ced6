"""Service referrals (coach -> partner, one life domain), their status events and message threads.

The status workflow follows FHIR's referral Task; who may set which status is in
`hub/referrals/workflow.py`.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.clock import utcnow
from hub.crypto import RowBound, encrypted_field
from hub.db_types import UTCDateTime
from hub.extensions import db
from hub.partners.models import Organisation
from hub.referrals.models import Client
from hub.vocab import LifeDomain, enum_column


class Status(StrEnum):
    REQUESTED = "requested"
    RECEIVED = "received"
    WAITLISTED = "waitlisted"
    INTAKE_SCHEDULED = "intake_scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    ON_HOLD = "on_hold"


class HoldReason(StrEnum):
    """Whose turn it is while a referral is on hold."""

    CLIENT = "client"
    PARTNER = "partner"
    MUNICIPALITY_DECISION = "municipality_decision"
    CONSENT = "consent"


class RejectReason(StrEnum):
    NO_CAPACITY = "no_capacity"
    NOT_ELIGIBLE = "not_eligible"
    CLIENT_DID_NOT_COME = "client_did_not_come"
    OTHER = "other"


class ServiceReferral(RowBound, db.Model):
    __tablename__ = "service_referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))  # the referring programme
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))  # the partner
    domain: Mapped[LifeDomain] = mapped_column(enum_column(LifeDomain, 20))
    # the consent it was sent under, and by whom: NULL only for imported history (`hub import`)
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consents.id"))
    note_sealed: Mapped[str | None] = mapped_column("note", Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[Status] = mapped_column(enum_column(Status, 20), default=Status.REQUESTED)
    status_since: Mapped[datetime] = mapped_column(UTCDateTime)  # occurred_at of the current status
    held_from: Mapped[Status | None] = mapped_column(enum_column(Status, 20))  # status to return to
    hold_reason: Mapped[HoldReason | None] = mapped_column(enum_column(HoldReason, 25))
    reject_reason: Mapped[RejectReason | None] = mapped_column(enum_column(RejectReason, 25))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first in_progress: waiting ends
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)  # e.g. eviction or a cut-off threatens
    version: Mapped[int] = mapped_column(Integer, default=1)

    client: Mapped[Client] = relationship()
    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id], lazy="joined")
    events: Mapped[list[ServiceReferralEvent]] = relationship(
        back_populates="referral", order_by="(ServiceReferralEvent.occurred_at, ServiceReferralEvent.id)")
    # the escalation clock while the referral is open (joined: a list's late markers read it)
    clock: Mapped[SlaClock | None] = relationship(back_populates="referral", lazy="joined",
                                                  cascade="all, delete-orphan")

    note = encrypted_field("note_sealed", "service_referrals.note")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_service_referrals_partner_inbox", "organisation_id", "status", "requested_at"),
        Index("ix_service_referrals_client", "client_id", "status"),
        Index("ix_service_referrals_programme", "programme_id", "status", "requested_at"),
        Index("ix_service_referrals_status_since", "status", "status_since"),
        # a live referral has its consent and requester; only imported history may lack them
        CheckConstraint("(consent_id IS NOT NULL AND requested_by_id IS NOT NULL) OR imported_at IS NOT NULL",
                        name="live_or_imported"),
        # the import's natural key (programme + client reference + partner + domain + requested_on)
        Index("uq_service_referrals_imported", "client_id", "organisation_id", "domain", "requested_at", unique=True,
              sqlite_where=text("imported_at IS NOT NULL"), postgresql_where=text("imported_at IS NOT NULL")),
    )

    @property
    def is_open(self) -> bool:
        return self.status not in (Status.COMPLETED, Status.REJECTED, Status.CANCELLED)


# What the escalation sweep reads of a clock besides its status and start (see the indexes below).
SWEEP_READS = ("organisation_id", "domain", "urgent", "episode", "client_id")


class SlaClock(db.Model):
    """The escalation clock of an open referral: which status's norm runs (None: paused on the
    client's side), since when (moved forward by client-side pauses), and which stalled episode this
    is. A row from the request until the referral closes; imported history has none.

    Its own narrow table of the open referrals, not columns of the referral: the sweep locks the
    clocks it escalates (FOR UPDATE SKIP LOCKED), and after a checkpoint PostgreSQL logs the whole page
    of each row it first locks. 10,000 stalled referrals lie on ~8,000 of the referrals' pages (64 MB
    of WAL, half the sweep's time) but on the ~2,000 pages of all open clocks (bench/run.py)."""

    __tablename__ = "sla_clocks"

    service_referral_id: Mapped[int] = mapped_column(ForeignKey("service_referrals.id"), primary_key=True)
    status: Mapped[Status | None] = mapped_column(enum_column(Status, 20))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    episode: Mapped[int] = mapped_column(Integer, default=1)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The referral's partner, client, domain and urgency, which never change: copied so that the
    # sweep reads its indexes alone.
    organisation_id: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[int] = mapped_column(Integer)
    domain: Mapped[LifeDomain] = mapped_column(enum_column(LifeDomain, 20))
    urgent: Mapped[bool] = mapped_column(Boolean)

    referral: Mapped[ServiceReferral] = relationship(back_populates="clock")

    __table_args__ = (
        # The escalation sweep: general rules by (status, clock), rules for some partner kinds or one
        # municipality (the chain director's norms) by (status, partner, clock). Both carry what the
        # sweep reads and writes (covering indexes).
        Index("ix_sla_clocks_status_since", "status", "since", *SWEEP_READS),
        Index("ix_sla_clocks_partner", "status", "organisation_id", "since", *SWEEP_READS[1:]),
        # One open referral of a client to a partner for a life domain: a clock runs from the request
        # until the referral closes, so two coaches referring the same client at the same moment
        # cannot both succeed (`refer` answers the second 409 duplicate_referral).
        Index("uq_sla_clocks_open_referral", "client_id", "organisation_id", "domain", unique=True),
    )

    @classmethod
    def started(cls, referral: ServiceReferral, status: Status, since: datetime) -> SlaClock:
        return cls(referral=referral, status=status, since=since, episode=1, organisation_id=referral.organisation_id,
                   client_id=referral.client_id, domain=referral.domain, urgent=bool(referral.urgent))


class ServiceReferralEvent(RowBound, db.Model):
    """One change of status: when it happened (`occurred_at`, may be in the past) and when it was
    recorded, by whom, why."""

    __tablename__ = "service_referral_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    service_referral_id: Mapped[int] = mapped_column(ForeignKey("service_referrals.id"))
    from_status: Mapped[Status | None] = mapped_column(enum_column(Status, 20))
    to_status: Mapped[Status] = mapped_column(enum_column(Status, 20))
    reason: Mapped[str | None] = mapped_column(String(25))  # a HoldReason or RejectReason
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the hub itself
    recorded_by_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    note_sealed: Mapped[str | None] = mapped_column("note", Text)

    referral: Mapped[ServiceReferral] = relationship(back_populates="events")
    note = encrypted_field("note_sealed", "service_referral_events.note")

    __table_args__ = (Index("ix_service_referral_events_referral", "service_referral_id", "occurred_at"),)


class Message(RowBound, db.Model):
    """A message in the thread of one service referral, between the coach's programme and the partner."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    service_referral_id: Mapped[int] = mapped_column(ForeignKey("service_referrals.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    body_sealed: Mapped[str] = mapped_column("body", Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by the other side

    body = encrypted_field("body_sealed", "messages.body")

    __table_args__ = (Index("ix_messages_thread", "service_referral_id", "sent_at"),)


class EscalationState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Escalation(db.Model):
    """A stalled referral, raised by the sweep; one per referral, stalled episode and level,
    guaranteed by the database."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The referral, without a foreign key: the sweep inserts an escalation only for a referral it
    # holds locked (FOR UPDATE) in the same statement, so the referral exists; on PostgreSQL the key
    # would check that again with a query per inserted row (60 ms of the sweep over 10,000 stalled
    # referrals, bench/run.py). What the key also did, refuse deleting a referral that has
    # escalations, a trigger does (migration 9a4c2e6b8d10); referrals are never deleted.
    service_referral_id: Mapped[int] = mapped_column(Integer)
    # The referral's client and partner, which never change: copied so that telling people of many
    # escalations reads only this table (bench/run.py: the sweep over 1,000,000 referrals).
    client_id: Mapped[int] = mapped_column(Integer)
    organisation_id: Mapped[int] = mapped_column(Integer)
    episode: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)  # 1 partner's contact, 2 partner's lead, 3 chain director
    status: Mapped[Status] = mapped_column(enum_column(Status, 20))  # the status that stalled
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[EscalationState] = mapped_column(enum_column(EscalationState, 10), default=EscalationState.OPEN)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    referral: Mapped[ServiceReferral] = relationship(
        primaryjoin="foreign(Escalation.service_referral_id) == ServiceReferral.id")

    __table_args__ = (
        UniqueConstraint("service_referral_id", "episode", "level", name="uq_escalations_once"),
        Index("ix_escalations_ladder", "state", "level", "raised_at"),
    )

    @property
    def resolution_hours(self) -> float | None:
        if self.resolved_at is None:
            return None
        return round((self.resolved_at - self.raised_at).total_seconds() / 3600, 1)


class SlaOverride(db.Model):
    """A chain director's norm for partners in one municipality, overriding config/sla.toml."""

    __tablename__ = "sla_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality: Mapped[str] = mapped_column(String(100))
    status: Mapped[Status] = mapped_column(enum_column(Status, 20))
    kind: Mapped[str | None] = mapped_column(String(40))  # a partner kind, or every kind
    domain: Mapped[LifeDomain | None] = mapped_column(enum_column(LifeDomain, 20))
    urgent: Mapped[bool | None] = mapped_column(Boolean)
    working_days: Mapped[int] = mapped_column(Integer)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_sla_overrides_municipality", "municipality"),)
