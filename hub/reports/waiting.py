"""Waiting times per partner organisation or per life domain.

For a period: how many referrals were requested, and over those of them that have started (by now),
the median and 90th percentile of the days from request to start (`started_at`, the first
in_progress), as continuous percentiles. Now: how many open referrals have not started, and the
longest of those current waits.

PostgreSQL computes the percentiles with `percentile_cont`; SQLite has no such aggregate, so there
the same numbers come from window functions: each value's rank and its group's size, then the linear
interpolation `percentile_cont` performs, between the ranks 1 + p * (n - 1) rounds down and up to.
Everything is aggregated in the database; Python only receives one row per group.
"""
from __future__ import annotations

from datetime import datetime
from fractions import Fraction

from sqlalchemy import and_, case, func, literal, select

from hub.extensions import db
from hub.partners.models import Organisation
from hub.referrals.service_referral_models import ServiceReferral
from hub.referrals.workflow import OPEN
from hub.reports import scope
from hub.reports.period import Period
from hub.reports.sql import days_since_epoch, epoch_days
from hub.vocab import LifeDomain

GROUPS = ("organisation", "domain")
PERCENTILES = {"median_days": Fraction(1, 2), "p90_days": Fraction(9, 10)}
LONGEST_SHOWN = 5


def _key(group_by: str):
    return ServiceReferral.organisation_id if group_by == "organisation" else ServiceReferral.domain


def _wait_days():
    return epoch_days(ServiceReferral.started_at) - epoch_days(ServiceReferral.requested_at)


def _period_statistics_postgresql(where, key):
    days = _wait_days()
    return select(key.label("key"), func.count().label("count"),
                  func.count(ServiceReferral.started_at).label("started"),
                  *(func.percentile_cont(float(p)).within_group(days).label(name)
                    for name, p in PERCENTILES.items())).where(*where).group_by(key)


def _period_statistics_windowed(where, key):
    """percentile_cont by hand: rank the started waits in each group, then interpolate."""
    days = _wait_days()  # NULL for a referral that has not started: ranked after the others
    ranked = select(
        key.label("key"), days.label("days"),
        func.row_number().over(partition_by=key, order_by=(ServiceReferral.started_at.is_(None), days))
        .label("rank"),
        func.count(ServiceReferral.started_at).over(partition_by=key).label("n"),
    ).where(*where).cte("ranked")

    def percentile(p: Fraction):
        # 0-based position (n - 1) * p = whole + part / denominator, in exact integer arithmetic.
        position = (ranked.c.n - 1) * p.numerator
        whole = position // p.denominator
        part = (position % p.denominator) * 1.0 / p.denominator
        return func.sum(case(
            (and_(ranked.c.days.is_not(None), ranked.c.rank == whole + 1), ranked.c.days * (1 - part)),
            (and_(ranked.c.days.is_not(None), ranked.c.rank == whole + 2), ranked.c.days * part),
        ))

    return select(ranked.c.key, func.count().label("count"), func.max(ranked.c.n).label("started"),
                  *(percentile(p).label(name) for name, p in PERCENTILES.items())).group_by(ranked.c.key)


def _current_waits(in_scope, key, now: datetime):
    """The open referrals that have not started: their number and the longest waits, per group."""
    waiting = select(
        key.label("key"),
        (literal(days_since_epoch(now)) - epoch_days(ServiceReferral.requested_at)).label("days"),
        func.row_number().over(partition_by=key, order_by=(ServiceReferral.requested_at, ServiceReferral.id))
        .label("rank"),
        func.count().over(partition_by=key).label("n"),
    ).where(in_scope, ServiceReferral.status.in_(OPEN), ServiceReferral.started_at.is_(None)).cte("waiting")
    return select(waiting.c.key, waiting.c.n, waiting.c.days).where(waiting.c.rank <= LONGEST_SHOWN) \
        .order_by(waiting.c.key, waiting.c.rank)


def measured_per_organisation(organisation_ids: list[int], since: datetime, now: datetime) -> dict[int, dict]:
    """For the directory: per partner, the median wait of the referrals requested since `since` that
    have started, and how many wait now. The same SQL as the reports, without a user's scope."""
    if not organisation_ids:
        return {}
    key = ServiceReferral.organisation_id
    mine = ServiceReferral.organisation_id.in_(organisation_ids)
    where = (mine, ServiceReferral.requested_at >= since)
    statistics = (_period_statistics_postgresql if db.session.get_bind().dialect.name == "postgresql"
                  else _period_statistics_windowed)(where, key)
    found: dict[int, dict] = {}
    for row in db.session.execute(statistics):
        if row.started:
            found.setdefault(row.key, {"waiting_now": 0})["median_days"] = row.median_days
    for row in db.session.execute(_current_waits(mine, key, now)):
        found.setdefault(row.key, {"median_days": None})["waiting_now"] = row.n
    return found


def waiting_times(user, group_by: str, period: Period, now: datetime) -> list[dict]:
    """Per partner organisation (or life domain) the user may see: requests in the period, the median
    and 90th percentile wait of those that started, and the current waits."""
    key = _key(group_by)
    in_scope = scope.referrals(user)
    where = (in_scope, ServiceReferral.requested_at >= period.start, ServiceReferral.requested_at < period.end)
    statistics = (_period_statistics_postgresql if db.session.get_bind().dialect.name == "postgresql"
                  else _period_statistics_windowed)(where, key)
    groups: dict = {}

    def group(value) -> dict:
        return groups.setdefault(value, {"count": 0, "started": 0, "median_days": None, "p90_days": None,
                                         "open_waiting": 0, "longest_current_waits": []})

    for row in db.session.execute(statistics):
        group(row.key).update(count=row.count, started=row.started or 0,
                              median_days=row.median_days, p90_days=row.p90_days)
    for row in db.session.execute(_current_waits(in_scope, key, now)):
        entry = group(row.key)
        entry["open_waiting"] = row.n
        entry["longest_current_waits"].append(round(row.days, 1))
    if group_by == "domain":
        order = {domain: index for index, domain in enumerate(LifeDomain)}
        return [{"domain": LifeDomain(value), **values}
                for value, values in sorted(groups.items(), key=lambda item: order[LifeDomain(item[0])])]
    names = dict(db.session.execute(select(Organisation.id, Organisation.name)
                                    .where(Organisation.id.in_(list(groups)))).all()) if groups else {}
    return sorted(({"organisation_id": value, "organisation_name": names.get(value, ""), **values}
                   for value, values in groups.items()),
                  key=lambda item: (item["organisation_name"].lower(), item["organisation_id"]))
