"""Clients, their story (told once), and the warm handoff to an exit programme."""
from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.clock import utcnow
from hub.consent.models import Consent
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
    # The client's rights (hub/rights): erased by retention or on request; a legal hold stops both
    # that and the removal of the client's audit trail.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    legal_hold_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    legal_hold_reason_sealed: Mapped[str | None] = mapped_column("legal_hold_reason", Text)
    # Imported history (hub/imports): the programme's own pseudonymous reference, as a keyed hash
    # (HMAC under the key ring) so that a re-import finds the same client without the reference
    # ever being stored in plain text; the reference itself is kept only as the (encrypted) alias.
    import_ref_hash: Mapped[str | None] = mapped_column(String(64))
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    programme: Mapped[Organisation] = relationship()
    story_domains: Mapped[list[StoryDomain]] = relationship(
        back_populates="client", order_by="StoryDomain.domain", cascade="all, delete-orphan")

    alias = encrypted_field("alias_sealed", "clients.alias")
    story_summary = encrypted_field("story_summary_sealed", "clients.story_summary")
    _safe_contact_json = encrypted_field("safe_contact_sealed", "clients.safe_contact")
    legal_hold_reason = encrypted_field("legal_hold_reason_sealed", "clients.legal_hold_reason")

    __table_args__ = (
        # one client per programme and reference: a re-import (and a re-entry) finds the same person;
        # clients handed over in the hub have no reference, and no entry here
        Index("uq_clients_programme_import_ref", "programme_id", "import_ref_hash", unique=True,
              sqlite_where=sql_text("import_ref_hash IS NOT NULL"),
              postgresql_where=sql_text("import_ref_hash IS NOT NULL")),
    )

    @property
    def safe_contact(self) -> dict:
        """How to reach the client safely: channel, times, never_call, code_word, no_letters_home."""
        raw = self._safe_contact_json
        return json.loads(raw) if raw else {}

    @safe_contact.setter
    def safe_contact(self, value: dict) -> None:
        self.safe_contact_sealed = Client.seal_safe_contact(self.uid, value)

    @staticmethod
    def seal_safe_contact(uid: str, value: dict | None) -> str | None:
        """The stored form of the safe-contact rules of the client with row identity `uid`."""
        return Client._safe_contact_json.seal(uid, json.dumps(value, ensure_ascii=False) if value else None)


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
    coach_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    backup_coach_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    first_contact_on: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason_sealed: Mapped[str | None] = mapped_column("decline_reason", Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    client: Mapped[Client] = relationship()
    consent: Mapped[Consent] = relationship()
    from_organisation: Mapped[Organisation] = relationship(foreign_keys=[from_organisation_id])
    to_organisation: Mapped[Organisation] = relationship(foreign_keys=[to_organisation_id])

    safety_concerns = encrypted_field("safety_concerns_sealed", "handoffs.safety_concerns")
    decline_reason = encrypted_field("decline_reason_sealed", "handoffs.decline_reason")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # the intake queue: a programme's open handoffs, most urgent and oldest first
        Index("ix_handoffs_queue", "to_organisation_id", "status", "submitted_at"),
        Index("ix_handoffs_from", "from_organisation_id", "submitted_at"),
        # a coach's clients; a handoff waiting in the queue has no coach yet, and no entry here
        *(Index(f"ix_handoffs_{column}", column, sqlite_where=sql_text(f"{column} IS NOT NULL"),
                postgresql_where=sql_text(f"{column} IS NOT NULL")) for column in ("coach_id", "backup_coach_id")),
    )


# --- the trajectory: phases with their full history, the plan, the outcome ---------------------

class Phase(StrEnum):
    CONTACT = "contact"
    ORIENTATION = "orientation"
    EXECUTION = "execution"
    AFTERCARE = "aftercare"


class TrajectoryOutcome(StrEnum):
    EXITED = "exited"
    DROPPED_OUT = "dropped_out"
    MOVED = "moved"
    OTHER = "other"


class ExitDestination(StrEnum):
    """Where an exited client went (the uniform registration's effective outflow)."""

    PAID_WORK = "paid_work"
    EDUCATION = "education"
    DAY_ACTIVITIES = "day_activities"
    BENEFITS = "benefits"


