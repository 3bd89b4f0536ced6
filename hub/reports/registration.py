"""Uniform registration: the columns the national evaluation asked every exit programme for.

Per period (first day to last day, inclusive), over the programmes asked for:
- `inflow`: trajectories opened in the period. A re-entry is a new trajectory, so it counts again.
- `exited`, `dropped_out`, `moved`, `other`: trajectories closed in the period with that outcome,
  whenever they were opened.
- `still_in_trajectory`: trajectories opened on or before the last day and not closed by then
  (closed after the period, or still open).
- `unique_clients`: the number of different clients with a trajectory running at some time in the
  period (opened on or before the last day, not closed before the first): each person once, however
  many trajectories they had.
- `expected`: the programmes' targets (participants expected per calendar year), each year's target
  taken for the share of that year the period covers, summed and rounded to whole persons (a year
  without a target adds nothing); `null` while no programme has set a target for those years. The
  targets themselves are in `expected_per_year`.

Broken down by gender and legal position (each client in one row), by target group (a client in
each of their groups, so rows may add up to more than the total) and by life domain. The life domain
is that of the trajectory's plan goals: a trajectory counts in every domain in which its plan has a
goal (the domains the client works on in the trajectory, whether or not a partner was involved);
trajectories without goals appear in no domain row. Gender, legal position and target groups are the
client's as recorded now.

Each breakdown lists every value of its vocabulary, also those with nothing to count, so that the
shape of the table reveals nothing. For chain directors every breakdown cell below 5 is shown as
"<5", and where a gender or legal-position column would then hide a single cell (which the exact
headline total would give away by subtraction) the next smallest cell is hidden too; the headline
counts stay exact.
"""
from __future__ import annotations

from sqlalchemy import Date, String, and_, case, cast, func, literal, or_, select, true, union_all

from hub.extensions import db
from hub.referrals.models import Client, Goal, Trajectory, TrajectoryOutcome
from hub.reports.models import ProgrammeTarget
from hub.reports.period import Period
from hub.vocab import Gender, LegalStatus, LifeDomain, TargetGroup

COUNTS = ("inflow", "exited", "dropped_out", "moved", "other", "still_in_trajectory", "unique_clients")
BREAKDOWNS = {"gender": Gender, "legal_status": LegalStatus, "target_group": TargetGroup, "domain": LifeDomain}
PARTITIONS = ("gender", "legal_status")  # each client in exactly one row: these add up to the total
SMALL = 5
SUPPRESSED = "<5"


def _measures(trajectories, period: Period):
    first, last = literal(period.first, Date), literal(period.last, Date)
    opened, closed, outcome = trajectories.c.opened_on, trajectories.c.closed_on, trajectories.c.outcome

    def count_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    def closed_with(value: TrajectoryOutcome):
        return count_if(and_(closed >= first, closed <= last, outcome == value.value))

    return (count_if(opened >= first).label("inflow"),
            closed_with(TrajectoryOutcome.EXITED).label("exited"),
            closed_with(TrajectoryOutcome.DROPPED_OUT).label("dropped_out"),
            closed_with(TrajectoryOutcome.MOVED).label("moved"),
            closed_with(TrajectoryOutcome.OTHER).label("other"),
            count_if(or_(closed.is_(None), closed > last)).label("still_in_trajectory"),
            func.count(trajectories.c.client_id.distinct()).label("unique_clients"))


def _target_groups(dialect: str, client_ids):
    """SQL: the target groups of the clients `client_ids` selects, as rows (client_id, value),
    from each client's JSON list."""
    if dialect == "postgresql":
        element = func.json_array_elements_text(Client.target_groups).table_valued("value").lateral("tg")
    else:
        element = func.json_each(Client.target_groups).table_valued("value").alias("tg")
    return select(Client.id.label("client_id"), cast(element.c.value, String).label("value")) \
        .select_from(Client).join(element, true()).where(Client.id.in_(client_ids)).cte("target_groups")


