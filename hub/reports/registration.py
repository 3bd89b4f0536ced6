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

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)

from hub.extensions import db
from hub.referrals.models import Client, Goal, Trajectory, TrajectoryOutcome
from hub.reports.models import ProgrammeTarget
from hub.reports.period import Period
from hub.vocab import Gender, LegalStatus, LifeDomain, TargetGroup

OUTCOMES = tuple(TrajectoryOutcome)  # exited, dropped_out, moved, other: the columns after inflow
COUNTS = ("inflow", "exited", "dropped_out", "moved", "other", "still_in_trajectory", "unique_clients")
BREAKDOWNS = {"gender": Gender, "legal_status": LegalStatus, "target_group": TargetGroup, "domain": LifeDomain}
PARTITIONS = ("gender", "legal_status")  # each client in exactly one row: these add up to the total
SMALL = 5
SUPPRESSED = "<5"


def _bits(column, vocabulary):
    """SQL: the bit of `column`'s value in `vocabulary` (1 for the first member, 2, 4, ...; NULL for
    anything else)."""
    return case(*((column == member.value, 1 << index) for index, member in enumerate(vocabulary)))


def _target_group_mask(dialect: str):
    """SQL (per client row): the client's target groups as one integer, a bit per group of the
    vocabulary, read from the JSON list once (a value listed twice counts once)."""
    if dialect == "postgresql":
        element = func.json_array_elements_text(Client.target_groups).table_valued("value").alias("tg")
    else:
        element = func.json_each(Client.target_groups).table_valued("value").alias("tg")
    bits = _bits(cast(element.c.value, String), TargetGroup)
    return func.coalesce(select(func.sum(bits.distinct())).select_from(element).scalar_subquery(), 0)


def _counts(programme_ids: list[int], period: Period) -> dict:
    """All counts, the headline and every breakdown, in one statement over one pass: the counted
    trajectories are joined once to their client's facts (gender, legal position, the target groups
    as a bit mask) and their goals' life domains (a bit mask), then each breakdown is a small
    aggregate over those facts."""
    first, last = literal(period.first, Date), literal(period.last, Date)
    dialect = db.session.get_bind().dialect.name
    opened, closed, outcome = Trajectory.opened_on, Trajectory.closed_on, Trajectory.outcome
    goal_domains = select(func.sum(_bits(Goal.domain, LifeDomain).distinct())) \
        .where(Goal.trajectory_id == Trajectory.id).scalar_subquery()  # from the index on (trajectory, domain)
    closed_in_period = and_(closed >= first, closed <= last)

    def flag(condition):
        return case((condition, 1), else_=0)

    facts = select(
        Trajectory.client_id, Client.gender, Client.legal_status,
        _target_group_mask(dialect).label("groups"), func.coalesce(goal_domains, 0).label("domains"),
        flag(opened >= first).label("inflow"),
        *(flag(and_(closed_in_period, outcome == value.value)).label(value.value) for value in OUTCOMES),
        flag(or_(closed.is_(None), closed > last)).label("still_in_trajectory"),
    ).join(Client, Client.id == Trajectory.client_id).where(
        # Every trajectory that counts anywhere ran at some time in the period.
        Trajectory.programme_id.in_(programme_ids), opened <= period.last,
        or_(closed.is_(None), closed >= period.first)).cte("facts")

    def measures():
        return (*(func.coalesce(func.sum(facts.c[name]), 0).label(name) for name in COUNTS[:-1]),
                func.count(facts.c.client_id.distinct()).label("unique_clients"))

    def grouped(name: str, value, where=()):
        return select(literal(name, String).label("breakdown"), cast(value, String).label("value"), *measures()) \
            .where(*where).group_by(value)

    def per_member(name: str, mask, vocabulary):  # a row in every member's group whose bit is set
        members = union_all(*(select(literal(member.value, String).label("value"),
                                     literal(1 << index, Integer).label("bit"))
                              for index, member in enumerate(vocabulary))).subquery(f"{name}_members")
        return select(literal(name, String).label("breakdown"), members.c.value, *measures()) \
            .select_from(facts).join(members, mask.op("&")(members.c.bit) != 0).group_by(members.c.value)

    statement = union_all(
        select(literal("total", String).label("breakdown"), literal(None, String).label("value"), *measures()),
        grouped("gender", facts.c.gender),
        grouped("legal_status", facts.c.legal_status),
        per_member("target_group", facts.c.groups, TargetGroup),
        per_member("domain", facts.c.domains, LifeDomain),
    )
    found: dict = {"total": dict.fromkeys(COUNTS, 0)}
    for row in db.session.execute(statement):
        counts = {name: int(row._mapping[name] or 0) for name in COUNTS}
        if row.breakdown == "total":
            found["total"] = counts
        else:
            found.setdefault(row.breakdown, {})[row.value] = counts
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