class Trajectory(RowBound, db.Model):
    """One run of a client through the exit programme, opened when the handoff is accepted; a
    re-entry opens the next one for the same client (same Client row, same story)."""

    __tablename__ = "trajectories"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    number: Mapped[int] = mapped_column(SmallInteger)  # 1 for the first, 2 for the first re-entry, ...
    programme_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    # whose coach and backup coach lead it; NULL only for imported history (no handoff, no hub user)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id"))
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("trajectories.id"))
    opened_on: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set: history from `hub import`
    closed_on: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[TrajectoryOutcome | None] = mapped_column(enum_column(TrajectoryOutcome, 15))
    destination: Mapped[ExitDestination | None] = mapped_column(enum_column(ExitDestination, 20))
    closing_note_sealed: Mapped[str | None] = mapped_column("closing_note", Text)

    client: Mapped[Client] = relationship()
    handoff: Mapped[Handoff | None] = relationship()
    phases: Mapped[list[TrajectoryPhase]] = relationship(
        back_populates="trajectory", order_by="(TrajectoryPhase.started_on, TrajectoryPhase.id)",
        cascade="all, delete-orphan")
    goals: Mapped[list[Goal]] = relationship(back_populates="trajectory", order_by="Goal.id",
                                             cascade="all, delete-orphan")

    closing_note = encrypted_field("closing_note_sealed", "trajectories.closing_note")

    __table_args__ = (
        UniqueConstraint("client_id", "number", name="uq_trajectories_client_number"),
        # at most one open trajectory per client, whoever tries to open a second one at the same time
        Index("uq_trajectories_client_open", "client_id", unique=True,
              sqlite_where=sql_text("closed_on IS NULL"), postgresql_where=sql_text("closed_on IS NULL")),
        # the caseload: open trajectories of the handoffs a coach leads or backs up
        Index("ix_trajectories_handoff_open", "handoff_id", "closed_on"),
        # a live trajectory has its handoff and opener; only imported history may lack them
        CheckConstraint("(handoff_id IS NOT NULL AND opened_by_id IS NOT NULL) OR imported_at IS NOT NULL",
                        name="live_or_imported"),
        # the import's natural key (programme + client reference + entered_on): once, however often imported
        Index("uq_trajectories_imported", "client_id", "opened_on", unique=True,
              sqlite_where=sql_text("imported_at IS NOT NULL"), postgresql_where=sql_text("imported_at IS NOT NULL")),
    )

    @property
    def is_open(self) -> bool:
        return self.closed_on is None

    @property
    def current_phases(self) -> list[TrajectoryPhase]:
        return [period for period in self.phases if period.ended_on is None]


class TrajectoryPhase(RowBound, db.Model):
    """One period in one phase: phases may repeat (a fall-back) and overlap (two at once)."""

    __tablename__ = "trajectory_phases"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    trajectory_id: Mapped[int] = mapped_column(ForeignKey("trajectories.id"))
    phase: Mapped[Phase] = mapped_column(enum_column(Phase, 12))
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note_sealed: Mapped[str | None] = mapped_column("note", Text)  # e.g. why the client fell back

    trajectory: Mapped[Trajectory] = relationship(back_populates="phases")
    note = encrypted_field("note_sealed", "trajectory_phases.note")

    __table_args__ = (Index("ix_trajectory_phases_current", "trajectory_id", "ended_on"),)

    def days(self, today: date) -> int:
        return ((self.ended_on or today) - self.started_on).days


class Goal(RowBound, db.Model):
    """A plan goal in one life domain: from the score now to the target score (1-10) by a deadline.
    Its score changes only by new progress entries, so the history stays; it counts as achieved
    while its latest score reaches the target."""

    __tablename__ = "trajectory_goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    trajectory_id: Mapped[int] = mapped_column(ForeignKey("trajectories.id"))
    domain: Mapped[LifeDomain] = mapped_column(enum_column(LifeDomain, 20))
    description_sealed: Mapped[str | None] = mapped_column("description", Text)
    target: Mapped[int] = mapped_column(SmallInteger)
    deadline: Mapped[date | None] = mapped_column(Date)
    achieved_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    trajectory: Mapped[Trajectory] = relationship(back_populates="goals")
    progress: Mapped[list[GoalProgress]] = relationship(
        back_populates="goal", order_by="(GoalProgress.recorded_at, GoalProgress.id)", cascade="all, delete-orphan")
    subgoals: Mapped[list[SubGoal]] = relationship(back_populates="goal", order_by="SubGoal.position",
                                                   cascade="all, delete-orphan")

    description = encrypted_field("description_sealed", "trajectory_goals.description")

    # the caseload counts open goals and finds the next deadline per trajectory
    __table_args__ = (Index("ix_trajectory_goals_open", "trajectory_id", "achieved_on", "deadline"),)

    @property
    def score(self) -> int | None:
        """The latest score (the first progress entry holds the score when the goal was set)."""
        return self.progress[-1].score if self.progress else None

    @property
    def start_score(self) -> int | None:
        return self.progress[0].score if self.progress else None


class GoalProgress(RowBound, db.Model):
    """One score update of a goal, never overwritten: together they show the progress."""

    __tablename__ = "trajectory_goal_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("trajectory_goals.id"))
    score: Mapped[int] = mapped_column(SmallInteger)
    note_sealed: Mapped[str | None] = mapped_column("note", Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    goal: Mapped[Goal] = relationship(back_populates="progress")
    note = encrypted_field("note_sealed", "trajectory_goal_progress.note")

    __table_args__ = (Index("ix_trajectory_goal_progress_goal", "goal_id", "recorded_at"),)


class SubGoal(RowBound, db.Model):
    """A step towards a goal, with its own deadline; done when the coach marks it so."""

    __tablename__ = "trajectory_subgoals"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("trajectory_goals.id"))
    position: Mapped[int] = mapped_column(SmallInteger)
    text_sealed: Mapped[str] = mapped_column("text", Text)
    deadline: Mapped[date | None] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)

    goal: Mapped[Goal] = relationship(back_populates="subgoals")
    text = encrypted_field("text_sealed", "trajectory_subgoals.text")

    __table_args__ = (UniqueConstraint("goal_id", "position", name="uq_trajectory_subgoals_goal_position"),)