def _counts(programme_ids: list[int], period: Period) -> dict:
    """All counts, the headline and every breakdown, in one statement."""
    # Every trajectory that counts anywhere ran at some time in the period.
    trajectories = select(Trajectory.id, Trajectory.client_id, Trajectory.opened_on, Trajectory.closed_on,
                          Trajectory.outcome).where(
        Trajectory.programme_id.in_(programme_ids), Trajectory.opened_on <= period.last,
        or_(Trajectory.closed_on.is_(None), Trajectory.closed_on >= period.first)).cte("counted")
    measures = _measures(trajectories, period)
    goal_domains = select(Goal.trajectory_id, Goal.domain).distinct() \
        .where(Goal.trajectory_id.in_(select(trajectories.c.id))).cte("goal_domains")  # the counted ones only
    target_groups = _target_groups(db.session.get_bind().dialect.name, select(trajectories.c.client_id))
    with_client = trajectories.join(Client, Client.id == trajectories.c.client_id)

    def grouped(name: str, value, source):
        return select(literal(name, String).label("breakdown"), cast(value, String).label("value"), *measures) \
            .select_from(source).group_by(value)

    statement = union_all(
        select(literal("total", String).label("breakdown"), literal(None, String).label("value"), *measures)
        .select_from(trajectories),
        grouped("gender", Client.gender, with_client),
        grouped("legal_status", Client.legal_status, with_client),
        grouped("target_group", target_groups.c.value,
                trajectories.join(target_groups, target_groups.c.client_id == trajectories.c.client_id)),
        grouped("domain", goal_domains.c.domain,
                trajectories.join(goal_domains, goal_domains.c.trajectory_id == trajectories.c.id)),
    )
    found: dict = {"total": dict.fromkeys(COUNTS, 0)}
    for row in db.session.execute(statement):
        values = {name: int(row._mapping[name] or 0) for name in COUNTS}
        if row.breakdown == "total":
            found["total"] = values
        else:
            found.setdefault(row.breakdown, {})[row.value] = values
    return found


def _expected(programme_ids: list[int], period: Period) -> tuple[int | None, list[dict]]:
    per_year = dict(db.session.execute(
        select(ProgrammeTarget.year, func.sum(ProgrammeTarget.expected))
        .where(ProgrammeTarget.organisation_id.in_(programme_ids),
               ProgrammeTarget.year.between(period.first.year, period.last.year))
        .group_by(ProgrammeTarget.year)).all())
    if not per_year:
        return None, []
    share = sum(per_year.get(year, 0) * fraction for year, fraction in period.year_shares())
    return round(share), [{"year": year, "expected": int(total)} for year, total in sorted(per_year.items())]


def suppress(rows: list[dict], partition: bool, counts: tuple[str, ...] = COUNTS) -> list[dict]:
    """Cells below 5 become "<5"; in a partition, a column with one hidden cell hides its next
    smallest too, so that no hidden cell can be recovered from the exact total."""
    shown = [dict(row) for row in rows]
    for name in counts:
        hidden = [row for row in shown if row[name] < SMALL]
        if partition and len(hidden) == 1:
            others = sorted((row for row in shown if row[name] >= SMALL), key=lambda row: row[name])
            hidden += others[:1]
        for row in hidden:
            row[name] = SUPPRESSED
    return shown


def registration(programme_ids: list[int], period: Period, *, suppress_small: bool) -> dict:
    """The uniform registration over `programme_ids` (already checked against the user's scope)."""
    counts = _counts(programme_ids, period) if programme_ids else {"total": dict.fromkeys(COUNTS, 0)}
    expected, per_year = _expected(programme_ids, period) if programme_ids else (None, [])
    zero = dict.fromkeys(COUNTS, 0)
    breakdowns = {}
    for name, vocabulary in BREAKDOWNS.items():
        found = counts.get(name, {})
        rows = [{"value": member.value, **found.get(member.value, zero)} for member in vocabulary]
        breakdowns[name] = suppress(rows, name in PARTITIONS) if suppress_small else rows
    return {**counts["total"], "expected": expected, "expected_per_year": per_year,
            "programmes": len(programme_ids), "suppressed": suppress_small, "breakdowns": breakdowns}
