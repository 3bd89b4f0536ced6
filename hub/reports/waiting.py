"""Waiting times per partner organisation or per life domain.

For a period: how many referrals were requested, and over those of them that have started (by now),
the median and 90th percentile of the wait, in whole Dutch calendar days from the request's day to
the start's day (`started_at`, the first in_progress; hub/reports/percentiles.py), as continuous
percentiles. Now: how many open referrals have not started, and the longest of those current waits
(whole days from the request's day to today).

The period's numbers come from `waiting_day_counts` (hub/reports/models.py): per programme, partner,
life domain, day of request and whole days waited, how many referrals; the database's triggers keep
it right on every write. Per group: the counts summed per day value, their running totals, and the
values at the two ranks `percentile_cont` interpolates between, in one statement that reads a few
thousand rows where the referrals are a million. The live computation over the referrals themselves
(hub/reports/waiting_live.py) must give the same numbers; `live=True` asks for it. The current waits
are read live, through partial indexes that hold only the referrals that wait: counted per partner and
domain from the index, and the longest few of each partner and domain read from the index's start.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Date, Integer, and_, case, cast, func, literal, select, true
from sqlalchemy.orm import aliased

from hub.extensions import db
from hub.partners.models import Organisation
from hub.referrals.service_referral_models import ServiceReferral
from hub.reports import scope, waiting_live
from hub.reports.models import WaitingDayCount
from hub.reports.percentiles import PERCENTILES, continuous
from hub.reports.period import AMSTERDAM, Period
from hub.reports.sql import days_between, dutch_date, plan_for_the_values
from hub.vocab import LifeDomain

GROUPS = ("organisation", "domain")
LONGEST_SHOWN = 5


def counted_statistics(where, key):
    """SQL: per `key` over the day counts `where` selects: count, started, median_days, p90_days."""
    counts = WaitingDayCount
    # First in the key's order (streams through the key or the coach's index), then per group.
    read = (counts.organisation_id, counts.domain, counts.started, counts.wait_days)
    per_partner = select(*read, func.sum(counts.referrals).label("referrals")).where(*where).group_by(*read) \
        .cte("per_partner")
    grouped = per_partner.c[key.name]
    per_value = select(grouped.label("key"), per_partner.c.started, per_partner.c.wait_days,
                       func.sum(per_partner.c.referrals).label("referrals")) \
        .group_by(grouped, per_partner.c.started, per_partner.c.wait_days).cte("per_value")
    started = per_value.c.started == True  # noqa: E712  (SQL)
    running = select(
        per_value,
        func.sum(per_value.c.referrals).over(partition_by=(per_value.c.key, per_value.c.started),
                                             order_by=per_value.c.wait_days).label("up_to"),
        cast(func.sum(case((started, per_value.c.referrals))).over(partition_by=per_value.c.key), Integer)
        .label("n"),
    ).cte("running")
    is_started = running.c.started == True  # noqa: E712

    def value_at(position):  # the value at 0-based `position`: the first whose running total passes it
        return func.min(case((and_(is_started, running.c.up_to > position), running.c.wait_days)))

    return select(running.c.key, func.sum(running.c.referrals).label("count"),
                  func.max(running.c.n).label("started"),
                  *(continuous(p, running.c.n, value_at).label(name) for name, p in PERCENTILES.items())) \
        .group_by(running.c.key)


def _period_statistics(in_scope_of, group_by: str, first, last, live: bool):
    if live:
        key = ServiceReferral.organisation_id if group_by == "organisation" else ServiceReferral.domain
        where = (in_scope_of(ServiceReferral), ServiceReferral.requested_at >= Period(first, last).start,
                 ServiceReferral.requested_at < Period(first, last).end)
        return waiting_live.period_statistics(where, key)
    key = WaitingDayCount.organisation_id if group_by == "organisation" else WaitingDayCount.domain
    return counted_statistics((in_scope_of(WaitingDayCount), WaitingDayCount.requested_on.between(first, last)), key)


def _current_waits(in_scope_of, group_by: str, now: datetime) -> dict:
    """The referrals waiting now, per group: {value: (their number, the longest waits in days)}.
    Waiting now: no start and no closing time (a closed referral never reopens), the partial indexes'
    very condition. Counted per partner and life domain from the index alone; then, per partner and
    domain, the few longest waits read from the start of the index (a LIMIT each: LATERAL on
    PostgreSQL, a correlated IN on SQLite), merged per group here: a few dozen index entries, however
    many wait."""
    def waiting(referral):
        return in_scope_of(referral), referral.started_at.is_(None), referral.closed_at.is_(None)

    cells = select(ServiceReferral.organisation_id, ServiceReferral.domain, func.count().label("n")) \
        .where(*waiting(ServiceReferral)).group_by(ServiceReferral.organisation_id, ServiceReferral.domain) \
        .cte("cells")
    today = literal(now.astimezone(AMSTERDAM).date(), Date)
    inner = aliased(ServiceReferral)
    oldest = select(inner.id).where(*waiting(inner), inner.organisation_id == cells.c.organisation_id,
                                    inner.domain == cells.c.domain) \
        .order_by(inner.requested_at, inner.id).limit(LONGEST_SHOWN)
    if db.session.get_bind().dialect.name == "postgresql":
        longest = oldest.add_columns(inner.requested_at).lateral("longest")
        read, joined = (longest.c.id, longest.c.requested_at), cells.join(longest, true())
    else:
        read, joined = (ServiceReferral.id, ServiceReferral.requested_at), \
            cells.join(ServiceReferral, ServiceReferral.id.in_(oldest))
    days = days_between(dutch_date(read[1]), today)
    found: dict = {}
    seen = set()
    for row in db.session.execute(select(cells.c.organisation_id, cells.c.domain, cells.c.n, *read, days.label("days"))
                                  .select_from(joined)):
        entry = found.setdefault(row.organisation_id if group_by == "organisation" else row.domain, [0, []])
        if (row.organisation_id, row.domain) not in seen:
            seen.add((row.organisation_id, row.domain))
            entry[0] += row.n
        entry[1].append((row.requested_at, row.id, int(row.days)))
    return {value: (n, [days for _at, _id, days in sorted(waits)[:LONGEST_SHOWN]])
            for value, (n, waits) in found.items()}


def measured_per_organisation(organisation_ids: list[int], since: datetime, now: datetime) -> dict[int, dict]:
    """For the directory: per partner, the median wait of the referrals requested from the Dutch day of
    `since` up to today that have started, and how many wait now. The same numbers as the reports,
    without a user's scope."""
    if not organisation_ids:
        return {}

    def mine(of):
        return of.organisation_id.in_(organisation_ids)

    first, last = since.astimezone(AMSTERDAM).date(), now.astimezone(AMSTERDAM).date()
    plan_for_the_values(db.session)
    found: dict[int, dict] = {}
    for row in db.session.execute(_period_statistics(mine, "organisation", first, last, live=False)):
        if row.started:
            found.setdefault(row.key, {"waiting_now": 0})["median_days"] = row.median_days
    for partner, (n, _longest) in _current_waits(mine, "organisation", now).items():
        found.setdefault(partner, {"median_days": None})["waiting_now"] = n
    return found


