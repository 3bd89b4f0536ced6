"""Scheduled reminders for coaches: a weekly digest of what is late, and monthly contact during
aftercare. Plain functions of `now`; each reminder has a key, so it is sent once however often,
and in however many schedulers, the job runs."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from hub.auth.models import User
from hub.extensions import db
from hub.notifications.service import notify
from hub.referrals.escalation import AMSTERDAM, is_stalled, rules
from hub.referrals.models import Handoff, Phase, Trajectory, TrajectoryPhase
from hub.referrals.service_referral_models import ServiceReferral
from hub.referrals.workflow import OPEN
from hub.vocab import Role

DIGEST_WEEKDAY, DIGEST_HOUR = 0, 7  # Monday from 07:00, Dutch time


def weekly_digest(now: datetime) -> int:
    """On Monday morning, each coach with late referrals among their clients hears how many."""
    local = now.astimezone(AMSTERDAM)
    if local.weekday() != DIGEST_WEEKDAY or local.hour < DIGEST_HOUR:
        return 0
    year, week, _day = local.isocalendar()
    all_rules = rules()
    late_by_coach: dict[int, int] = {}
    open_referrals = db.session.execute(
        select(ServiceReferral, Handoff.coach_id, Handoff.backup_coach_id)
        .join(Handoff, Handoff.client_id == ServiceReferral.client_id)
        .where(ServiceReferral.status.in_(OPEN), Handoff.coach_id.is_not(None))).all()
    for referral, coach_id, backup_id in open_referrals:
        if is_stalled(referral, now, all_rules):
            for user_id in {coach_id, backup_id} - {None}:
                late_by_coach[user_id] = late_by_coach.get(user_id, 0) + 1
    sent = 0
    for coach in db.session.scalars(select(User).where(User.id.in_(late_by_coach), User.role == Role.COACH,
                                                       User.active.is_(True))):
        sent += notify(coach, _l("Your week: referrals that are late"),
                       _l("%(count)s referrals of your clients wait longer than agreed. See the overview in the hub.",
                          count=late_by_coach[coach.id]),
                       dedupe_key=f"digest:{coach.id}:{year}-W{week:02d}") is not None
    db.session.commit()
    return sent


def aftercare_reminders(now: datetime) -> int:
    """Once a month, the coach (and backup) of each client in aftercare is reminded to make contact."""
    month = now.astimezone(AMSTERDAM).strftime("%Y-%m")
    rows = db.session.execute(
        select(Trajectory.id, Handoff.coach_id, Handoff.backup_coach_id)
        .join(TrajectoryPhase, TrajectoryPhase.trajectory_id == Trajectory.id)
        .join(Handoff, Handoff.id == Trajectory.handoff_id)
        .where(Trajectory.closed_on.is_(None), TrajectoryPhase.phase == Phase.AFTERCARE,
               TrajectoryPhase.ended_on.is_(None),
               or_(Handoff.coach_id.is_not(None), Handoff.backup_coach_id.is_not(None)))).all()
    coaches = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_({i for row in rows for i in row[1:] if i}), User.active.is_(True)))}
    sent = 0
    for trajectory_id, coach_id, backup_id in rows:
        for user_id in (coach_id, backup_id):
            if user_id in coaches:
                sent += notify(coaches[user_id], _l("Aftercare: time for this month's contact"),
                               _l("A client of yours is in aftercare (trajectory %(id)s). Plan this month's contact.",
                                  id=trajectory_id),
                               dedupe_key=f"aftercare:{trajectory_id}:{user_id}:{month}") is not None
    db.session.commit()
    return sent
