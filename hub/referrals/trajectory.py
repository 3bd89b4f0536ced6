"""The trajectory: phases with their full history, the plan's goals and their progress, the outcome,
re-entry, and the coach's caseload. Every read and write of it is audited on the handoff consent."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from config import AFTERCARE_MONTHS
from hub.audit.models import AuditAction, AuditResult
from hub.audit.service import record, record_list
from hub.auth.models import User
from hub.clock import local_today
from hub.consent.models import Consent
from hub.consent.service import Decision, decide
from hub.errors import Conflict, Invalid, NotFound
from hub.extensions import db
from hub.referrals.models import (
    Client,
    ExitDestination,
    Goal,
    GoalProgress,
    Handoff,
    Phase,
    SubGoal,
    Trajectory,
    TrajectoryOutcome,
    TrajectoryPhase,
)
from hub.referrals.service import client_for_coach
from hub.referrals.trajectory_schemas import MAX_SUBGOALS
from hub.vocab import ConsentPurpose, Role

# --- loading, with the access check ------------------------------------------------------------


def trajectory_for(user: User, trajectory_id: int, at: datetime, *,
                   for_update: bool = False) -> tuple[Trajectory, Decision]:
    """The trajectory if `user` is a coach of its client's programme and the handoff consent is in
    force (`client_for_coach`); NotFound otherwise, audited. `for_update` locks the row for a write."""
    trajectory = db.session.get(Trajectory, trajectory_id, with_for_update=for_update or None)
    if trajectory is None or user.role != Role.COACH or trajectory.programme_id != user.organisation_id:
        _refuse(user, "trajectory", trajectory_id, trajectory.client_id if trajectory else None)
    _client, decision = client_for_coach(user, trajectory.client_id, at)
    return trajectory, decision


def goal_for(user: User, goal_id: int, at: datetime) -> tuple[Goal, Decision]:
    """The goal if `user` may manage its trajectory; NotFound otherwise, audited."""
    goal = db.session.get(Goal, goal_id)
    if goal is None:
        _refuse(user, "goal", goal_id, None)
    _trajectory, decision = trajectory_for(user, goal.trajectory_id, at, for_update=True)
    return goal, decision


def _refuse(user: User, object_type: str, object_id: int, client_id: int | None):
    record(f"referrals:{object_type}:refused", AuditAction.READ, AuditResult.REFUSED, object_type=object_type,
           object_id=object_id, client_id=client_id, user=user)
    raise NotFound(_("There is no such trajectory or goal, or you may not see it."))


def _require_open(trajectory: Trajectory) -> None:
    if not trajectory.is_open:
        raise Conflict(_("This trajectory was closed on %(date)s; open a new one for a re-entry.",
                         date=trajectory.closed_on.isoformat()), code="trajectory_closed")


def _not_in_future(name: str, value: date, today: date) -> None:
    if value > today:
        raise Invalid(_("A date in the future cannot be recorded yet."), fields={name: [_("In the future.")]})


# --- opening: on acceptance, and on re-entry ---------------------------------------------------

def _open(actor: User, client_id: int, handoff: Handoff, opened_on: date, now: datetime, *, phase: Phase,
          note: str | None, previous: Trajectory | None) -> Trajectory:
    trajectory = Trajectory(client_id=client_id, number=(previous.number + 1) if previous else 1,
                            programme_id=handoff.to_organisation_id, handoff_id=handoff.id,
                            previous_id=previous.id if previous else None, opened_on=opened_on, opened_at=now,
                            opened_by_id=actor.id)
    period = TrajectoryPhase(phase=phase, started_on=opened_on, recorded_at=now, recorded_by_id=actor.id)
    period.note = note
    trajectory.phases.append(period)
    db.session.add(trajectory)
    db.session.flush()
    return trajectory


def open_on_acceptance(actor: User, handoff: Handoff, now: datetime) -> Trajectory:
    """Open the client's first trajectory, in the contact phase, as the handoff is accepted."""
    trajectory = _open(actor, handoff.client_id, handoff, local_today(now), now, phase=Phase.CONTACT, note=None,
                       previous=None)
    ground = decide(handoff.to_organisation_id, handoff.client_id, ConsentPurpose.HANDOFF, None, now).ground
    record("referrals:trajectory:opened", AuditAction.CREATE, object_type="trajectory", object_id=trajectory.id,
           client_id=handoff.client_id, user=actor, ground=ground)
    return trajectory


