"""A client with data in every table that holds client data, made through the API as the hub makes
it: for the read log, the export, erasure and retention tests."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from hub.extensions import db
from hub.referrals.models import Client, Goal, Trajectory
from hub.referrals.service_referral_models import ServiceReferral
from tests.conftest import NOW

# Texts that must be gone after anonymisation (each in another table or column).
SECRETS = {
    "alias": "Roos", "summary": "raamprostitutie", "domain notes": "Schulden bij de pooier",
    "safe contact": "zonnebloem", "safety concerns": "Pooier houdt", "referral note": "Beslag op loon",
    "event note": "Dossier ontvangen", "message": "Intake kan dinsdag", "goal": "Schulden in kaart",
    "subgoal": "Alle brieven verzamelen", "progress note": "Brieven zijn binnen", "phase note": "Intake gedaan",
    "closing note": "Werkt nu bij de bakker",
}


@dataclass
class Dossier:
    programme: int
    coach: object
    partner: object
    partner_org: int
    client_id: int
    handoff_id: int
    trajectory_id: int
    referral_id: int
    coach_headers: dict
    partner_headers: dict
    referrer: object


def full_dossier(client, make, api_login, *, close: bool = True, programme: int | None = None,
                 coach=None) -> Dossier:
    """Handed over, accepted, a partner consented and referred to (with events and messages), a plan
    with a goal, sub-goals and progress, a second phase, and (unless `close=False`) closed today."""
    programme = programme or make.organisation("exit_programme", name="Uitstapprogramma Rechten")
    coach = coach or make.user("coach", organisation_id=programme)
    referrer = make.user("referrer")
    handoff_id, client_id = make.handoff(programme_id=programme, referrer=referrer)
    partner_org = make.organisation("debt_relief", name="Schuldhulp Rechten")
    partner = make.user("partner", organisation_id=partner_org)
    coach_headers = api_login(coach)
    partner_headers = api_login(partner)

    def ok(response, status=200):
        assert response.status_code == status, response.get_json()
        return response.get_json()

    ok(client.post(f"/api/v1/referrals/{handoff_id}/accept", json={}, headers=coach_headers))
    ok(client.post(f"/api/v1/clients/{client_id}/consents", headers=coach_headers, json={
        "recipient_organisation_id": partner_org, "purpose": "service_referral", "scope": ["finances"],
        "method": "written", "statement": "Schuldhulp mag mijn financiële situatie zien."}), 201)
    referral_id = ok(client.post(f"/api/v1/clients/{client_id}/service-referrals", headers=coach_headers, json={
        "organisation_id": partner_org, "domain": "finances", "note": "Beslag op loon; graag snel."}), 201)["id"]
    ok(client.post(f"/api/v1/service-referrals/{referral_id}/events", headers=partner_headers,
                   json={"status": "received", "note": "Dossier ontvangen, we bellen de coach."}), 201)
    ok(client.post(f"/api/v1/service-referrals/{referral_id}/messages", headers=partner_headers,
                   json={"body": "Intake kan dinsdag 10:00."}), 201)
    ok(client.get(f"/api/v1/clients/{client_id}", headers=coach_headers))  # the coach reads the dossier
    with client.application.app_context():
        trajectory_id = db.session.scalar(select(Trajectory.id).where(Trajectory.client_id == client_id))
    today = NOW.date().isoformat()
    ok(client.post(f"/api/v1/trajectories/{trajectory_id}/phases", headers=coach_headers,
                   json={"phase": "orientation", "started_on": today, "note": "Intake gedaan."}), 201)
    goal = ok(client.post(f"/api/v1/trajectories/{trajectory_id}/goals", headers=coach_headers, json={
        "domain": "finances", "description": "Schulden in kaart", "score": 2, "target": 6,
        "deadline": "2027-03-01", "subgoals": [{"text": "Alle brieven verzamelen"}]}), 201)
    ok(client.post(f"/api/v1/goals/{goal['id']}/progress", headers=coach_headers,
                   json={"score": 3, "note": "Brieven zijn binnen."}), 201)
    if close:
        ok(client.post(f"/api/v1/trajectories/{trajectory_id}/close", headers=coach_headers, json={
            "outcome": "exited", "destination": "paid_work", "closed_on": today,
            "note": "Werkt nu bij de bakker."}))
    return Dossier(programme, coach, partner, partner_org, client_id, handoff_id, trajectory_id, referral_id,
                   coach_headers, partner_headers, referrer)


def registration_report(programme_id: int) -> dict:
    """The uniform registration (hub/reports) of the programme over 2026, exact (not suppressed)."""
    from hub.reports.period import Period
    from hub.reports.registration import registration

    return registration([programme_id], Period(date(2026, 1, 1), date(2026, 12, 31)), suppress_small=False)


def figures() -> dict:
    """What the registration counts rest on, by query: trajectories by outcome and dates, clients by
    gender, legal position and target groups, goals by domain, referrals by status."""
    def rows(statement):
        return sorted(tuple(str(value) for value in row) for row in db.session.execute(statement).all())

    return {
        "trajectories": rows(select(Trajectory.opened_on, Trajectory.closed_on, Trajectory.outcome,
                                    Trajectory.destination, func.count()).group_by(
            Trajectory.opened_on, Trajectory.closed_on, Trajectory.outcome, Trajectory.destination)),
        "clients": rows(select(Client.gender, Client.legal_status, Client.target_groups, Client.programme_id)),
        "goals": rows(select(Goal.domain, Goal.target, Goal.achieved_on, Goal.deadline)),
        "referrals": rows(select(ServiceReferral.status, ServiceReferral.domain, ServiceReferral.requested_at,
                                 ServiceReferral.started_at, ServiceReferral.closed_at)),
    }
