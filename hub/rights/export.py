"""The access request (inzage): everything the hub holds about one client, section by section.

`SECTIONS` is the registry: each section names the tables it covers. tests/test_rights_export.py
walks the database's foreign keys and fails when a table that reaches `clients` is neither covered
here nor exempted below with a reason, so a new kind of client data cannot be left out unnoticed.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hub.consent.models import Consent
from hub.extensions import db
from hub.partners.models import Organisation
from hub.referrals.models import Client, Goal, Handoff, Trajectory
from hub.referrals.service_referral_models import Escalation, Message, ServiceReferral
from hub.rights.models import ErasureRequest


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _value(value):
    return getattr(value, "value", value)


class _Names:
    """Organisation names, looked up once per export."""

    def __init__(self):
        self.names: dict[int, str] = {}

    def __call__(self, organisation_id: int | None) -> dict | None:
        if organisation_id is None:
            return None
        if organisation_id not in self.names:
            self.names[organisation_id] = db.session.scalar(
                select(Organisation.name).where(Organisation.id == organisation_id))
        return {"id": organisation_id, "name": self.names[organisation_id]}


def _client(client: Client, org: _Names) -> dict:
    return {
        "id": client.id, "alias": client.alias, "gender": _value(client.gender), "birth_year": client.birth_year,
        "languages": client.languages, "municipality_of_residence": client.municipality_of_residence,
        "municipality_of_work": client.municipality_of_work, "legal_status": _value(client.legal_status),
        "target_groups": client.target_groups, "safe_contact": client.safe_contact or None,
        "story_summary": client.story_summary, "programme": org(client.programme_id),
        "created_at": _iso(client.created_at), "anonymised_at": _iso(client.anonymised_at),
        "legal_hold": ({"since": _iso(client.legal_hold_since), "reason": client.legal_hold_reason}
                       if client.legal_hold_since else None),
    }


def _story_domains(client: Client, org: _Names) -> list[dict]:
    return [{"domain": _value(d.domain), "score": d.score, "wish": d.wish, "notes": d.notes,
             "updated_at": _iso(d.updated_at)} for d in client.story_domains]


def _handoffs(client: Client, org: _Names) -> list[dict]:
    rows = db.session.scalars(select(Handoff).where(Handoff.client_id == client.id).order_by(Handoff.submitted_at))
    return [{"id": h.id, "status": _value(h.status), "from_organisation": org(h.from_organisation_id),
             "to_organisation": org(h.to_organisation_id), "urgency": _value(h.urgency), "consent_id": h.consent_id,
             "safety_concerns": h.safety_concerns, "submitted_at": _iso(h.submitted_at),
             "accepted_at": _iso(h.accepted_at), "first_contact_on": _iso(h.first_contact_on),
             "declined_at": _iso(h.declined_at), "decline_reason": h.decline_reason} for h in rows]


def _consents(client: Client, org: _Names) -> list[dict]:
    rows = db.session.scalars(select(Consent).where(Consent.client_id == client.id).order_by(Consent.id))
    return [{"id": c.id, "recipient": org(c.recipient_organisation_id), "purpose": _value(c.purpose),
             "scope": c.scope, "method": _value(c.method), "statement": c.statement,
             "recorded_by_organisation": org(c.recorded_by_organisation_id), "recorded_at": _iso(c.recorded_at),
             "valid_from": _iso(c.valid_from), "valid_until": _iso(c.valid_until),
             "withdrawn_at": _iso(c.withdrawn_at), "withdrawal_reason": c.withdrawal_reason} for c in rows]


def _trajectories(client: Client, org: _Names) -> list[dict]:
    rows = db.session.scalars(
        select(Trajectory).where(Trajectory.client_id == client.id).order_by(Trajectory.number)
        .options(selectinload(Trajectory.phases), selectinload(Trajectory.goals).selectinload(Goal.progress),
                 selectinload(Trajectory.goals).selectinload(Goal.subgoals)))
    return [{
        "id": t.id, "number": t.number, "programme": org(t.programme_id), "opened_on": _iso(t.opened_on),
        "closed_on": _iso(t.closed_on), "outcome": _value(t.outcome), "destination": _value(t.destination),
        "closing_note": t.closing_note, "imported_at": _iso(t.imported_at),
        "phases": [{"phase": _value(p.phase), "started_on": _iso(p.started_on), "ended_on": _iso(p.ended_on),
                    "note": p.note} for p in t.phases],
        "goals": [{"domain": _value(g.domain), "description": g.description, "target": g.target,
                   "deadline": _iso(g.deadline), "achieved_on": _iso(g.achieved_on), "created_at": _iso(g.created_at),
                   "progress": [{"score": p.score, "note": p.note, "recorded_at": _iso(p.recorded_at)}
                                for p in g.progress],
                   "subgoals": [{"position": s.position, "text": s.text, "deadline": _iso(s.deadline),
                                 "done_on": _iso(s.done_on)} for s in g.subgoals]} for g in t.goals],
    } for t in rows]


def _service_referrals(client: Client, org: _Names) -> list[dict]:
    rows = db.session.scalars(select(ServiceReferral).where(ServiceReferral.client_id == client.id)
                              .order_by(ServiceReferral.requested_at).options(selectinload(ServiceReferral.events)))
    referrals = list(rows)
    messages: dict[int, list[Message]] = {r.id: [] for r in referrals}
    if referrals:
        for message in db.session.scalars(select(Message).where(Message.service_referral_id.in_(messages))
                                          .order_by(Message.sent_at, Message.id)):
            messages[message.service_referral_id].append(message)
    return [{
        "id": r.id, "organisation": org(r.organisation_id), "programme": org(r.programme_id),
        "domain": _value(r.domain), "status": _value(r.status), "note": r.note, "consent_id": r.consent_id,
        "urgent": r.urgent, "requested_at": _iso(r.requested_at), "status_since": _iso(r.status_since),
        "started_at": _iso(r.started_at), "closed_at": _iso(r.closed_at), "hold_reason": _value(r.hold_reason),
        "reject_reason": _value(r.reject_reason), "imported_at": _iso(r.imported_at),
        "events": [{"from_status": _value(e.from_status), "to_status": _value(e.to_status), "reason": e.reason,
                    "occurred_at": _iso(e.occurred_at), "recorded_at": _iso(e.recorded_at),
                    "recorded_by_organisation": org(e.recorded_by_organisation_id), "note": e.note}
                   for e in r.events],
        "messages": [{"author_organisation": org(m.author_organisation_id), "body": m.body,
                      "sent_at": _iso(m.sent_at), "read_at": _iso(m.read_at)} for m in messages[r.id]],
    } for r in referrals]


def _escalations(client: Client, org: _Names) -> list[dict]:
    rows = db.session.scalars(select(Escalation).where(Escalation.client_id == client.id)
                              .order_by(Escalation.raised_at, Escalation.id))
    return [{"id": e.id, "service_referral_id": e.service_referral_id, "level": e.level,
             "status": _value(e.status), "state": _value(e.state), "raised_at": _iso(e.raised_at),
             "resolved_at": _iso(e.resolved_at)} for e in rows]


def _erasure_requests(client: Client, org: _Names) -> list[dict]:
    rows = db.session.scalars(select(ErasureRequest).where(ErasureRequest.client_id == client.id)
                              .order_by(ErasureRequest.requested_at))
    return [{"id": e.id, "requested_at": _iso(e.requested_at), "reason": e.reason, "status": _value(e.status),
             "recorded_by_organisation": org(e.recorded_by_organisation_id),
             "legal_hold_reason": e.legal_hold_reason, "carried_out_at": _iso(e.carried_out_at),
             "trajectory_outcome": _value(e.close_outcome), "trajectory_destination": _value(e.close_destination),
             "trajectory_closed_on": _iso(e.close_on)} for e in rows]


@dataclass(frozen=True)
class Section:
    key: str
    tables: tuple[str, ...]
    build: Callable[[Client, _Names], object]


SECTIONS: tuple[Section, ...] = (
    Section("client", ("clients",), _client),
    Section("story_domains", ("story_domains",), _story_domains),
    Section("handoffs", ("handoffs",), _handoffs),
    Section("consents", ("consents", "consent_scope"), _consents),
    Section("trajectories", ("trajectories", "trajectory_phases", "trajectory_goals", "trajectory_goal_progress",
                             "trajectory_subgoals"), _trajectories),
    Section("service_referrals", ("service_referrals", "service_referral_events", "messages"), _service_referrals),
    Section("escalations", ("escalations",), _escalations),
    Section("erasure_requests", ("erasure_requests",), _erasure_requests),
)
EXPORTED_TABLES = frozenset(table for section in SECTIONS for table in section.tables)

# Tables that reach `clients` (through foreign keys, or holding a client's id without one) yet are not
# in this document, each with the reason. (`notifications` carry no client data, by design of their texts.)
NOT_EXPORTED: dict[str, str] = {
    "sla_clocks": "the escalation clock of an open referral restates the referral's exported events (which "
                  "status's norm runs, since when); nothing the client said or is",
    "audit_events": "who read or changed what of the client: given to the client as the read log "
                    "(GET /api/v1/clients/<id>/read-log), paged, not in this document",
    "audit_event_subjects": "the records a list read showed, part of the read log (audit_events)",
    "registration_facts": "counts for the municipality's registration, restating the client's exported "
                          "facts and trajectories (kept by triggers, anonymised with them)",
}


def build(client: Client) -> dict:
    """Every section for the client; the read log is added by the caller (it is paged in the API)."""
    org = _Names()
    return {section.key: section.build(client, org) for section in SECTIONS}
