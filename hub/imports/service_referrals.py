"""`hub import service-referrals`: a programme's history of referrals to chain partners.

Natural key: programme + client_ref + partner + domain + requested_on (the unique index
`uq_service_referrals_imported` over client, partner, domain and requested_at). The client must have
been imported with the trajectories first: the service-referral file does not say who the client is.

Each date becomes the moment that day began in the Netherlands (as the reports count days) and a
status event, as the live workflow records them: requested, received, intake_scheduled, in_progress
(`started_at`: the wait ends), completed or rejected (`closed_at`). A referral without an end is
imported open, in its last status, and counts as a current wait in the reports; it has no
escalation clock (no `sla_clocks` row), so the sweep never raises anything for it
until a partner records a new status in the hub, from which moment its clock runs as any other.
A row already imported with the same dates is skipped; different dates are a bad row.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from hub.extensions import db
from hub.imports.common import (
    Problems,
    ValidRow,
    audit,
    check_organisations,
    clients_by_ref,
    today_in_nl,
    validated,
)
from hub.imports.csvfile import read_rows
from hub.imports.schemas import SERVICE_REFERRAL_COLUMNS, ServiceReferralRowSchema
from hub.referrals.service_referral_models import ServiceReferral, ServiceReferralEvent, Status
from hub.reports.period import AMSTERDAM, local_midnight

STATUS_OF = (("requested_on", Status.REQUESTED), ("received_on", Status.RECEIVED),
             ("intake_on", Status.INTAKE_SCHEDULED), ("started_on", Status.IN_PROGRESS),
             ("completed_on", Status.COMPLETED), ("rejected_on", Status.REJECTED))


def _steps(data: dict) -> list[tuple[Status, datetime]]:
    """The statuses the row's dates record, in order, each at the start of its (Dutch) day."""
    return [(status, local_midnight(data[name])) for name, status in STATUS_OF if data[name] is not None]


def _facts(steps: list[tuple[Status, datetime]]) -> dict:
    """The referral's own columns from its steps, as the live workflow would have left them."""
    status, since = steps[-1]
    started = next((at for s, at in steps if s == Status.IN_PROGRESS), None)
    closed = since if status in (Status.COMPLETED, Status.REJECTED) else None
    return {"status": status, "status_since": since, "started_at": started, "closed_at": closed}


def _key(row: ValidRow) -> tuple:
    data = row.data
    return data["programme_id"], data["client_ref"], data["partner_id"], data["domain"], data["requested_on"]


def import_service_referrals(raw: bytes, now: datetime) -> dict:
    """Import a service-referrals file, all or nothing; returns the counts."""
    problems = Problems()
    valid = validated(read_rows(raw, SERVICE_REFERRAL_COLUMNS), ServiceReferralRowSchema(today_in_nl(now)), problems)
    check_organisations(valid, problems, partners=True)
    clients = clients_by_ref({(row.data["programme_id"], row.data["client_ref"]) for row in valid})
    existing = _existing([client.id for client in clients.values()])
    first_line: dict[tuple, int] = {}
    new, skipped = [], 0
    for row in valid:
        data = row.data
        client = clients.get((data["programme_id"], data["client_ref"]))
        if client is None:
            problems.add(row.line, f"client_ref: no client with this reference was imported for programme "
                                   f"{data['programme_id']}; import the trajectories file first")
            continue
        if _key(row) in first_line:
            problems.add(row.line, f"the same referral as line {first_line[_key(row)]} (programme_id, client_ref, "
                                   "partner_id, domain and requested_on)")
            continue
        first_line[_key(row)] = row.line
        before = existing.get((client.id, data["partner_id"], data["domain"], local_midnight(data["requested_on"])))
        if before is None:
            new.append((row, client))
        elif before == _facts(_steps(data)):
            skipped += 1
        else:
            problems.add(row.line, "differs from the referral the hub imported before for this client, partner, "
                                   f"domain and requested_on (now {before['status'].value} since "
                                   f"{_day(before['status_since'])})")
    problems.raise_if_any("service-referrals")

    for row, client in new:
        steps = _steps(row.data)
        referral = ServiceReferral(
            client_id=client.id, programme_id=client.programme_id, organisation_id=row.data["partner_id"],
            domain=row.data["domain"], requested_at=steps[0][1], imported_at=now, urgent=False,
            **_facts(steps))  # no escalation clock (SlaClock): the sweep never escalates history
        previous = None
        for status, at in steps:
            referral.events.append(ServiceReferralEvent(from_status=previous, to_status=status, occurred_at=at,
                                                        recorded_at=now))
            previous = status
        db.session.add(referral)
    db.session.flush()
    counts = {"imported": len(new), "skipped_existing": skipped,
              "open": sum(1 for row, _client in new if _facts(_steps(row.data))["closed_at"] is None)}
    audit("imports:service_referrals:imported", counts, {row.data["programme_id"] for row in valid})
    return {**counts, "rows": len(valid)}


def _existing(client_ids: list[int]) -> dict[tuple, dict]:
    """The imported referrals of these clients by natural key, with the facts to compare."""
    found = {}
    sr = ServiceReferral
    for start in range(0, len(client_ids), 500):
        for r in db.session.execute(select(
                sr.client_id, sr.organisation_id, sr.domain, sr.requested_at, sr.status, sr.status_since,
                sr.started_at, sr.closed_at).where(sr.client_id.in_(client_ids[start:start + 500]),
                                                   sr.imported_at.is_not(None))):
            found[(r.client_id, r.organisation_id, r.domain, r.requested_at)] = {
                "status": r.status, "status_since": r.status_since, "started_at": r.started_at,
                "closed_at": r.closed_at}
    return found


def _day(moment: datetime) -> date:
    return moment.astimezone(AMSTERDAM).date()
