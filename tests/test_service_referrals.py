"""Referring on to partners: within consent, a status workflow with rules, messages in the hub."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hub.clock import freeze, utcnow
from hub.extensions import db
from hub.notifications.models import Notification
from hub.referrals.service_referral_models import ServiceReferral, Status
from hub.referrals.workflow import allowed_targets
from hub.vocab import Role
from tests.conftest import NOW

OUT_OF_SCOPE_NOTES = "Woont boven de club"  # the housing notes in the factory's story


@pytest.fixture
def chain(make, client, api_login):
    """A programme with a coach and an accepted client; a debt-relief partner the client consented
    to share finances (not housing) with; signed-in headers for both."""
    programme = make.organisation("exit_programme")
    coach = make.user("coach", organisation_id=programme)
    handoff_id, client_id = make.handoff(programme_id=programme)
    partner_org = make.organisation("debt_relief", name="Schuldhulp Arnhem")
    partner = make.user("partner", organisation_id=partner_org)
    coach_headers = api_login(coach)
    client.post(f"/api/v1/referrals/{handoff_id}/accept", json={}, headers=coach_headers)
    consent = client.post(f"/api/v1/clients/{client_id}/consents", headers=coach_headers, json={
        "recipient_organisation_id": partner_org, "purpose": "service_referral", "scope": ["finances"],
        "method": "written", "statement": "Schuldhulp mag mijn financiële situatie zien."})
    assert consent.status_code == 201
    return {"coach": coach, "partner": partner, "client_id": client_id, "partner_org": partner_org,
            "coach_headers": coach_headers, "partner_headers": api_login(partner),
            "consent_id": consent.get_json()["id"]}


def refer(client, chain, domain="finances", organisation_id=None):
    return client.post(f"/api/v1/clients/{chain['client_id']}/service-referrals", headers=chain["coach_headers"],
                       json={"organisation_id": organisation_id or chain["partner_org"], "domain": domain,
                             "note": "Beslag op loon; graag snel een eerste gesprek."})


def test_the_coach_refers_within_consent_and_the_partner_is_told(client, chain, app):
    response = refer(client, chain)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "requested"
    with app.app_context():
        told = db.session.scalars(select(Notification).where(Notification.user_id == chain["partner"].id)).all()
    assert [n.subject for n in told] and all("Roos" not in n.body for n in told)


def test_a_partner_without_consent_for_the_domain_is_refused(client, chain, make, app):
    shelter = make.organisation("housing")
    response = refer(client, chain, domain="housing", organisation_id=shelter)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "consent_required"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ServiceReferral)) == 0


def test_a_consented_partner_is_refused_for_a_domain_outside_the_scope(client, chain):
    """Debt relief serves finances only; the consent covers finances only."""
    assert refer(client, chain, domain="housing").status_code == 422  # not served by debt relief
    assert refer(client, chain, domain="finances").status_code == 201


def test_a_referral_to_an_organisation_that_is_not_a_partner_is_refused(client, chain, make):
    police = make.organisation("police")
    response = refer(client, chain, organisation_id=police)
    assert response.status_code == 422 and "organisation_id" in response.get_json()["error"]["fields"]


def test_a_second_open_referral_to_the_same_partner_and_domain_is_a_conflict(client, chain):
    assert refer(client, chain).status_code == 201
    assert refer(client, chain).status_code == 409


def test_two_coaches_referring_at_the_same_moment_make_one_referral_and_one_409(client, chain, app, monkeypatch):
    """Both look for an open referral before either has written one; the database's unique key on the
    open referrals' clocks refuses the second, which is answered as the duplicate it is."""
    import hub.referrals.service_referrals as service

    first = refer(client, chain)
    assert first.status_code == 201
    looked = service.open_duplicate
    calls = []

    def looked_before_the_other_wrote(*args):
        calls.append(args)
        return None if len(calls) == 1 else looked(*args)

    monkeypatch.setattr(service, "open_duplicate", looked_before_the_other_wrote)
    second = refer(client, chain)
    assert second.status_code == 409, second.get_json()
    assert second.get_json()["error"]["code"] == "duplicate_referral"
    assert f"({first.get_json()['id']})" in second.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ServiceReferral)) == 1


