"""Bottlenecks: where clients lose days waiting, and on whose side.

Client-days lost to waiting, per partner: for every referral, the part of its wait (from the request
until the help started; until it was closed unstarted; or until now) that falls in the period.
Whose side the days were on comes from the status events: time a referral spent on hold with reason
`client` or `consent` is on the client's side, with reason `municipality_decision` on the
municipality's, and the rest of the waiting on the partner's (received, waiting list, intake to be
held, on hold for the partner). The on-hold stretches are found with LEAD over each referral's
events in occurred_at order. Escalations count by the day they were raised. All of it is summed in
SQL per partner and calendar month (cut to the period), per partner, per month and in total.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, and_, case, func, literal, null, select, union_all

from hub.extensions import db
from hub.partners.models import Organisation
from hub.referrals.service_referral_models import (
    Escalation,
    HoldReason,
    ServiceReferral,
    ServiceReferralEvent,
    Status,
)
from hub.reports import scope
from hub.reports.period import Period
from hub.reports.sql import days_since_epoch, epoch_days, greatest, least, overlap

CLIENT_SIDE = (HoldReason.CLIENT.value, HoldReason.CONSENT.value)
MUNICIPALITY_SIDE = (HoldReason.MUNICIPALITY_DECISION.value,)
RANKINGS = ("waiting_days", "partner_days", "escalations")
MEASURES = ("waiting_days", "partner_days", "client_days", "municipality_days", "escalations")


def _months(period: Period, now: datetime):
    """SQL: the months of the period up to now, as rows (month, m_start, m_end) in epoch days."""
    rows = [select(literal(label, String).label("month"), literal(days_since_epoch(start)).label("m_start"),
                   literal(days_since_epoch(end)).label("m_end"))
            for label, start, end in period.months() if start < now]
    return union_all(*rows).cte("months") if len(rows) > 1 else rows[0].cte("months") if rows else None


def _facts(user, period: Period, now: datetime):
    """SQL: one row per (referral or escalation, month) with the days and escalations it adds."""
    months = _months(period, now)
    if months is None:
        return None
    in_scope = scope.referrals(user)
    waits = select(
        ServiceReferral.id.label("id"), ServiceReferral.organisation_id.label("partner"),
        epoch_days(ServiceReferral.requested_at).label("w_start"),
        func.coalesce(epoch_days(ServiceReferral.started_at), epoch_days(ServiceReferral.closed_at),
                      literal(days_since_epoch(now))).label("w_end"),
    ).where(in_scope, ServiceReferral.requested_at < period.end).cte("waits")
    event_day = epoch_days(ServiceReferralEvent.occurred_at)
    segments = select(
        ServiceReferralEvent.service_referral_id.label("id"), ServiceReferralEvent.to_status.label("status"),
        ServiceReferralEvent.reason.label("reason"), event_day.label("s_start"),
        func.lead(event_day).over(partition_by=ServiceReferralEvent.service_referral_id,
                                  order_by=(ServiceReferralEvent.occurred_at, ServiceReferralEvent.id))
        .label("s_next"),
    ).where(ServiceReferralEvent.service_referral_id.in_(select(waits.c.id))).cte("segments")
    holds = select(
        waits.c.partner,
        case((segments.c.reason.in_(CLIENT_SIDE), "client"), else_="municipality").label("side"),
        segments.c.s_start.label("h_start"),
        least(func.coalesce(segments.c.s_next, waits.c.w_end), waits.c.w_end).label("h_end"),
    ).join(segments, segments.c.id == waits.c.id).where(
        segments.c.status == Status.ON_HOLD, segments.c.reason.in_(CLIENT_SIDE + MUNICIPALITY_SIDE)).cte("holds")

    def meets(start, end):
        return and_(start < months.c.m_end, end > months.c.m_start)

    zero = literal(0.0)
    waiting = overlap(waits.c.w_start, waits.c.w_end, months.c.m_start, months.c.m_end)
    held = overlap(holds.c.h_start, holds.c.h_end, months.c.m_start, months.c.m_end)
    raised_day = epoch_days(Escalation.raised_at)
    return union_all(
        select(waits.c.partner, months.c.month, waiting.label("waiting"), zero.label("client"),
               zero.label("municipality"), literal(0).label("escalations"))
        .select_from(waits.join(months, meets(waits.c.w_start, waits.c.w_end))),
        select(holds.c.partner, months.c.month, zero, case((holds.c.side == "client", held), else_=zero),
               case((holds.c.side == "municipality", held), else_=zero), literal(0))
        .select_from(holds.join(months, meets(holds.c.h_start, holds.c.h_end))),
        select(ServiceReferral.organisation_id, months.c.month, zero, zero, zero, literal(1))
        .select_from(Escalation).join(ServiceReferral, ServiceReferral.id == Escalation.service_referral_id)
        .join(months, and_(raised_day >= months.c.m_start, raised_day < months.c.m_end))
        .where(in_scope, Escalation.raised_at >= period.start, Escalation.raised_at < period.end),
    ).cte("facts")


def _measures(facts) -> dict:
    waiting, client, municipality = (func.sum(facts.c.waiting), func.sum(facts.c.client),
                                     func.sum(facts.c.municipality))
    return {"waiting_days": waiting.label("waiting_days"),
            "partner_days": greatest(0.0, waiting - client - municipality).label("partner_days"),
            "client_days": client.label("client_days"), "municipality_days": municipality.label("municipality_days"),
            "escalations": func.sum(facts.c.escalations).label("escalations")}


def _values(row) -> dict:
    return {name: (int(row[name] or 0) if name == "escalations" else round(float(row[name] or 0), 1))
            for name in MEASURES}


def bottlenecks(user, period: Period, now: datetime, rank_by: str = "waiting_days") -> dict:
    """Partners ranked by client-days lost to waiting (or by partner-side days, or escalations),
    each with its months; the months of all partners together; and the totals."""
    labels = [label for label, start, _end in period.months() if start < now]
    empty = dict.fromkeys(MEASURES, 0)
    result = {"items": [], "months": [{"month": label, **empty} for label in labels], "totals": dict(empty)}
    facts = _facts(user, period, now)
    if facts is None:
        return result
    measures = _measures(facts)
    then_by = "escalations" if rank_by == "waiting_days" else "waiting_days"
    ranked = (select(facts.c.partner, Organisation.name, *measures.values())
              .join(Organisation, Organisation.id == facts.c.partner)
              .group_by(facts.c.partner, Organisation.name)
              .order_by(measures[rank_by].desc(), measures[then_by].desc(), Organisation.name, facts.c.partner))
    items = {row.partner: {"organisation_id": row.partner, "organisation_name": row.name, **_values(row._mapping),
                           "months": [{"month": label, **empty} for label in labels]}
             for row in db.session.execute(ranked)}
    monthly = union_all(
        select(facts.c.partner, facts.c.month, *measures.values()).group_by(facts.c.partner, facts.c.month),
        select(null().label("partner"), facts.c.month, *measures.values()).group_by(facts.c.month),
        select(null().label("partner"), null().label("month"), *measures.values()),
    )
    position = {label: index for index, label in enumerate(labels)}
    for row in db.session.execute(monthly):
        values = _values(row._mapping)
        if row.month is None:
            result["totals"] = values
        elif row.partner is None:
            result["months"][position[row.month]].update(values)
        else:
            items[row.partner]["months"][position[row.month]].update(values)
    result["items"] = list(items.values())
    return result