def reenter(actor: User, client: Client, decision: Decision, now: datetime, *, opened_on: date | None = None,
            phase: Phase = Phase.CONTACT, note: str | None = None) -> Trajectory:
    """Re-entry: a new trajectory for the same client, who keeps the story told before."""
    db.session.scalar(select(Client.id).where(Client.id == client.id).with_for_update())  # one re-entry at a time
    trajectories = db.session.scalars(select(Trajectory).where(Trajectory.client_id == client.id)
                                      .order_by(Trajectory.number.desc())).all()
    if any(t.is_open for t in trajectories):
        raise Conflict(_("This client's trajectory is still open; close it before a re-entry."),
                       code="trajectory_open")
    previous = trajectories[0] if trajectories else None
    # imported history has no handoff: then the client's accepted handoff, if there is one, leads
    handoff = db.session.get(Handoff, previous.handoff_id) if previous and previous.handoff_id else db.session.scalar(
        select(Handoff).where(Handoff.client_id == client.id, Handoff.coach_id.is_not(None))
        .order_by(Handoff.accepted_at.desc()).limit(1))
    if handoff is None:
        raise Conflict(_("Accept the client's handoff first."), code="handoff_not_accepted")
    today = local_today(now)
    opened_on = opened_on or today
    _not_in_future("opened_on", opened_on, today)
    if previous is not None and opened_on < previous.closed_on:
        raise Invalid(_("A re-entry cannot begin before the previous trajectory ended."),
                      fields={"opened_on": [_("Before %(date)s.", date=previous.closed_on.isoformat())]})
    trajectory = _open(actor, client.id, handoff, opened_on, now, phase=phase, note=note, previous=previous)
    record("referrals:trajectory:reentered", AuditAction.CREATE, object_type="trajectory", object_id=trajectory.id,
           client_id=client.id, user=actor, ground=decision.ground)
    return trajectory


# --- phases -----------------------------------------------------------------------------------

def start_phase(actor: User, trajectory: Trajectory, decision: Decision, phase: Phase, now: datetime, *,
                started_on: date | None = None, parallel: bool = False, note: str | None = None) -> Trajectory:
    """Start a phase on `started_on`: the current phases end that day, unless it runs `parallel`.
    An earlier phase again is a fall-back; the history keeps every period."""
    _require_open(trajectory)
    today = local_today(now)
    started_on = started_on or today
    _not_in_future("started_on", started_on, today)
    if started_on < trajectory.opened_on:
        raise Invalid(_("A phase cannot begin before the trajectory did."),
                      fields={"started_on": [_("Before %(date)s.", date=trajectory.opened_on.isoformat())]})
    current = trajectory.current_phases
    running = next((period for period in current if period.phase == phase), None)
    if running is not None and (parallel or len(current) == 1):
        raise Conflict(_("The client is in this phase already."), code="phase_current")
    to_end = [] if parallel else [period for period in current if period is not running]
    if any(started_on < period.started_on for period in to_end):
        raise Invalid(_("A phase cannot end before it began: the new phase must start on or after the current "
                        "ones."), fields={"started_on": [_("Before a current phase began.")]})
    for period in to_end:
        period.ended_on = started_on
    if running is None:  # else: the running period simply continues, now on its own
        period = TrajectoryPhase(phase=phase, started_on=started_on, recorded_at=now, recorded_by_id=actor.id)
        period.note = note
        trajectory.phases.append(period)
    db.session.flush()
    record("referrals:trajectory:phase_started", AuditAction.UPDATE, object_type="trajectory",
           object_id=trajectory.id, client_id=trajectory.client_id, user=actor, ground=decision.ground)
    return trajectory


# --- the plan ----------------------------------------------------------------------------------

def add_goal(actor: User, trajectory: Trajectory, decision: Decision, data: dict, now: datetime) -> Goal:
    """Add a plan goal in one life domain: score now, target, deadline and its sub-goals."""
    _require_open(trajectory)
    problems = {}
    if data["target"] <= data["score"]:
        problems["target"] = [_("The target must be higher than the score now.")]
    if data["deadline"] < local_today(now):
        problems["deadline"] = [_("The deadline has passed already.")]
    for index, step in enumerate(data.get("subgoals", [])):
        if step.get("deadline") and step["deadline"] < local_today(now):
            problems.setdefault("subgoals", {})[index] = {"deadline": [_("The deadline has passed already.")]}
    if problems:
        raise Invalid(_("The goal could not be added: %(names)s.", names=", ".join(sorted(problems))),
                      fields=problems)
    goal = Goal(domain=data["domain"], target=data["target"], deadline=data["deadline"], created_at=now,
                created_by_id=actor.id)
    goal.description = data.get("description")
    start = GoalProgress(score=data["score"], recorded_at=now, recorded_by_id=actor.id)
    goal.progress.append(start)
    for position, step in enumerate(data.get("subgoals", []), start=1):
        subgoal = SubGoal(position=position, deadline=step.get("deadline"))
        subgoal.text = step["text"]
        goal.subgoals.append(subgoal)
    trajectory.goals.append(goal)
    db.session.flush()
    record("referrals:trajectory:goal_added", AuditAction.CREATE, object_type="goal", object_id=goal.id,
           client_id=trajectory.client_id, user=actor, ground=decision.ground)
    return goal