def test_after_a_referral_closes_the_client_can_be_referred_to_the_same_partner_again(client, chain):
    referral_id = refer(client, chain).get_json()["id"]
    cancelled = client.post(f"/api/v1/service-referrals/{referral_id}/events", headers=chain["coach_headers"],
                            json={"status": "cancelled", "note": "Cliënt wil eerst iets anders."})
    assert cancelled.status_code in (200, 201), cancelled.get_json()
    assert refer(client, chain).status_code == 201


def test_the_partner_sees_only_the_consented_part_of_the_story(client, chain):
    referral_id = refer(client, chain).get_json()["id"]
    for path in ("/api/v1/service-referrals", f"/api/v1/service-referrals/{referral_id}",
                 f"/api/v1/service-referrals/{referral_id}/messages"):
        body = client.get(path, headers=chain["partner_headers"]).get_data(as_text=True)
        assert OUT_OF_SCOPE_NOTES not in body
        assert "zonnebloem" not in body  # the code word: contact details are not in scope
        assert "raamprostitutie" not in body  # the summary: the story is not in scope
    detail = client.get(f"/api/v1/service-referrals/{referral_id}", headers=chain["partner_headers"]).get_json()
    assert [d["domain"] for d in detail["client"]["domains"]] == ["finances"]
    assert detail["client"]["safe_contact_rules"] == {"never_call": True, "no_letters_home": True}
    assert detail["client"]["safe_contact"] is None and detail["client"]["story_summary"] is None


def test_the_partner_reports_progress_and_waiting_is_measured(client, chain, api_login):
    referral_id = refer(client, chain).get_json()["id"]
    for status in ("received", "waitlisted"):
        response = client.post(f"/api/v1/service-referrals/{referral_id}/events", headers=chain["partner_headers"],
                                json={"status": status})
        assert response.status_code == 201, response.get_json()
    freeze(NOW + timedelta(days=20))
    chain["partner_headers"], chain["coach_headers"] = api_login(chain["partner"]), api_login(chain["coach"])
    started = client.post(f"/api/v1/service-referrals/{referral_id}/events", headers=chain["partner_headers"],
                          json={"status": "in_progress", "occurred_at": (NOW + timedelta(days=18)).isoformat()})
    assert started.status_code == 201
    detail = client.get(f"/api/v1/service-referrals/{referral_id}", headers=chain["coach_headers"]).get_json()
    assert detail["status"] == "in_progress" and detail["days_waiting"] == 18 and detail["days_in_status"] == 2
    assert [e["to_status"] for e in detail["events"]] == ["requested", "received", "waitlisted", "in_progress"]


@pytest.mark.parametrize("occurred_at, problem", [
    (NOW + timedelta(hours=1), "future"),
    (NOW - timedelta(days=1), "before"),
])
def test_an_event_in_the_future_or_before_the_referral_is_refused(client, chain, occurred_at, problem):
    referral_id = refer(client, chain).get_json()["id"]
    response = client.post(f"/api/v1/service-referrals/{referral_id}/events", headers=chain["partner_headers"],
                           json={"status": "received", "occurred_at": occurred_at.isoformat()})
    assert response.status_code == 422 and "occurred_at" in response.get_json()["error"]["fields"]


def test_illegal_transitions_and_the_wrong_role_get_409(client, chain):
    referral_id = refer(client, chain).get_json()["id"]
    path = f"/api/v1/service-referrals/{referral_id}/events"
    assert client.post(path, headers=chain["partner_headers"], json={"status": "completed"}).status_code == 409
    assert client.post(path, headers=chain["partner_headers"], json={"status": "cancelled"}).status_code == 409
    assert client.post(path, headers=chain["coach_headers"], json={"status": "received"}).status_code == 409
    assert client.post(path, headers=chain["partner_headers"], json={"status": "sleeping"}).status_code == 422