def waiting_times(user, group_by: str, period: Period, now: datetime, *, live: bool = False) -> list[dict]:
    """Per partner organisation (or life domain) the user may see: requests in the period, the median
    and 90th percentile wait of those that started, and the current waits. `live`: the period's
    numbers computed from the referrals themselves instead of the day counts (the same numbers)."""
    in_scope_of = scope.referrals_of(user, db.session)
    groups: dict = {}

    def group(value) -> dict:
        return groups.setdefault(value, {"count": 0, "started": 0, "median_days": None, "p90_days": None,
                                         "open_waiting": 0, "longest_current_waits": []})

    plan_for_the_values(db.session)
    statistics = _period_statistics(in_scope_of, group_by, period.first, period.last, live)
    for row in db.session.execute(statistics):
        group(row.key).update(count=int(row.count), started=int(row.started or 0),
                              median_days=row.median_days, p90_days=row.p90_days)
    for value, (n, longest) in _current_waits(in_scope_of, group_by, now).items():
        group(value).update(open_waiting=n, longest_current_waits=longest)
    if group_by == "domain":
        order = {domain: index for index, domain in enumerate(LifeDomain)}
        return [{"domain": LifeDomain(value), **values}
                for value, values in sorted(groups.items(), key=lambda item: order[LifeDomain(item[0])])]
    names = dict(db.session.execute(select(Organisation.id, Organisation.name)
                                    .where(Organisation.id.in_(list(groups)))).all()) if groups else {}
    return sorted(({"organisation_id": value, "organisation_name": names.get(value, ""), **values}
                   for value, values in groups.items()),
                  key=lambda item: (item["organisation_name"].lower(), item["organisation_id"]))

