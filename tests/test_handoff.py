"""The warm handoff: told once, all or nothing; the referrer sees its status only."""
import pytest
from sqlalchemy import func, select, text

from hub.audit.models import AuditEvent
from hub.consent.models import Consent
from hub.extensions import db
from hub.referrals.models import Client, Handoff, StoryDomain
from tests.conftest import NOW
from tests.factories import handoff_body


@pytest.fixture
def programme(make):
    return make.organisation("exit_programme", name="Uitstapprogramma Test")


@pytest.fixture
def referrer(make):
    return make.user("referrer")


@pytest.fixture
def coach(make, programme):
    return make.user("coach", organisation_id=programme)


def _counts(app):
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Client, Consent, Handoff,
                                                                                     StoryDomain))


def test_a_referrer_hands_a_client_over_in_one_call(client, api_login, referrer, programme, app):
    response = client.post("/api/v1/referrals", json=handoff_body(programme), headers=api_login(referrer))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "submitted" and body["client_id"] and body["id"]
    assert _counts(app) == (1, 1, 1, 2)


def test_a_handoff_writes_its_consent_for_its_client_audits_both_and_tells_the_coaches(
        client, api_login, referrer, coach, programme, app):
    """The rows are written together (one flush): each points at the others, and both audit events
    name the new ids."""
    from hub.notifications.models import Notification

    response = client.post("/api/v1/referrals", json=handoff_body(programme), headers=api_login(referrer))
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        handoff = db.session.get(Handoff, response.get_json()["id"])
        consent = db.session.get(Consent, handoff.consent_id)
        assert consent.client_id == handoff.client_id == response.get_json()["client_id"]
        assert consent.recipient_organisation_id == programme and consent.purpose == "handoff"
        assert consent.scope and consent.recorded_by_id == referrer.id
        events = {e.tag: e for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.client_id == handoff.client_id))}
        assert events["consent:consent:recorded"].object_id == str(consent.id)
        assert events["referrals:handoff:submitted"].object_id == str(handoff.id)
        assert events["referrals:handoff:submitted"].ground == f"consent:{consent.id}"
        assert db.session.scalar(select(func.count()).where(Notification.user_id == coach.id)) == 1
        # every sealed value opens in its own row
        client_row = db.session.get(Client, handoff.client_id)
        assert client_row.alias == "Roos" and client_row.safe_contact["times"] == "na 14:00"
        assert client_row.story_summary.startswith("Werkt sinds 2019")
        assert [(d.domain, d.score, d.notes) for d in client_row.story_domains] == [
            ("finances", 2, "Schulden bij de pooier"), ("housing", 3, "Woont boven de club")]
        assert handoff.safety_concerns.startswith("Pooier") and consent.statement
        assert [item for item in consent.scope] == ["contact", "finances", "housing", "story"]
        notification = db.session.scalar(select(Notification).where(Notification.user_id == coach.id))
        assert notification.body and notification.email_status == "pending" and notification.email_attempts == 0
        # every time is the moment of the handoff, stored and read back as such
        assert {client_row.created_at, consent.recorded_at, consent.valid_from, handoff.submitted_at,
                notification.created_at, *(e.occurred_at for e in events.values()),
                *(d.updated_at for d in client_row.story_domains)} == {NOW}
        assert client_row.languages == ["nl", "ro"] and client_row.target_groups == ["trafficking_victim"]
        assert handoff.status == "submitted" and handoff.version == 1 and handoff.urgency == "normal"
        assert consent.valid_until is None and consent.withdrawn_at is None


