"""The programme's target (participants expected per year), the waiting day counts, and the indexes
the reports read by."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.clock import utcnow
from hub.db_types import UTCDateTime
from hub.extensions import db
from hub.referrals.models import Goal, Trajectory
from hub.referrals.service_referral_models import Escalation, ServiceReferral
from hub.vocab import LifeDomain, enum_column


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


class WaitingDayCount(db.Model):
    """How many service referrals of one programme to one partner, in one life domain, were requested
    on one Dutch day and waited `wait_days` whole days before they started (`started` false: not
    started, with `wait_days` 0). The waiting-time report's percentiles are read from these counts.

    Written only by the database: triggers on service_referrals keep it right on every INSERT,
    UPDATE and DELETE, whoever writes (migration "waiting day counts"). Python never writes here."""

    __tablename__ = "waiting_day_counts"

    # The key's order is the reading order: a partner's rows by life domain and wait, so that the
    # report's GROUP BY streams through the key without sorting (on SQLite the table is the key).
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    domain: Mapped[LifeDomain] = mapped_column(enum_column(LifeDomain, 20), primary_key=True)
    started: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    wait_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    requested_on: Mapped[date] = mapped_column(Date, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    referrals: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # PostgreSQL: the key carries the count too, so that a report reads the key alone (index-only
        # scans, no heap pages); on SQLite the table is the key.
        PrimaryKeyConstraint("organisation_id", "domain", "started", "wait_days", "requested_on", "programme_id",
                             name="pk_waiting_day_counts", postgresql_include=["referrals"]),
        # A coach's report reads its programme's rows in the same order, from the index alone.
        Index("ix_waiting_day_counts_programme", "programme_id", "organisation_id", "domain", "started", "wait_days",
              "requested_on", "referrals"),
        {"sqlite_with_rowid": False},
    )


class RegistrationFact(db.Model):
    """One trajectory as the uniform registration counts it: its programme, client, days and outcome,
    the client's gender, legal position and target groups (a bit per group of hub.vocab.TargetGroup),
    and the life domains of its plan goals (a bit per domain of hub.vocab.LifeDomain). The report
    reads these rows from one index instead of joining trajectories, clients and goals.

    Written only by the database: triggers on trajectories, clients and trajectory_goals keep it right
    on every write (migration "report covering indexes, registration facts"). Python never writes here."""

    __tablename__ = "registration_facts"

    trajectory_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    programme_id: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[int] = mapped_column(Integer)
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(15))
    gender: Mapped[str] = mapped_column(String(12))
    legal_status: Mapped[str] = mapped_column(String(20))
    target_groups: Mapped[int] = mapped_column(Integer)
    domains: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # The report's read: a programme's trajectories by the day they opened, every column it counts.
        Index("ix_registration_facts_programme", "programme_id", "opened_on", "closed_on", "client_id",
              "trajectory_id", "outcome", "gender", "legal_status", "target_groups", "domains"),
        Index("ix_registration_facts_client", "client_id"),  # a client's facts change
    )


# The reports' own indexes on the tables they read (declared here, where the queries are).
# Waiting times and bottlenecks: a partner's (director) or a programme's (coach) referrals by request time.
Index("ix_service_referrals_partner_requested", ServiceReferral.organisation_id, ServiceReferral.requested_at)
Index("ix_service_referrals_programme_requested", ServiceReferral.programme_id, ServiceReferral.requested_at)
# Bottlenecks: escalations raised in the period.
# The referral only INCLUDEd (PostgreSQL; SQLite has no INCLUDE and keeps the date alone): as a key
# column it let the planner answer the sweep's "escalated yet?" probe with a scan of this whole index
# per stalled referral, quadratic in one sweep (hub/referrals/escalation.py, _not_raised).
Index("ix_escalations_raised_at", Escalation.raised_at, postgresql_include=["service_referral_id"])
# Registration: a programme's trajectories by the day they opened and the day they closed.
Index("ix_trajectories_programme_opened", Trajectory.programme_id, Trajectory.opened_on, Trajectory.closed_on)
Index("ix_trajectories_programme_closed", Trajectory.programme_id, Trajectory.closed_on)
# Registration: the life domains of a trajectory's goals, from the index alone.
Index("ix_trajectory_goals_domains", Goal.trajectory_id, Goal.domain)
# Waiting now (open and not started): partial, so they hold only the referrals that wait; each holds
# every column the current waits read (on SQLite also the condition's, or it reads the table), in the
# order they count and rank them: per partner and life domain, by request time and id.
WAITING_NOW = text("started_at IS NULL AND closed_at IS NULL")
_WAITING_ORDER = (ServiceReferral.organisation_id, ServiceReferral.domain, ServiceReferral.requested_at,
                  ServiceReferral.id, ServiceReferral.started_at, ServiceReferral.closed_at)
Index("ix_service_referrals_waiting_partner", *_WAITING_ORDER, postgresql_where=WAITING_NOW, sqlite_where=WAITING_NOW)
Index("ix_service_referrals_waiting_programme", ServiceReferral.programme_id, *_WAITING_ORDER,
      postgresql_where=WAITING_NOW, sqlite_where=WAITING_NOW)