def test_hold_needs_whose_turn_and_resumes_where_it_was(client, chain):
    referral_id = refer(client, chain).get_json()["id"]
    path = f"/api/v1/service-referrals/{referral_id}/events"
    client.post(path, headers=chain["partner_headers"], json={"status": "waitlisted"})
    assert client.post(path, headers=chain["coach_headers"], json={"status": "on_hold"}).status_code == 422
    held = client.post(path, headers=chain["coach_headers"], json={"status": "on_hold", "reason": "client"})
    assert held.status_code == 201
    assert client.post(path, headers=chain["coach_headers"], json={"status": "received"}).status_code == 409
    resumed = client.post(path, headers=chain["coach_headers"], json={"status": "waitlisted"})
    assert resumed.status_code == 201


def test_rejection_needs_a_reason(client, chain):
    referral_id = refer(client, chain).get_json()["id"]
    path = f"/api/v1/service-referrals/{referral_id}/events"
    assert client.post(path, headers=chain["partner_headers"], json={"status": "rejected"}).status_code == 422
    rejected = client.post(path, headers=chain["partner_headers"], json={"status": "rejected", "reason": "no_capacity"})
    assert rejected.status_code == 201
    assert client.post(path, headers=chain["partner_headers"], json={"status": "received"}).status_code == 409


OPEN_FLOW = [Status.REQUESTED, Status.RECEIVED, Status.WAITLISTED, Status.INTAKE_SCHEDULED, Status.IN_PROGRESS]
EXPECTED = {
    (Role.PARTNER, Status.REQUESTED): {Status.RECEIVED, Status.WAITLISTED, Status.INTAKE_SCHEDULED,
                                       Status.IN_PROGRESS, Status.REJECTED},
    (Role.PARTNER, Status.RECEIVED): {Status.WAITLISTED, Status.INTAKE_SCHEDULED, Status.IN_PROGRESS,
                                      Status.REJECTED},
    (Role.PARTNER, Status.WAITLISTED): {Status.INTAKE_SCHEDULED, Status.IN_PROGRESS, Status.REJECTED},
    (Role.PARTNER, Status.INTAKE_SCHEDULED): {Status.IN_PROGRESS, Status.REJECTED},
    (Role.PARTNER, Status.IN_PROGRESS): {Status.COMPLETED, Status.REJECTED},
    (Role.PARTNER, Status.ON_HOLD): {Status.REJECTED},
    **{(Role.COACH, s): {Status.ON_HOLD, Status.CANCELLED} for s in OPEN_FLOW},
}


@pytest.mark.parametrize("role", [Role.COACH, Role.PARTNER, Role.REFERRER, Role.DIRECTOR, Role.ADMIN])
@pytest.mark.parametrize("current", list(Status))
def test_the_transition_table_allows_exactly_these_pairs(role, current):
    held_from = Status.WAITLISTED if current == Status.ON_HOLD else None
    expected = EXPECTED.get((role, current), set())
    if role == Role.COACH and current == Status.ON_HOLD:
        expected = {Status.WAITLISTED, Status.CANCELLED}
    assert allowed_targets(current, held_from, role) == expected
    for target in Status:  # and every other pair is forbidden
        assert (target in allowed_targets(current, held_from, role)) == (target in expected)