def revise_goal(actor: User, goal: Goal, decision: Decision, data: dict, now: datetime) -> list[str]:
    """The plan changes: a new target or deadline, another description, more sub-goals. The scores stay
    as they were recorded; whether the goal counts as achieved follows the new target. Returns what
    changed, by field name (nothing changed: nothing written, nothing audited)."""
    _require_open(goal.trajectory)
    today = local_today(now)
    problems: dict = {}
    if "target" in data and data["target"] <= goal.start_score:
        problems["target"] = [_("The target must be higher than the score when the goal was set (%(score)d).",
                                score=goal.start_score)]
    if "deadline" in data and data["deadline"] != goal.deadline and data["deadline"] < today:
        problems["deadline"] = [_("The deadline has passed already.")]
    added = data.get("add_subgoals", [])
    for index, step in enumerate(added):
        if step.get("deadline") and step["deadline"] < today:
            problems.setdefault("add_subgoals", {})[index] = {"deadline": [_("The deadline has passed already.")]}
    if len(goal.subgoals) + len(added) > MAX_SUBGOALS:
        problems["add_subgoals"] = [_("A goal has at most %(most)d sub-goals; it has %(now)d.", most=MAX_SUBGOALS,
                                      now=len(goal.subgoals))]
    if problems:
        raise Invalid(_("The goal could not be changed: %(names)s.", names=", ".join(sorted(problems))),
                      fields=problems)
    changed = _changes(goal, data)
    if not changed:
        return changed
    if "description" in data:
        goal.description = data["description"]
    if "deadline" in data:
        goal.deadline = data["deadline"]
    if "target" in data:
        goal.target = data["target"]
        goal.achieved_on = (goal.achieved_on or today) if goal.score >= goal.target else None
    last = max((subgoal.position for subgoal in goal.subgoals), default=0)
    for position, step in enumerate(added, start=last + 1):
        subgoal = SubGoal(position=position, deadline=step.get("deadline"))
        subgoal.text = step["text"]
        goal.subgoals.append(subgoal)
    db.session.flush()
    record("referrals:trajectory:goal_revised", AuditAction.UPDATE, object_type="goal", object_id=goal.id,
           client_id=goal.trajectory.client_id, user=actor, ground=decision.ground,
           detail="changed=" + ",".join(changed))
    return changed


def _changes(goal: Goal, data: dict) -> list[str]:
    """What `data` would change in the goal, by field name (sorted): sub-goals to add, and the fields
    whose value differs from the goal's."""
    def changes(name: str, value) -> bool:
        return bool(value) if name == "add_subgoals" else getattr(goal, name) != value
    return sorted(name for name, value in data.items() if changes(name, value))


def record_progress(actor: User, goal: Goal, decision: Decision, score: int, now: datetime, *,
                    note: str | None = None, subgoals_done: list[int] | None = None) -> Goal:
    """A new score for the goal (the earlier ones stay), and sub-goals done; the goal counts as
    achieved while its score reaches the target."""
    _require_open(goal.trajectory)
    steps = {subgoal.id: subgoal for subgoal in goal.subgoals}
    unknown = sorted(set(subgoals_done or []) - set(steps))
    if unknown:
        raise Invalid(_("These are not sub-goals of this goal: %(ids)s.", ids=", ".join(map(str, unknown))),
                      fields={"subgoals_done": [_("Unknown sub-goal.")]})
    today = local_today(now)
    entry = GoalProgress(score=score, recorded_at=now, recorded_by_id=actor.id)
    entry.note = note
    goal.progress.append(entry)
    for subgoal_id in subgoals_done or []:
        steps[subgoal_id].done_on = steps[subgoal_id].done_on or today
    if score >= goal.target:
        goal.achieved_on = goal.achieved_on or today
    else:
        goal.achieved_on = None
    db.session.flush()
    record("referrals:trajectory:progress_recorded", AuditAction.UPDATE, object_type="goal", object_id=goal.id,
           client_id=goal.trajectory.client_id, user=actor, ground=decision.ground)
    return goal