def test_each_active_coach_of_the_programme_is_told_in_their_own_language_and_no_one_else(
        client, api_login, make, referrer, programme, app):
    from hub.auth.models import User
    from hub.notifications.models import Notification

    dutch, english, unset = (make.user("coach", organisation_id=programme) for _ in range(3))
    gone = make.user("coach", organisation_id=programme)
    elsewhere = make.user("coach", organisation_id=make.organisation("exit_programme"))
    with app.app_context():
        db.session.get(User, dutch.id).locale = "nl"
        db.session.get(User, english.id).locale = "en"
        db.session.get(User, gone.id).active = False
        db.session.commit()
    response = client.post("/api/v1/referrals", json=handoff_body(programme, urgency="high"),
                           headers=api_login(referrer))
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        told = {n.user_id: n for n in db.session.scalars(select(Notification))}
        assert set(told) == {dutch.id, english.id, unset.id}
        assert told[dutch.id].subject == "Urgent: nieuwe overdracht wacht"
        assert told[english.id].subject == "Urgent: new handoff waiting"
        assert told[unset.id].subject == told[dutch.id].subject  # the hub's default language: Dutch
        assert told[dutch.id].body.startswith("Er is een nieuwe cliënt") and told[english.id].body.startswith("A new")
        assert elsewhere.id not in told and gone.id not in told


def test_the_handoffs_one_statement_stays_within_psycopgs_cache_of_converted_queries(app):
    """Past 4,096 bytes or 50 parameters psycopg parses a statement afresh for every execution (0.8 ms
    of a worker's CPU per handoff)."""
    from psycopg import _queries
    from sqlalchemy.dialects import postgresql

    from hub.referrals import handoff_writes

    compiled = handoff_writes._ONE_STATEMENT.compile(dialect=postgresql.dialect(driver="psycopg"))
    assert len(str(compiled).encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH
    assert len(compiled.params) <= _queries.MAX_CACHED_STATEMENT_PARAMS


def test_each_request_gets_its_own_validation_errors(client, api_login, referrer, programme, app):
    """The API reuses one schema instance per class: nothing of one request's errors or data may
    show in the next."""
    headers = api_login(referrer)
    no_alias = handoff_body(programme)
    no_alias["client"].pop("alias")
    first = client.post("/api/v1/referrals", json=no_alias, headers=headers)
    assert first.status_code == 422 and set(first.get_json()["error"]["fields"]) == {"client"}
    fine = client.post("/api/v1/referrals", json=handoff_body(programme), headers=headers)
    assert fine.status_code == 201, fine.get_json()
    bad_scope = handoff_body(programme)
    bad_scope["consent"]["scope"] = ["secrets"]
    third = client.post("/api/v1/referrals", json=bad_scope, headers=headers)
    assert third.status_code == 422 and set(third.get_json()["error"]["fields"]) == {"consent"}
    assert _counts(app) == (1, 1, 1, 2)


@pytest.mark.parametrize("broken, field", [
    (lambda b: b.pop("consent"), "consent"),
    (lambda b: b["consent"].update(scope=[]), "consent"),
    (lambda b: b["consent"].update(scope=["secrets"]), "consent"),
    (lambda b: b["story"]["domains"][0].update(score=11), "story"),
    (lambda b: b["story"]["domains"][0].update(domain="astrology"), "story"),
    (lambda b: b["client"].update(birth_year=2999), "client"),
    (lambda b: b["client"].pop("alias"), "client"),
])
def test_a_handoff_without_valid_consent_or_data_is_refused_naming_the_field(
        client, api_login, referrer, programme, app, broken, field):
    body = handoff_body(programme)
    broken(body)
    response = client.post("/api/v1/referrals", json=body, headers=api_login(referrer))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert _counts(app) == (0, 0, 0, 0)


def test_a_handoff_to_an_organisation_that_is_not_an_exit_programme_saves_nothing(
        client, api_login, referrer, make, app):
    debt_relief = make.organisation("debt_relief")
    response = client.post("/api/v1/referrals", json=handoff_body(debt_relief), headers=api_login(referrer))
    assert response.status_code == 422
    assert "to_organisation_id" in response.get_json()["error"]["fields"]
    assert _counts(app) == (0, 0, 0, 0)


def test_the_handoff_is_all_or_nothing_when_a_late_step_fails(app, make, referrer, programme, monkeypatch):
    """A failure after every row was written (and before the commit) leaves nothing behind."""
    from hub.clock import utcnow
    from hub.errors import HubError
    from hub.referrals import handoff_writes, service
    from hub.referrals.schemas import HandoffCreateSchema

    write = handoff_writes.write

    def write_then_fail(rows):
        write(rows)
        raise HubError("the audit store is unavailable")

    monkeypatch.setattr(handoff_writes, "write", write_then_fail)
    make.user("coach", organisation_id=programme)  # so that a notification is attempted
    with app.test_request_context():
        data = HandoffCreateSchema().load(handoff_body(programme))
        with pytest.raises(HubError):
            service.submit_handoff(referrer.load(), data, utcnow())
        db.session.rollback()
    assert _counts(app) == (0, 0, 0, 0)


def test_the_referrer_sees_only_the_status_never_the_story(client, api_login, make, referrer, programme):
    handoff_id, client_id = make.handoff(programme_id=programme, referrer=referrer)
    headers = api_login(referrer)
    status = client.get(f"/api/v1/referrals/{handoff_id}", headers=headers)
    assert status.status_code == 200
    assert status.get_json()["status"] == "submitted"
    assert "Roos" not in status.get_data(as_text=True) and "summary" not in status.get_json()
    assert client.get(f"/api/v1/clients/{client_id}", headers=headers).status_code == 403


def test_another_referrer_organisation_cannot_see_the_handoff_even_by_guessing(client, api_login, make, programme):
    handoff_id, _ = make.handoff(programme_id=programme)
    outsider = make.user("referrer")
    response = client.get(f"/api/v1/referrals/{handoff_id}", headers=api_login(outsider))
    assert response.status_code == 404
    assert client.get(f"/api/v1/referrals/{handoff_id + 999}", headers=api_login(outsider, steps=1)).status_code == 404


def test_the_coach_accepts_and_the_referrer_is_told(client, api_login, make, referrer, coach, programme, app):
    handoff_id, _ = make.handoff(programme_id=programme, referrer=referrer)
    response = client.post(f"/api/v1/referrals/{handoff_id}/accept", json={}, headers=api_login(coach))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "accepted" and response.get_json()["coach_id"] == coach.id
    from hub.notifications.models import Notification
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Notification.user_id == referrer.id)) == 1