def test_withdrawing_the_consent_holds_the_referral_and_closes_the_partners_view(client, chain):
    referral_id = refer(client, chain).get_json()["id"]
    withdrawn = client.post(f"/api/v1/consents/{chain['consent_id']}/withdraw", headers=chain["coach_headers"],
                            json={"reason": "Cliënt wil het zelf regelen"})
    assert withdrawn.status_code == 200
    detail = client.get(f"/api/v1/service-referrals/{referral_id}", headers=chain["partner_headers"]).get_json()
    assert detail["status"] == "on_hold" and detail["hold_reason"] == "consent"
    assert detail["client"] is None
    messages = client.get(f"/api/v1/service-referrals/{referral_id}/messages", headers=chain["partner_headers"])
    assert messages.status_code == 403


def test_other_partners_and_other_programmes_cannot_see_the_referral(client, chain, make, api_login):
    referral_id = refer(client, chain).get_json()["id"]
    for outsider in (make.user("partner"), make.user("coach")):
        headers = api_login(outsider)
        assert client.get(f"/api/v1/service-referrals/{referral_id}", headers=headers).status_code == 404
        assert client.get("/api/v1/service-referrals", headers=headers).get_json()["items"] == []
        assert client.post(f"/api/v1/service-referrals/{referral_id}/events", headers=headers,
                           json={"status": "received"}).status_code == 404
        assert client.post(f"/api/v1/service-referrals/{referral_id}/messages", headers=headers,
                           json={"body": "hallo"}).status_code == 404
    referrer = make.user("referrer")
    assert client.get("/api/v1/service-referrals", headers=api_login(referrer)).status_code == 403


def test_coach_and_partner_talk_in_the_thread_with_read_receipts(client, chain, app):
    referral_id = refer(client, chain).get_json()["id"]
    path = f"/api/v1/service-referrals/{referral_id}/messages"
    sent = client.post(path, headers=chain["partner_headers"], json={"body": "Intake kan dinsdag 10:00."})
    assert sent.status_code == 201 and sent.get_json()["read_at"] is None
    thread = client.get(path, headers=chain["coach_headers"]).get_json()["items"]
    assert [m["body"] for m in thread] == ["Intake kan dinsdag 10:00."]
    again = client.get(path, headers=chain["partner_headers"]).get_json()["items"]
    assert again[0]["read_at"] is not None  # the coach has read it
    with app.app_context():
        from sqlalchemy import text

        stored = db.session.scalar(text("SELECT body FROM messages"))
    assert stored.startswith("v1:") and "dinsdag" not in stored


@pytest.mark.parametrize("body", ["", "x" * 20_000])
def test_an_empty_or_huge_message_is_refused(client, chain, body):
    referral_id = refer(client, chain).get_json()["id"]
    response = client.post(f"/api/v1/service-referrals/{referral_id}/messages", headers=chain["coach_headers"],
                           json={"body": body})
    assert response.status_code == 422 and "body" in response.get_json()["error"]["fields"]


def test_the_overview_shows_open_referrals_with_what_is_late(client, chain, api_login):
    referral_id = refer(client, chain).get_json()["id"]
    freeze(utcnow() + timedelta(days=5))  # sessions end meanwhile: sign in again
    chain["partner_headers"], chain["coach_headers"] = api_login(chain["partner"]), api_login(chain["coach"])
    overview = client.get(f"/api/v1/service-referrals?open=true&client_id={chain['client_id']}",
                          headers=chain["coach_headers"]).get_json()["items"]
    assert [(r["id"], r["days_waiting"], r["late"]) for r in overview] == [(referral_id, 5, True)]
    inbox = client.get("/api/v1/service-referrals?status=requested", headers=chain["partner_headers"]).get_json()
    assert [r["id"] for r in inbox["items"]] == [referral_id]