# --- closing -----------------------------------------------------------------------------------

def close_trajectory(actor: User, trajectory: Trajectory, ground: str | None, now: datetime, *,
                     outcome: TrajectoryOutcome, closed_on: date, destination: ExitDestination | None = None,
                     note: str | None = None) -> Trajectory:
    """Close with an outcome and date (an exit names its destination); current phases end that day.
    `ground` is what allowed it: the handoff consent (`Decision.ground`), or the client's erasure
    request (`hub.rights.service.request_erasure`)."""
    if not trajectory.is_open:
        raise Conflict(_("This trajectory was closed already on %(date)s.", date=trajectory.closed_on.isoformat()),
                       code="trajectory_closed")
    problems = {}
    if outcome == TrajectoryOutcome.EXITED and destination is None:
        problems["destination"] = [_("Say where the client went: paid work, education, day activities or "
                                     "benefits.")]
    if outcome != TrajectoryOutcome.EXITED and destination is not None:
        problems["destination"] = [_("Only an exit has a destination.")]
    if closed_on > local_today(now):
        problems["closed_on"] = [_("In the future.")]
    elif closed_on < max([trajectory.opened_on, *(p.started_on for p in trajectory.current_phases)]):
        problems["closed_on"] = [_("Before the trajectory or its current phase began.")]
    if problems:
        raise Invalid(_("The trajectory could not be closed: %(names)s.", names=", ".join(sorted(problems))),
                      fields=problems)
    for period in trajectory.current_phases:
        period.ended_on = closed_on
    trajectory.outcome, trajectory.destination, trajectory.closed_on = outcome, destination, closed_on
    trajectory.closed_at, trajectory.closed_by_id = now, actor.id
    trajectory.closing_note = note
    db.session.flush()
    record("referrals:trajectory:closed", AuditAction.UPDATE, object_type="trajectory", object_id=trajectory.id,
           client_id=trajectory.client_id, user=actor, ground=ground)
    return trajectory


# --- reading -----------------------------------------------------------------------------------

def latest_trajectory(user: User, client: Client, decision: Decision) -> Trajectory | None:
    """The client's newest trajectory in the coach's programme (open, or how it ended) with its
    phases and its plan (goals, their progress and sub-goals), for the dossier; showing it is audited."""
    trajectory = db.session.scalar(
        select(Trajectory).where(Trajectory.client_id == client.id, Trajectory.programme_id == user.organisation_id)
        .options(selectinload(Trajectory.phases), selectinload(Trajectory.goals).selectinload(Goal.progress),
                 selectinload(Trajectory.goals).selectinload(Goal.subgoals))
        .order_by(Trajectory.number.desc()).limit(1))
    if trajectory is not None:
        record("referrals:trajectory:read", AuditAction.READ, object_type="trajectory", object_id=trajectory.id,
               client_id=client.id, user=user, ground=decision.ground)
    return trajectory


def client_trajectories(user: User, client: Client, decision: Decision, page: int, per_page: int) -> dict:
    """A page of the client's trajectories, newest first, with phases, goals and progress (a fixed
    number of queries however many there are). The read is audited."""
    query = (select(Trajectory).where(Trajectory.client_id == client.id)
             .options(selectinload(Trajectory.phases),
                      selectinload(Trajectory.goals).selectinload(Goal.progress),
                      selectinload(Trajectory.goals).selectinload(Goal.subgoals))
             .order_by(Trajectory.number.desc()))
    rows = db.session.scalars(query.limit(per_page + 1).offset((page - 1) * per_page)).all()
    record("referrals:trajectory:read", AuditAction.READ, object_type="client", object_id=client.id,
           client_id=client.id, user=user, ground=decision.ground)
    return {"items": rows[:per_page], "page": page, "per_page": per_page, "has_next": len(rows) > per_page}


# --- the caseload -------------------------------------------------------------------------------

@dataclass
class CaseloadEntry:
    client: Client
    trajectory_id: int
    opened_on: date
    coach_id: int
    backup_coach_id: int | None
    as_backup: bool
    open_goals: int
    next_deadline: date | None
    consent_id: int
    phases: list[dict] = field(default_factory=list)

    @property
    def client_id(self) -> int:
        return self.client.id

    @property
    def alias(self) -> str:
        return self.client.alias

    @property
    def days_in_phase(self) -> int | None:
        return min((p["days"] for p in self.phases), default=None)

    @property
    def aftercare_ends_on(self) -> date | None:
        """In aftercare: the day its half year (AFTERCARE_MONTHS) runs out, when the coach closes."""
        started = [p["started_on"] for p in self.phases if p["phase"] == Phase.AFTERCARE]
        return _months_after(started[0], AFTERCARE_MONTHS) if started else None


