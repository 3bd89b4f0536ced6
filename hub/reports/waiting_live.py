"""The waiting-time statistics computed live from the service referrals themselves: what the
waiting day counts must always agree with (tests/test_reports_waiting_counts.py) and what the
benchmark compares them with (bench/run.py). Not used to answer users: over a million referrals it
takes seconds, the counts milliseconds.

PostgreSQL computes the percentiles with `percentile_cont`; SQLite has no such aggregate, so there
they come from each wait's rank and its group's size (hub/reports/percentiles.py).
"""
from __future__ import annotations

from sqlalchemy import Select, and_, case, func, select

from hub.extensions import db
from hub.referrals.service_referral_models import ServiceReferral
from hub.reports.percentiles import PERCENTILES, continuous, wait_days
from hub.reports.sql import dutch_date


def _days():
    return wait_days(ServiceReferral.requested_at, ServiceReferral.started_at)


def _postgresql(where, key) -> Select:
    return select(key.label("key"), func.count().label("count"),
                  func.count(ServiceReferral.started_at).label("started"),
                  *(func.percentile_cont(float(p)).within_group(_days()).label(name)
                    for name, p in PERCENTILES.items())).where(*where).group_by(key)


def _windowed(where, key) -> Select:
    days = _days()  # NULL for a referral that has not started: ranked after the others
    ranked = select(
        key.label("key"), days.label("days"),
        func.row_number().over(partition_by=key, order_by=(ServiceReferral.started_at.is_(None), days))
        .label("rank"),
        func.count(ServiceReferral.started_at).over(partition_by=key).label("n"),
    ).where(*where).cte("ranked")

    def value_at(position):
        return func.max(case((and_(ranked.c.days.is_not(None), ranked.c.rank == position + 1), ranked.c.days)))

    return select(ranked.c.key, func.count().label("count"), func.max(ranked.c.n).label("started"),
                  *(continuous(p, ranked.c.n, value_at).label(name) for name, p in PERCENTILES.items())) \
        .group_by(ranked.c.key)


def period_statistics(where, key) -> Select:
    """SQL: per `key` over the referrals `where` selects: count, started, median_days, p90_days."""
    dialect = db.session.get_bind().dialect.name
    return (_postgresql if dialect == "postgresql" else _windowed)(where, key)


def day_counts() -> Select:
    """SQL: the rows `waiting_day_counts` must hold, counted afresh from the service referrals."""
    started = ServiceReferral.started_at.is_not(None)
    key = (ServiceReferral.organisation_id, dutch_date(ServiceReferral.requested_at), ServiceReferral.programme_id,
           ServiceReferral.domain, started, func.coalesce(_days(), 0))
    return select(*key, func.count()).group_by(*key)


def rebuild_day_counts(connection) -> int:
    """Count `waiting_day_counts` afresh (after a bulk load that bypassed the triggers). Returns the rows."""
    from hub.reports.models import WaitingDayCount

    table = WaitingDayCount.__table__
    connection.execute(table.delete())
    columns = ["organisation_id", "requested_on", "programme_id", "domain", "started", "wait_days", "referrals"]
    return connection.execute(table.insert().from_select(columns, day_counts())).rowcount