def test_the_overview_answers_exactly_what_its_documented_schema_describes(client, chain, app):
    """The list is answered without marshmallow (hub.api.json_ready): the same JSON as its schema's dump."""
    from hub.extensions import db
    from hub.referrals.service_referral_models import ServiceReferral
    from hub.referrals.service_referral_schemas import ServiceReferralSummarySchema
    from hub.referrals.service_referrals import summary

    referral_id = refer(client, chain).get_json()["id"]
    assert client.post(f"/api/v1/service-referrals/{referral_id}/events", headers=chain["partner_headers"],
                json={"status": "rejected", "reason": "not_eligible"}).status_code == 201
    [listed] = client.get("/api/v1/service-referrals", headers=chain["coach_headers"]).get_json()["items"]
    with app.app_context():
        documented = ServiceReferralSummarySchema().dump(summary(db.session.get(ServiceReferral, referral_id),
                                                                 utcnow()))
    assert listed == documented and listed["closed_at"] and listed["reject_reason"] == "not_eligible"


def test_after_a_withdrawal_the_partner_no_longer_reads_the_coachs_notes(client, chain):
    referral_id = refer(client, chain).get_json()["id"]
    client.post(f"/api/v1/consents/{chain['consent_id']}/withdraw", headers=chain["coach_headers"],
                json={"reason": "Cliënt wil het zelf regelen"})
    body = client.get(f"/api/v1/service-referrals/{referral_id}", headers=chain["partner_headers"])
    assert "Beslag op loon" not in body.get_data(as_text=True)


def test_a_referral_held_for_consent_cannot_resume_without_new_consent(client, chain):
    referral_id = refer(client, chain).get_json()["id"]
    client.post(f"/api/v1/consents/{chain['consent_id']}/withdraw", headers=chain["coach_headers"],
                json={"reason": "Cliënt twijfelt"})
    path = f"/api/v1/service-referrals/{referral_id}/events"
    resumed = client.post(path, headers=chain["coach_headers"], json={"status": "requested"})
    assert resumed.status_code == 403 and resumed.get_json()["error"]["code"] == "consent_required"
    assert client.post(path, headers=chain["coach_headers"], json={"status": "cancelled"}).status_code == 201


def test_without_the_handoff_consent_the_coach_loses_the_referrals_too(client, chain):
    referral_id = refer(client, chain).get_json()["id"]
    consents = client.get(f"/api/v1/clients/{chain['client_id']}/consents",
                          headers=chain["coach_headers"]).get_json()["items"]
    handoff_consent = next(c for c in consents if c["purpose"] == "handoff")
    client.post(f"/api/v1/consents/{handoff_consent['id']}/withdraw", headers=chain["coach_headers"],
                json={"reason": "Cliënt stopt met het programma"})
    assert client.get(f"/api/v1/service-referrals/{referral_id}", headers=chain["coach_headers"]).status_code == 404
    assert client.get(f"/api/v1/service-referrals/{referral_id}/messages",
                      headers=chain["coach_headers"]).status_code == 404


# --- the profile (gender, birth year, languages, legal position) only with the scope item `profile` --

UNDOCUMENTED = {"alias": "Mira", "gender": "transgender", "birth_year": 1990, "languages": ["bg", "tr"],
                "municipality_of_residence": "Arnhem", "municipality_of_work": "Arnhem",
                "legal_status": "no_residence", "target_groups": ["trafficking_victim", "undocumented"]}


def _undocumented_client_referred(make, client, api_login, scope):
    """An accepted client without legal residence, referred to a debt-relief partner under `scope`."""
    programme = make.organisation("exit_programme")
    coach_headers = api_login(make.user("coach", organisation_id=programme))
    handoff_id, client_id = make.handoff(programme_id=programme, client=dict(UNDOCUMENTED))
    client.post(f"/api/v1/referrals/{handoff_id}/accept", json={}, headers=coach_headers)
    partner_org = make.organisation("debt_relief")
    assert client.post(f"/api/v1/clients/{client_id}/consents", headers=coach_headers, json={
        "recipient_organisation_id": partner_org, "purpose": "service_referral", "scope": scope,
        "method": "written", "statement": "Schuldhulp mag dit zien."}).status_code == 201
    referral = client.post(f"/api/v1/clients/{client_id}/service-referrals", headers=coach_headers,
                           json={"organisation_id": partner_org, "domain": "finances"})
    assert referral.status_code == 201
    return referral.get_json()["id"], api_login(make.user("partner", organisation_id=partner_org))


