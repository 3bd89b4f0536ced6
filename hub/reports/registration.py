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
    String,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)

from hub.extensions import db
from hub.referrals.models import TrajectoryOutcome
from hub.reports import registration_facts
from hub.reports.models import ProgrammeTarget
from hub.reports.period import Period
from hub.reports.sql import plan_for_the_values
from hub.vocab import Gender, LegalStatus, LifeDomain, TargetGroup

OUTCOMES = tuple(TrajectoryOutcome)  # exited, dropped_out, moved, other: the columns after inflow
COUNTS = ("inflow", "exited", "dropped_out", "moved", "other", "still_in_trajectory", "unique_clients")
BREAKDOWNS = {"gender": Gender, "legal_status": LegalStatus, "target_group": TargetGroup, "domain": LifeDomain}
PARTITIONS = ("gender", "legal_status")  # each client in exactly one row: these add up to the total
SMALL = 5
SUPPRESSED = "<5"


def _any_bits(dialect: str, mask):
    """SQL (an aggregate): the bits set in `mask` on any row of the group (SQLite has no bit_or)."""
    if dialect == "postgresql":
        return func.bit_or(mask)
    return sum(func.max(mask.op("&")(1 << index)) for index in range(len(LifeDomain)))


def _first_of_client(facts, counted, *, look_up: bool):
    """SQL: 1 on a client's first counted trajectory (the lowest id), else 0: a window over the
    client's rows, or (`look_up`, for SQLite, whose windows cost more than the rest of the report)
    whether the client has a counted trajectory with a lower id, in the stored facts' client index
    (mostly none)."""
    if not look_up:
        first = func.min(facts.trajectory_id).over(partition_by=facts.client_id)
        return case((facts.trajectory_id == first, 1), else_=0)
    other = registration_facts.stored().alias("other").c
    earlier = select(literal(1)).where(other.client_id == facts.client_id, other.trajectory_id < facts.trajectory_id,
                                       *counted(other))
    return case((earlier.exists(), 0), else_=1)


def _counts(programme_ids: list[int], period: Period, live: bool) -> dict:
    """All counts, the headline and every breakdown, in one statement over one read of the counted
    trajectories' facts (hub/reports/registration_facts.py): the per-trajectory measures as 0/1, each
    client's first counted trajectory marked (unique clients are the marks summed); then grouped by the
    client's facts, by the trajectory's domains and by the domains of all of a client's counted
    trajectories (for the few clients with more than one, their masks OR-ed): a few hundred rows, which
    Python spreads over the breakdowns."""
    first, last = literal(period.first, Date), literal(period.last, Date)
    dialect = db.session.get_bind().dialect.name
    plan_for_the_values(db.session)
    facts = (registration_facts.live(dialect).subquery("live") if live else registration_facts.stored()).c
    opened, closed = facts.opened_on, facts.closed_on
    closed_in_period = and_(closed >= first, closed <= last)

    def flag(condition):
        return case((condition, 1), else_=0)

    def counted_ones(columns):  # every trajectory that counts anywhere ran at some time in the period
        return (columns.programme_id.in_(programme_ids), columns.opened_on <= period.last,
                or_(columns.closed_on.is_(None), columns.closed_on >= period.first))

    counted = select(
        facts.client_id, facts.gender, facts.legal_status, facts.target_groups, facts.domains,
        flag(opened >= first).label("inflow"),
        *(flag(and_(closed_in_period, facts.outcome == value.value)).label(value.value) for value in OUTCOMES),
        flag(or_(closed.is_(None), closed > last)).label("still_in_trajectory"),
        _first_of_client(facts, counted_ones, look_up=dialect == "sqlite" and not live).label("first_of_client"),
    ).where(*counted_ones(facts)).cte("counted")
    c = counted.c

    def grouped(level: str, source, mask, unique, by_client_facts=False):
        gender, legal_status = (source.c.gender, source.c.legal_status) if by_client_facts else (null(), null())
        sums = [(func.sum(source.c[name]) if level in ("client", "domains") else literal(0)).label(name)
                for name in COUNTS[:-1]]
        statement = select(literal(level, String).label("level"), gender.label("gender"),
                           legal_status.label("legal_status"), mask.label("mask"), *sums,
                           unique.label("unique_clients"))
        return statement.group_by(source.c.gender, source.c.legal_status, mask) if by_client_facts \
            else statement.group_by(mask)

    again = select(c.client_id).where(c.first_of_client == 0)  # clients with more than one: few
    several = select(c.client_id, _any_bits(dialect, c.domains).label("domains")).where(c.client_id.in_(again)) \
        .group_by(c.client_id).subquery("several")
    statement = union_all(
        grouped("client", counted, c.target_groups, func.sum(c.first_of_client), by_client_facts=True),
        grouped("domains", counted, c.domains, literal(0)),
        grouped("client_domains", counted, c.domains, func.count()).where(c.client_id.not_in(again)),
        grouped("client_domains", several, several.c.domains, func.count()),
    )
    found: dict = {"total": dict.fromkeys(COUNTS, 0), **{name: {} for name in BREAKDOWNS}}

    def add(cell: dict, values: dict) -> None:
        for name, value in values.items():
            cell[name] = cell.get(name, 0) + value

    for row in db.session.execute(statement):
        values = {name: int(row._mapping[name] or 0) for name in COUNTS}
        if row.level == "client":
            add(found["total"], values)
            add(found["gender"].setdefault(row.gender, {}), values)
            add(found["legal_status"].setdefault(row.legal_status, {}), values)
            for member in registration_facts.members(row.mask, TargetGroup):
                add(found["target_group"].setdefault(member.value, {}), values)
        elif row.level == "domains":
            del values["unique_clients"]
            for member in registration_facts.members(row.mask, LifeDomain):
                add(found["domain"].setdefault(member.value, {}), values)
        else:
            for member in registration_facts.members(row.mask, LifeDomain):
                add(found["domain"].setdefault(member.value, {}), {"unique_clients": values["unique_clients"]})
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


def registration(programme_ids: list[int], period: Period, *, suppress_small: bool, live: bool = False) -> dict:
    """The uniform registration over `programme_ids` (already checked against the user's scope). `live`:
    counted from trajectories, clients and goals themselves instead of the stored facts (the same numbers)."""
    counts = _counts(programme_ids, period, live) if programme_ids else {"total": dict.fromkeys(COUNTS, 0)}
    expected, per_year = _expected(programme_ids, period) if programme_ids else (None, [])
    zero = dict.fromkeys(COUNTS, 0)
    breakdowns = {}
    for name, vocabulary in BREAKDOWNS.items():
        found = counts.get(name, {})
        rows = [{"value": member.value, **zero, **found.get(member.value, {})} for member in vocabulary]
        breakdowns[name] = suppress(rows, name in PARTITIONS) if suppress_small else rows
    return {**counts["total"], "expected": expected, "expected_per_year": per_year,
            "programmes": len(programme_ids), "suppressed": suppress_small, "breakdowns": breakdowns}