def test_accepting_twice_is_a_conflict(client, api_login, make, coach, programme):
    handoff_id, _ = make.handoff(programme_id=programme)
    headers = api_login(coach)
    assert client.post(f"/api/v1/referrals/{handoff_id}/accept", json={}, headers=headers).status_code == 200
    again = client.post(f"/api/v1/referrals/{handoff_id}/accept", json={}, headers=headers)
    assert again.status_code == 409


def test_when_another_coach_accepted_the_handoff_meanwhile_the_later_accept_is_a_conflict(
        client, api_login, make, coach, programme, monkeypatch):
    """Two coaches accepting at once both find it open; the handoff's version column refuses the
    later write, and that is a 409 to reload, not a server error."""
    from sqlalchemy import update

    import hub.referrals.service as service

    handoff_id, _ = make.handoff(programme_id=programme)
    check = service._require_status

    def accepted_meanwhile(handoff, expected):
        check(handoff, expected)
        table = Handoff.__table__
        db.session.execute(update(table).where(table.c.id == handoff.id).values(version=table.c.version + 1))

    monkeypatch.setattr(service, "_require_status", accepted_meanwhile)
    response = client.post(f"/api/v1/referrals/{handoff_id}/accept", json={}, headers=api_login(coach))
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"]["code"] == "conflict"


def test_a_coach_of_another_programme_cannot_accept_or_read(client, api_login, make, programme):
    handoff_id, client_id = make.handoff(programme_id=programme)
    stranger = make.user("coach")  # another exit programme
    headers = api_login(stranger)
    assert client.post(f"/api/v1/referrals/{handoff_id}/accept", json={}, headers=headers).status_code == 404
    assert client.get(f"/api/v1/clients/{client_id}", headers=headers).status_code == 404


def test_declining_needs_a_reason(client, api_login, make, coach, programme):
    handoff_id, _ = make.handoff(programme_id=programme)
    headers = api_login(coach)
    assert client.post(f"/api/v1/referrals/{handoff_id}/decline", json={}, headers=headers).status_code == 422
    declined = client.post(f"/api/v1/referrals/{handoff_id}/decline", json={"reason": "Woont buiten de regio"},
                           headers=headers)
    assert declined.status_code == 200 and declined.get_json()["status"] == "declined"


