"""The programme's target (participants expected per year) and the indexes the reports read by."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, SmallInteger, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.clock import utcnow
from hub.db_types import UTCDateTime
from hub.extensions import db
from hub.referrals.models import Trajectory
from hub.referrals.service_referral_models import Escalation, ServiceReferral


class ProgrammeTarget(db.Model):
    """How many participants an exit programme expects in one calendar year (the uniform
    registration's "participants expected"). One per programme and year; setting it again replaces it."""

    __tablename__ = "programme_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    expected: Mapped[int] = mapped_column(Integer)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("organisation_id", "year", name="uq_programme_targets_programme_year"),
        CheckConstraint("expected >= 0 AND expected <= 100000", name="expected_range"),
        CheckConstraint("year >= 2000 AND year <= 2100", name="year_range"),
    )


# The reports' own indexes on the tables they read (declared here, where the queries are).
# Waiting times and bottlenecks: a partner's (director) or a programme's (coach) referrals by request time.
Index("ix_service_referrals_partner_requested", ServiceReferral.organisation_id, ServiceReferral.requested_at)
Index("ix_service_referrals_programme_requested", ServiceReferral.programme_id, ServiceReferral.requested_at)
# Bottlenecks: escalations raised in the period.
Index("ix_escalations_raised_at", Escalation.raised_at, Escalation.service_referral_id)
# Registration: a programme's trajectories by the day they opened and the day they closed.
Index("ix_trajectories_programme_opened", Trajectory.programme_id, Trajectory.opened_on, Trajectory.closed_on)
Index("ix_trajectories_programme_closed", Trajectory.programme_id, Trajectory.closed_on)
