"""Test data for the reports: rows written straight into the database (histories with dates in the
past that no API would let us make today), on top of one real handoff for the foreign keys."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from hub.consent.models import Consent
from hub.extensions import db
from hub.referrals.models import Client, Goal, Handoff, Trajectory, TrajectoryPhase
from hub.referrals.service_referral_models import (
    Escalation,
    ServiceReferral,
    ServiceReferralEvent,
    Status,
)

ALIAS = "Roos"  # the alias the factory's handoff gives its client: never in a report


@dataclass
class World:
    """One municipality's chain: a programme, partners, a director, a coach; plus handoff facts."""

    municipality: str
    programme: int
    partners: list[int]
    director: object
    coach: object
    client_id: int
    handoff_id: int
    consent_id: int
    requester_id: int


def make_world(make, app, municipality: str = "Utrecht", partners: int = 2) -> World:
    programme = make.organisation("exit_programme", municipality=municipality)
    partner_ids = [make.organisation(kind, municipality=municipality)
                   for kind in ("debt_relief", "housing", "mental_health")[:partners]]
    director = make.user("director", organisation_id=make.organisation("municipality", municipality=municipality))
    coach = make.user("coach", organisation_id=programme)
    handoff_id, client_id = make.handoff(programme_id=programme)
    with app.app_context():
        consent_id = db.session.scalar(select(Consent.id).where(Consent.client_id == client_id))
    return World(municipality, programme, partner_ids, director, coach, client_id, handoff_id, consent_id, coach.id)


def add_referral(app, world: World, partner: int, requested_at: datetime, *, started_at: datetime | None = None,
                 closed_at: datetime | None = None, status: Status | None = None, domain: str = "finances",
                 events: list[tuple] = (), escalations: list[datetime] = (), programme: int | None = None) -> int:
    """A service referral with its history. `events`: (to_status, occurred_at, reason) after the
    request (which is recorded as the first event)."""
    if status is None:
        status = Status.COMPLETED if closed_at and started_at else Status.CANCELLED if closed_at else \
            Status.IN_PROGRESS if started_at else Status.REQUESTED
    with app.test_request_context():
        referral = ServiceReferral(
            client_id=world.client_id, programme_id=programme or world.programme, organisation_id=partner,
            domain=domain, consent_id=world.consent_id, requested_by_id=world.requester_id,
            requested_at=requested_at, status=status, status_since=requested_at, started_at=started_at,
            closed_at=closed_at)
        previous = Status.REQUESTED
        referral.events.append(ServiceReferralEvent(to_status=Status.REQUESTED, occurred_at=requested_at))
        for to_status, occurred_at, reason in events:
            referral.events.append(ServiceReferralEvent(from_status=previous, to_status=to_status,
                                                        occurred_at=occurred_at, reason=reason))
            previous = to_status
        db.session.add(referral)
        db.session.flush()
        for level, raised_at in enumerate(escalations, start=1):
            db.session.add(Escalation(service_referral_id=referral.id, client_id=referral.client_id,
                                      organisation_id=referral.organisation_id, episode=1, level=level,
                                      status=Status.REQUESTED, raised_at=raised_at))
        db.session.commit()
        return referral.id


def add_client(app, world: World, gender: str = "female", legal_status: str = "resident",
               target_groups: tuple[str, ...] = (), programme: int | None = None) -> int:
    with app.test_request_context():
        client = Client(programme_id=programme or world.programme, gender=gender, legal_status=legal_status,
                        target_groups=list(target_groups))
        client.alias = ALIAS
        db.session.add(client)
        db.session.commit()
        return client.id


def add_trajectory(app, world: World, client_id: int, opened_on: date, closed_on: date | None = None,
                   outcome: str | None = None, *, number: int = 1, domains: tuple[str, ...] = (),
                   programme: int | None = None, phases: tuple[tuple[str, date, date | None], ...] = ()) -> int:
    """A trajectory; `phases`: its phase history as (phase, started_on, ended_on)."""
    with app.test_request_context():
        trajectory = Trajectory(client_id=client_id, number=number, programme_id=programme or world.programme,
                                handoff_id=world.handoff_id, opened_on=opened_on, opened_by_id=world.requester_id,
                                closed_on=closed_on, outcome=outcome)
        for domain in domains:
            trajectory.goals.append(Goal(domain=domain, target=8, created_by_id=world.requester_id))
        for phase, started_on, ended_on in phases:
            trajectory.phases.append(TrajectoryPhase(phase=phase, started_on=started_on, ended_on=ended_on,
                                                     recorded_by_id=world.requester_id))
        db.session.add(trajectory)
        db.session.commit()
        return trajectory.id


def keys_and_texts(value) -> tuple[set[str], str]:
    """Every key anywhere in a JSON answer, and its whole text."""
    keys: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            keys.update(node)
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(value)
    return keys, json.dumps(value)


def handoff_uid(app, world: World) -> str:
    with app.app_context():
        return db.session.scalar(select(Handoff.uid).where(Handoff.id == world.handoff_id))