def caseload(user: User, now: datetime, page: int, per_page: int, coach_id: int | None = None, *,
             backup_only: bool = False, audit_each: bool = True) -> dict:
    """The coach's open trajectories (as coach or as backup coach), with current phases, days in
    phase, open goals and next deadline: aggregated in SQL, two queries per page. With `coach_id`
    of a colleague: only that colleague's clients for whom `user` is the backup coach; with
    `backup_only`: every client `user` backs up. Audited per client shown (`audit_each`, the API),
    or as one list read naming the clients shown (the web page: `record_list`, two statements)."""
    at, today = now, local_today(now)
    in_force = (select(func.max(Consent.id))
                .where(Consent.client_id == Trajectory.client_id,
                       Consent.recipient_organisation_id == user.organisation_id,
                       Consent.purpose == ConsentPurpose.HANDOFF, Consent.valid_from <= at,
                       or_(Consent.valid_until.is_(None), Consent.valid_until > at),
                       or_(Consent.withdrawn_at.is_(None), Consent.withdrawn_at > at))
                .correlate(Trajectory).scalar_subquery())
    open_goals = (select(func.count(Goal.id)).where(Goal.trajectory_id == Trajectory.id, Goal.achieved_on.is_(None))
                  .correlate(Trajectory).scalar_subquery())
    next_deadline = (select(func.min(Goal.deadline))
                     .where(Goal.trajectory_id == Trajectory.id, Goal.achieved_on.is_(None))
                     .correlate(Trajectory).scalar_subquery())
    if backup_only:
        whose = Handoff.backup_coach_id == user.id
    elif coach_id is None:
        whose = or_(Handoff.coach_id == user.id, Handoff.backup_coach_id == user.id)
    elif coach_id == user.id:
        whose = Handoff.coach_id == user.id
    else:
        colleague = db.session.get(User, coach_id)
        if colleague is None or colleague.role != Role.COACH or colleague.organisation_id != user.organisation_id:
            raise Invalid(_("Choose a coach of your programme."), fields={"coach_id": [_("Not a colleague.")]})
        whose = (Handoff.coach_id == coach_id) & (Handoff.backup_coach_id == user.id)
    query = (select(Client, Trajectory.id, Trajectory.opened_on, Handoff.coach_id, Handoff.backup_coach_id,
                    open_goals, next_deadline, in_force)
             .select_from(Trajectory)
             .join(Handoff, Handoff.id == Trajectory.handoff_id)
             .join(Client, Client.id == Trajectory.client_id)
             .where(Trajectory.closed_on.is_(None), Trajectory.programme_id == user.organisation_id, whose,
                    in_force.is_not(None))
             .order_by(next_deadline.is_(None), next_deadline, Trajectory.opened_on, Trajectory.id))
    rows = db.session.execute(query.limit(per_page + 1).offset((page - 1) * per_page)).all()
    entries = [CaseloadEntry(client=row[0], trajectory_id=row[1], opened_on=row[2], coach_id=row[3],
                             backup_coach_id=row[4], as_backup=row[3] != user.id, open_goals=row[5],
                             next_deadline=row[6], consent_id=row[7]) for row in rows[:per_page]]
    by_trajectory = {entry.trajectory_id: entry for entry in entries}
    if by_trajectory:
        current = db.session.execute(
            select(TrajectoryPhase.trajectory_id, TrajectoryPhase.phase, TrajectoryPhase.started_on)
            .where(TrajectoryPhase.trajectory_id.in_(by_trajectory), TrajectoryPhase.ended_on.is_(None))
            .order_by(TrajectoryPhase.started_on, TrajectoryPhase.id))
        for trajectory_id, phase, started_on in current:
            by_trajectory[trajectory_id].phases.append(
                {"phase": phase, "started_on": started_on, "days": (today - started_on).days})
    if audit_each:
        for entry in entries:
            record("referrals:caseload:read", AuditAction.READ, object_type="client", object_id=entry.client_id,
                   client_id=entry.client_id, user=user, ground=f"consent:{entry.consent_id}")
    else:
        record_list("referrals:caseload:listed", object_type="client", user=user,
                    shown=[(entry.client_id, entry.client_id) for entry in entries],
                    filters={"coach_id": coach_id, "backup_only": backup_only or None}, page=page, per_page=per_page)
    return {"items": entries, "page": page, "per_page": per_page, "has_next": len(rows) > per_page}


def _months_after(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day (31 August + 6)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))