def test_a_partner_without_the_profile_item_does_not_see_the_legal_status(make, client, api_login):
    referral_id, headers = _undocumented_client_referred(make, client, api_login, ["finances"])
    response = client.get(f"/api/v1/service-referrals/{referral_id}", headers=headers)
    shown = response.get_json()["client"]
    assert shown["alias"] == "Mira" and shown["profile_shared"] is False
    assert (shown["legal_status"], shown["gender"], shown["birth_year"], shown["languages"]) == (None,) * 4
    body = response.get_data(as_text=True)
    assert "no_residence" not in body and "1990" not in body and "transgender" not in body


def test_a_partner_with_the_profile_item_sees_the_profile(make, client, api_login):
    referral_id, headers = _undocumented_client_referred(make, client, api_login, ["finances", "profile"])
    shown = client.get(f"/api/v1/service-referrals/{referral_id}", headers=headers).get_json()["client"]
    assert shown["profile_shared"] is True
    assert (shown["legal_status"], shown["gender"], shown["birth_year"], shown["languages"]) == (
        "no_residence", "transgender", 1990, ["bg", "tr"])


def test_a_narrower_consent_hides_the_profile_at_once(make, client, api_login, app):
    """The client takes the profile back by a new consent without it: the next read shows none."""
    referral_id, headers = _undocumented_client_referred(make, client, api_login, ["finances", "profile"])
    from hub.auth.models import User
    from hub.consent.service import record_consent

    with app.test_request_context():
        referral = db.session.get(ServiceReferral, referral_id)
        coach = db.session.get(User, referral.requested_by_id)
        record_consent(coach, client_id=referral.client_id, recipient_organisation_id=referral.organisation_id,
                       purpose="service_referral", scope=["finances"], method="verbal",
                       statement="Alleen mijn financiën.", now=utcnow())
        db.session.commit()
    shown = client.get(f"/api/v1/service-referrals/{referral_id}", headers=headers).get_json()["client"]
    assert shown["profile_shared"] is False and shown["legal_status"] is None


def test_profile_is_a_scope_item_of_the_public_contract(client):
    spec = client.get("/api/v1/openapi.json").get_data(as_text=True)
    assert '"profile"' in spec and "profile_shared" in spec


def test_the_upgrade_to_one_open_referral_stops_on_twins_and_names_them(client, chain, app, monkeypatch):
    """A database from before the unique index may hold two open referrals of a client to one partner
    for one domain: the migration that adds the index stops and names them, so that a coach cancels
    the one too many; it never picks one itself. (The index is dropped inside the test's transaction,
    which rolls back.)"""
    import importlib.util
    from pathlib import Path

    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from sqlalchemy import text

    import hub.referrals.service_referrals as service

    first = refer(client, chain)
    with app.app_context():
        db.session.execute(text("DROP INDEX uq_sla_clocks_open_referral"))
        db.session.commit()
    monkeypatch.setattr(service, "open_duplicate", lambda *args: None)  # the check as it raced before
    second = refer(client, chain)
    assert first.status_code == second.status_code == 201

    path = next(Path(__file__).parents[1].glob("migrations/versions/*_e1a7c3d5b9f2_*.py"))
    spec = importlib.util.spec_from_file_location("one_open_referral", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with app.app_context():
        with Operations.context(MigrationContext.configure(db.session.connection())), \
                pytest.raises(RuntimeError) as stopped:
            migration.upgrade()
        db.session.rollback()
    message = str(stopped.value)
    assert f"client {chain['client_id']}, partner {chain['partner_org']}, finances: 2 open" in message
    assert f"referrals {first.get_json()['id']} .. {second.get_json()['id']}" in message
