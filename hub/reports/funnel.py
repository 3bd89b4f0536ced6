"""The phases as a funnel: per phase of the trajectory, how many trajectories reached it.

Counted over the trajectories of the programmes asked for that ran at some time in the period
(opened on or before the last day, not closed before the first: the trajectories whose clients the
registration counts as "different clients"):
- `trajectories`: how many such trajectories there are;
- per phase, `reached`: how many of them were in that phase at some time on or before the last day
  of the period, whenever that was (a trajectory in execution since last year counts in execution);
  a fall-back counts the phase it returns to once, and two phases run in parallel count in both;
- per phase, `current`: how many of them were in that phase on the last day of the period (not
  closed by then), i.e. "how many people are in which phase now".
Phases are not always passed in order (a re-entry may begin in orientation), so a later phase may
count more than an earlier one.

All of it is one statement: the trajectories, then their phase periods grouped by phase. For chain
directors every phase count below 5 is shown as "<5" (the same rule as the registration's breakdowns;
a trajectory counts in several phases, so the rows are no partition and one hidden cell cannot be
recovered by subtraction); the number of trajectories, like the registration's headline, stays exact.
"""
from __future__ import annotations

from sqlalchemy import Date, String, and_, case, cast, func, literal, or_, select, union_all

from hub.extensions import db
from hub.referrals.models import Phase, Trajectory, TrajectoryPhase
from hub.reports.period import Period
from hub.reports.registration import suppress

COUNTS = ("reached", "current")


def _counts(programme_ids: list[int], period: Period) -> tuple[int, dict[str, dict[str, int]]]:
    first, last = literal(period.first, Date), literal(period.last, Date)
    trajectories = select(Trajectory.id, Trajectory.closed_on).where(
        Trajectory.programme_id.in_(programme_ids), Trajectory.opened_on <= last,
        or_(Trajectory.closed_on.is_(None), Trajectory.closed_on >= first)).cte("counted")
    in_phase_at_end = and_(or_(TrajectoryPhase.ended_on.is_(None), TrajectoryPhase.ended_on > last),
                           or_(trajectories.c.closed_on.is_(None), trajectories.c.closed_on > last))
    statement = union_all(
        select(literal(None, String).label("phase"), func.count().label("reached"), literal(0).label("current"))
        .select_from(trajectories),
        select(cast(TrajectoryPhase.phase, String).label("phase"),
               func.count(TrajectoryPhase.trajectory_id.distinct()),
               func.count(case((in_phase_at_end, TrajectoryPhase.trajectory_id)).distinct()))
        .select_from(trajectories)
        .join(TrajectoryPhase, TrajectoryPhase.trajectory_id == trajectories.c.id)
        .where(TrajectoryPhase.started_on <= last)
        .group_by(TrajectoryPhase.phase),
    )
    total, per_phase = 0, {}
    for row in db.session.execute(statement):
        if row.phase is None:
            total = int(row.reached or 0)
        else:
            per_phase[row.phase] = {"reached": int(row.reached or 0), "current": int(row.current or 0)}
    return total, per_phase


def phase_funnel(programme_ids: list[int], period: Period, *, suppress_small: bool) -> dict:
    """The funnel over `programme_ids` (already checked against the user's scope): every phase, in
    the order of the trajectory, also those nobody reached."""
    total, per_phase = _counts(programme_ids, period) if programme_ids else (0, {})
    zero = dict.fromkeys(COUNTS, 0)
    rows = [{"phase": phase.value, **per_phase.get(phase.value, zero)} for phase in Phase]
    return {"programmes": len(programme_ids), "trajectories": total, "suppressed": suppress_small,
            "phases": suppress(rows, partition=False, counts=COUNTS) if suppress_small else rows}
