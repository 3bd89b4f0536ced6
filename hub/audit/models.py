"""The access log (NEN 7513): who did what to which object, on what ground, from where.

Append-only: the database itself refuses UPDATE and DELETE (triggers in the migration). There
are no foreign keys to the rest of the hub, so the log outlives the users, organisations and
clients it names.

A list read (an inbox, a queue, an overview) is one event (action `search`: who, the filter and the
page in `detail`) with a subject row per record the page returned, written in bulk, so that the
read log of each client shown can find it (`events_about`).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, Integer, String, select, union
from sqlalchemy.orm import Mapped, mapped_column

from hub.clock import utcnow
from hub.db_types import UTCDateTime
from hub.extensions import db


class AuditAction(StrEnum):
    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    DELETE = "delete"
    EXPORT = "export"
    SEARCH = "search"


class AuditResult(StrEnum):
    SUCCESS = "success"
    REFUSED = "refused"
    ERROR = "error"


def _enum(cls, length):
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    tag: Mapped[str] = mapped_column(String(80))  # source:subject:action, e.g. auth:session:created
    action: Mapped[AuditAction] = mapped_column(_enum(AuditAction, 10))
    result: Mapped[AuditResult] = mapped_column(_enum(AuditResult, 10))
    user_id: Mapped[int | None] = mapped_column(Integer)
    user_role: Mapped[str | None] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    client_id: Mapped[int | None] = mapped_column(Integer)
    ground: Mapped[str | None] = mapped_column(String(80))  # "consent:<id>" or "role:<role>"
    source_address: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[str | None] = mapped_column(String(200))  # never client data

    __table_args__ = (
        Index("ix_audit_events_occurred_at", "occurred_at"),
        Index("ix_audit_events_client", "client_id", "occurred_at"),
        Index("ix_audit_events_user", "user_id", "occurred_at"),
    )


class AuditEventSubject(db.Model):
    """One record a list read returned: which object, and whose client it is."""

    __tablename__ = "audit_event_subjects"

    event_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                          ForeignKey("audit_events.id"), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_audit_event_subjects_client", "client_id", "event_id"),)


def events_about(client_id: int):
    """The ids of the audit events about the client: named on the event, or listed in a list read
    (two index scans, so a client's read log stays cheap however large the trail grows)."""
    return union(select(AuditEvent.id).where(AuditEvent.client_id == client_id),
                 select(AuditEventSubject.event_id).where(AuditEventSubject.client_id == client_id))
