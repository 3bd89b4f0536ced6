"""Retention, the scheduler's nightly job: forget on time.

- A client whose trajectories all closed longer ago than HUB_RETENTION_MONTHS (default 24) is
  anonymised (`service.anonymise`), as is one whose handoff ended (declined or withdrawn) that long
  ago without a trajectory ever opening: the story of a declined handoff is not kept forever.
- Erasure requests held by a legal hold are carried out once the hold is lifted and no trajectory
  is open.
- The audit trail is removed after HUB_AUDIT_RETENTION_YEARS (default 5), in batches. The database
  refuses to delete younger events itself (trigger, migration "client rights").
A legal hold on a client stops all three for that client.

A plain function of `now`, idempotent (what is done no longer matches), claiming its rows with
FOR UPDATE SKIP LOCKED (on SQLite: its write lock, taken before the select), committing per
batch so a long first run does not hold locks for long.
"""
from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, exists, func, or_, select

from hub.audit.models import AuditAction, AuditEvent, AuditEventSubject
from hub.audit.service import record
from hub.clock import AMSTERDAM, local_today
from hub.extensions import db
from hub.referrals.models import Client, Handoff, HandoffStatus, Trajectory
from hub.rights.models import ErasureRequest, ErasureStatus
from hub.rights.service import anonymise, carry_out_held_requests

BATCH = 200
AUDIT_BATCH = 5000
# The job's clock may run a little ahead of the database's, whose clock the trigger reads: a day's
# margin keeps the job from asking for a row the trigger must refuse (which would fail the batch).
CLOCK_MARGIN = timedelta(days=1)


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day where it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def _claim(statement, *of):
    """Lock the rows this job works on, skipping those another scheduler holds (PostgreSQL); SQLite cannot
    say FOR UPDATE and takes its write lock before the select instead (hub/connections.py)."""
    return statement.with_for_update(skip_locked=True, of=of)


def expired_clients(now: datetime, months: int):
    """The select of clients whose data has passed the retention period (not yet anonymised, no hold)."""
    cutoff = months_before(local_today(now), months)  # Dutch days, as the trajectory's dates are
    cutoff_moment = datetime.combine(cutoff, datetime.min.time(), tzinfo=AMSTERDAM)
    has_trajectory = exists().where(Trajectory.client_id == Client.id)
    trajectories_done = and_(has_trajectory, ~exists().where(
        Trajectory.client_id == Client.id, or_(Trajectory.closed_on.is_(None), Trajectory.closed_on >= cutoff)))
    ended = (HandoffStatus.DECLINED, HandoffStatus.WITHDRAWN)
    handoffs_done = and_(~has_trajectory, exists().where(Handoff.client_id == Client.id), ~exists().where(
        Handoff.client_id == Client.id,
        or_(Handoff.status.not_in(ended), func.coalesce(Handoff.declined_at, Handoff.submitted_at) >= cutoff_moment)))
    return (select(Client).where(Client.anonymised_at.is_(None), Client.legal_hold_since.is_(None),
                                 or_(trajectories_done, handoffs_done))
            .order_by(Client.id))


def anonymise_expired(now: datetime, months: int) -> int:
    done, last_id = 0, 0
    while True:
        clients = db.session.scalars(_claim(expired_clients(now, months).where(Client.id > last_id).limit(BATCH),
                                            Client)).all()
        for client in clients:
            anonymise(client, now)
            record("rights:retention:anonymised", AuditAction.DELETE, object_type="client", object_id=client.id,
                   client_id=client.id, ground="retention", detail=f"retention_months={months}")
        db.session.commit()
        done += len(clients)
        if len(clients) < BATCH:
            return done
        last_id = clients[-1].id


def carry_out_released_requests(now: datetime) -> int:
    """Held erasure requests whose legal hold was lifted (and whose trajectory has closed since)."""
    waiting = (select(Client).where(
        Client.legal_hold_since.is_(None),
        exists().where(ErasureRequest.client_id == Client.id, ErasureRequest.status == ErasureStatus.HELD),
        ~exists().where(Trajectory.client_id == Client.id, Trajectory.closed_on.is_(None))).order_by(Client.id))
    done = 0
    for client in db.session.scalars(_claim(waiting, Client)).all():
        done += bool(carry_out_held_requests(client, now))
    db.session.commit()
    return done


def remove_old_audit_events(now: datetime, years: int) -> int:
    """Delete the audit events older than `years` (with the subjects of list reads), except those
    of clients under a legal hold, named on the event or listed in it."""
    cutoff = years_before(now, years) - CLOCK_MARGIN
    held = select(Client.id).where(Client.legal_hold_since.is_not(None))
    lists_a_held_client = select(AuditEventSubject.event_id).where(AuditEventSubject.client_id.in_(held))
    removed = 0
    while True:
        ids = db.session.scalars(_claim(
            select(AuditEvent.id).where(AuditEvent.occurred_at < cutoff,
                                        or_(AuditEvent.client_id.is_(None), AuditEvent.client_id.not_in(held)),
                                        AuditEvent.id.not_in(lists_a_held_client))
            .order_by(AuditEvent.id).limit(AUDIT_BATCH), AuditEvent)).all()
        if ids:
            db.session.execute(delete(AuditEventSubject).where(AuditEventSubject.event_id.in_(ids))
                               .execution_options(synchronize_session=False))
            db.session.execute(delete(AuditEvent).where(AuditEvent.id.in_(ids))
                               .execution_options(synchronize_session=False))
        db.session.commit()
        removed += len(ids)
        if len(ids) < AUDIT_BATCH:
            return removed


def apply_retention(now: datetime) -> dict[str, int]:
    """The nightly job: anonymise what has passed its retention, carry out released erasure
    requests, remove the audit trail past its period. Returns what it did."""
    config = current_app.config["HUB"]
    return {"anonymised": anonymise_expired(now, config.retention_months),
            "erasures_carried_out": carry_out_released_requests(now),
            "audit_events_removed": remove_old_audit_events(now, config.audit_retention_years)}