def test_first_contact_is_dated_and_not_in_the_future(client, api_login, make, coach, programme):
    handoff_id, _ = make.handoff(programme_id=programme)
    headers = api_login(coach)
    client.post(f"/api/v1/referrals/{handoff_id}/accept", json={}, headers=headers)
    future = client.post(f"/api/v1/referrals/{handoff_id}/first-contact", json={"on": "2030-01-01T10:00:00+01:00"},
                         headers=headers)
    assert future.status_code == 422
    done = client.post(f"/api/v1/referrals/{handoff_id}/first-contact", json={"on": "2026-11-23T09:00:05+00:00"},
                       headers=headers)
    assert done.status_code == 200 and done.get_json()["status"] == "first_contact"


def test_the_intake_queue_puts_urgent_handoffs_first(client, api_login, make, coach, programme):
    normal, _ = make.handoff(programme_id=programme)
    urgent, _ = make.handoff(programme_id=programme, urgency="high")
    queue = client.get("/api/v1/referrals?status=submitted", headers=api_login(coach)).get_json()
    assert [item["id"] for item in queue["items"]] == [urgent, normal]
    assert queue["items"][0]["days_waiting"] == 0


def test_the_coach_reads_the_dossier_and_the_read_is_audited(client, api_login, make, coach, programme, app):
    _, client_id = make.handoff(programme_id=programme)
    response = client.get(f"/api/v1/clients/{client_id}", headers=api_login(coach))
    assert response.status_code == 200
    dossier = response.get_json()
    assert dossier["alias"] == "Roos"
    assert dossier["safe_contact"]["never_call"] is True
    assert {d["domain"] for d in dossier["story"]["domains"]} == {"finances", "housing"}
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.tag == "referrals:dossier:read",
                                                           AuditEvent.client_id == client_id))
        assert event.user_id == coach.id and event.ground.startswith("consent:")


def test_the_dossier_leaves_out_what_the_handoff_consent_does_not_cover(client, api_login, make, coach, programme):
    _, client_id = make.handoff(programme_id=programme, scope=("finances",))
    dossier = client.get(f"/api/v1/clients/{client_id}", headers=api_login(coach)).get_json()
    assert dossier["story"]["summary"] is None and dossier["safe_contact"] is None
    assert [d["domain"] for d in dossier["story"]["domains"]] == ["finances"]
    assert dossier["withheld"] == ["contact", "housing", "story"]
    assert "Woont boven de club" not in str(dossier)


def test_a_decline_reason_stays_in_the_hub_and_out_of_the_notification(client, api_login, make, referrer, coach,
                                                                        programme, app):
    handoff_id, _ = make.handoff(programme_id=programme, referrer=referrer)
    client.post(f"/api/v1/referrals/{handoff_id}/decline", json={"reason": "Cliënt is minderjarig"},
                headers=api_login(coach))
    from hub.notifications.models import Notification
    with app.app_context():
        bodies = db.session.scalars(select(Notification.body).where(Notification.user_id == referrer.id)).all()
        stored = db.session.scalar(text("SELECT decline_reason FROM handoffs"))
    assert bodies and not any("minderjarig" in body for body in bodies)
    assert stored.startswith("v1:")
    status = client.get(f"/api/v1/referrals/{handoff_id}", headers=api_login(referrer)).get_json()
    assert status["decline_reason"] == "Cliënt is minderjarig"


def test_a_handoff_whose_consent_was_withdrawn_cannot_be_accepted(client, api_login, make, coach, programme):
    handoff_id, client_id = make.handoff(programme_id=programme)
    headers = api_login(coach)
    consent_id = client.get(f"/api/v1/clients/{client_id}/consents", headers=headers).get_json()["items"][0]["id"]
    client.post(f"/api/v1/consents/{consent_id}/withdraw", json={"reason": "Toch niet"}, headers=headers)
    response = client.post(f"/api/v1/referrals/{handoff_id}/accept", json={}, headers=headers)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "consent_required"
