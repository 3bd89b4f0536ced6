"""An erasure request: recorded by the coach for the client, carried out at once, or held while a
legal hold applies (and carried out as soon as the hold is lifted)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.crypto import RowBound, encrypted_field
from hub.db_types import UTCDateTime
from hub.extensions import db
from hub.referrals.models import ExitDestination, TrajectoryOutcome
from hub.vocab import enum_column


class ErasureStatus(StrEnum):
    CARRIED_OUT = "carried_out"
    HELD = "held"  # a legal hold applies: carried out when it is lifted


class ErasureRequest(RowBound, db.Model):
    __tablename__ = "erasure_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_by_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    reason_sealed: Mapped[str] = mapped_column("reason", Text)
    status: Mapped[ErasureStatus] = mapped_column(enum_column(ErasureStatus, 12))
    legal_hold_reason_sealed: Mapped[str | None] = mapped_column("legal_hold_reason", Text)  # why it was held
    carried_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How the client's open trajectory ended, as the coach said with the request: a request held by a
    # legal hold closes it with these when the hold is lifted (the handoff consent may be gone by then).
    close_outcome: Mapped[TrajectoryOutcome | None] = mapped_column(enum_column(TrajectoryOutcome, 15))
    close_destination: Mapped[ExitDestination | None] = mapped_column(enum_column(ExitDestination, 20))
    close_on: Mapped[date | None] = mapped_column(Date)

    reason = encrypted_field("reason_sealed", "erasure_requests.reason")
    legal_hold_reason = encrypted_field("legal_hold_reason_sealed", "erasure_requests.legal_hold_reason")

    __table_args__ = (Index("ix_erasure_requests_client", "client_id", "requested_at"),
                      Index("ix_erasure_requests_status", "status"))
