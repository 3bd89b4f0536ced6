"""Consent over the API: recorded with proof, refused when it makes no sense, withdrawn at once."""
import hashlib

import pytest
from sqlalchemy import func, select, text

from hub.audit.models import AuditEvent
from hub.consent.models import Consent
from hub.extensions import db
from hub.notifications.models import Notification

STATEMENT = "Ik vind het goed dat Schuldhulp Arnhem mijn financiële situatie ziet."


@pytest.fixture
def setting(make):
    """A programme with its coach, a handed-over client, and a debt relief partner."""
    programme = make.organisation("exit_programme")
    coach = make.user("coach", organisation_id=programme)
    partner_org = make.organisation("debt_relief", name="Schuldhulp Arnhem")
    partner = make.user("partner", organisation_id=partner_org)
    _, client_id = make.handoff(programme_id=programme)
    return coach, client_id, partner_org, partner


def consent_body(recipient, **overrides):
    body = {"recipient_organisation_id": recipient, "purpose": "service_referral", "scope": ["finances"],
            "method": "verbal", "statement": STATEMENT}
    body.update(overrides)
    return body


def test_the_coach_records_a_consent_with_the_exact_text_and_its_hash(client, api_login, setting):
    coach, client_id, partner_org, _ = setting
    response = client.post(f"/api/v1/clients/{client_id}/consents", json=consent_body(partner_org),
                           headers=api_login(coach))
    assert response.status_code == 201, response.get_json()
    consent = response.get_json()
    assert consent["statement"] == STATEMENT
    assert consent["statement_hash"] == hashlib.sha256(STATEMENT.encode()).hexdigest()
    assert consent["scope"] == ["finances"] and consent["recorded_by_id"] == coach.id


@pytest.mark.parametrize("overrides, field", [
    ({"recipient_organisation_id": 999_999}, "recipient_organisation_id"),
    ({"scope": []}, "scope"),
    ({"scope": ["finances", "horoscope"]}, "scope"),
    ({"valid_from": "2026-12-01T00:00:00+00:00", "valid_until": "2026-11-30T00:00:00+00:00"}, "valid_until"),
    ({"purpose": "marketing"}, "purpose"),
    ({"statement": ""}, "statement"),
])
def test_a_consent_that_makes_no_sense_is_refused_with_the_field_named(client, api_login, setting, overrides, field,
                                                                        app):
    coach, client_id, partner_org, _ = setting
    response = client.post(f"/api/v1/clients/{client_id}/consents", json=consent_body(partner_org, **overrides),
                           headers=api_login(coach))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Consent)) == 1  # only the handoff's


def test_withdrawing_twice_is_a_conflict(client, api_login, setting):
    coach, client_id, partner_org, _ = setting
    headers = api_login(coach)
    consent_id = client.post(f"/api/v1/clients/{client_id}/consents", json=consent_body(partner_org),
                             headers=headers).get_json()["id"]
    first = client.post(f"/api/v1/consents/{consent_id}/withdraw", json={"reason": "Cliënt wil het niet meer"},
                        headers=headers)
    assert first.status_code == 200 and first.get_json()["withdrawn_at"]
    second = client.post(f"/api/v1/consents/{consent_id}/withdraw", json={"reason": "nog eens"}, headers=headers)
    assert second.status_code == 409
    assert second.get_json()["error"]["code"] == "already_withdrawn"


def test_a_withdrawal_needs_a_reason(client, api_login, setting):
    coach, client_id, partner_org, _ = setting
    headers = api_login(coach)
    consent_id = client.post(f"/api/v1/clients/{client_id}/consents", json=consent_body(partner_org),
                             headers=headers).get_json()["id"]
    assert client.post(f"/api/v1/consents/{consent_id}/withdraw", json={}, headers=headers).status_code == 422


def test_withdrawing_the_handoff_consent_locks_the_programme_out_on_its_next_request(client, api_login, setting):
    """Also with a token issued before the withdrawal: decisions are never cached."""
    coach, client_id, _, _ = setting
    headers = api_login(coach)
    assert client.get(f"/api/v1/clients/{client_id}", headers=headers).status_code == 200
    consents = client.get(f"/api/v1/clients/{client_id}/consents", headers=headers).get_json()["items"]
    handoff_consent = next(c for c in consents if c["purpose"] == "handoff")
    withdrawn = client.post(f"/api/v1/consents/{handoff_consent['id']}/withdraw",
                            json={"reason": "Cliënt trekt zich terug"}, headers=headers)
    assert withdrawn.status_code == 200
    assert client.get(f"/api/v1/clients/{client_id}", headers=headers).status_code == 404
    # the consents themselves stay visible to the programme, so it can record a new one
    assert client.get(f"/api/v1/clients/{client_id}/consents", headers=headers).status_code == 200


def test_the_recipient_and_the_coach_are_told_of_a_withdrawal(client, api_login, make, app):
    programme = make.organisation("exit_programme")
    coach = make.user("coach", organisation_id=programme)
    handoff_id, client_id = make.handoff(programme_id=programme)
    partner_org = make.organisation("debt_relief")
    partner = make.user("partner", organisation_id=partner_org)
    headers = api_login(coach)
    client.post(f"/api/v1/referrals/{handoff_id}/accept", json={}, headers=headers)
    consent_id = client.post(f"/api/v1/clients/{client_id}/consents", json=consent_body(partner_org),
                             headers=headers).get_json()["id"]
    client.post(f"/api/v1/consents/{consent_id}/withdraw", json={"reason": "Cliënt wil het niet"}, headers=headers)
    with app.app_context():
        told = set(db.session.scalars(select(Notification.user_id)))
    assert {partner.id, coach.id} <= told


def test_a_coach_of_another_programme_cannot_see_record_or_withdraw_consents(client, api_login, setting, make, app):
    coach, client_id, partner_org, _ = setting
    consent_id = client.post(f"/api/v1/clients/{client_id}/consents", json=consent_body(partner_org),
                             headers=api_login(coach)).get_json()["id"]
    stranger = make.user("coach")
    headers = api_login(stranger)
    assert client.get(f"/api/v1/clients/{client_id}/consents", headers=headers).status_code == 404
    assert client.post(f"/api/v1/clients/{client_id}/consents", json=consent_body(partner_org),
                       headers=headers).status_code == 404
    assert client.post(f"/api/v1/consents/{consent_id}/withdraw", json={"reason": "x"},
                       headers=headers).status_code == 404
    with app.app_context():
        refusals = db.session.scalars(select(AuditEvent.tag).where(AuditEvent.user_id == stranger.id,
                                                                   AuditEvent.result == "refused")).all()
    assert "referrals:client:refused" in refusals and "consent:consent:refused" in refusals


@pytest.mark.parametrize("role", ["referrer", "partner", "director", "admin"])
def test_only_coaches_handle_consents(client, api_login, setting, make, role):
    _, client_id, partner_org, _ = setting
    headers = api_login(make.user(role))
    assert client.get(f"/api/v1/clients/{client_id}/consents", headers=headers).status_code == 403
    assert client.post(f"/api/v1/clients/{client_id}/consents", json=consent_body(partner_org),
                       headers=headers).status_code == 403
    assert client.get(f"/api/v1/clients/{client_id}", headers=headers).status_code == 403


def test_the_database_refuses_to_delete_or_edit_a_consent(app, setting):
    _, client_id, _, _ = setting
    with app.app_context():
        consent_id = db.session.scalar(select(Consent.id).where(Consent.client_id == client_id))
        for statement in ("DELETE FROM consents WHERE id = :id",
                          "UPDATE consents SET statement_hash = 'iets anders' WHERE id = :id",
                          "UPDATE consents SET recipient_organisation_id = recorded_by_organisation_id WHERE id = :id",
                          "DELETE FROM consent_scope WHERE consent_id = :id"):
            savepoint = db.session.begin_nested()
            with pytest.raises(Exception, match="never"):
                db.session.execute(text(statement), {"id": consent_id})
            savepoint.rollback()


def test_a_withdrawal_is_added_once_and_then_the_consent_is_frozen(app, setting):
    _, client_id, _, _ = setting
    with app.app_context():
        consent_id = db.session.scalar(select(Consent.id).where(Consent.client_id == client_id))
        db.session.execute(text("UPDATE consents SET withdrawn_at = recorded_at WHERE id = :id"), {"id": consent_id})
        savepoint = db.session.begin_nested()
        with pytest.raises(Exception, match="never edited"):
            db.session.execute(text("UPDATE consents SET withdrawn_at = NULL WHERE id = :id"), {"id": consent_id})
        savepoint.rollback()


def test_a_newer_narrower_consent_narrows_access_at_once(client, api_login, setting, app):
    """The client says: from now on only finances, no longer housing. One new record does it."""
    from hub.clock import utcnow
    from hub.consent.service import decide

    coach, client_id, partner_org, _ = setting
    headers = api_login(coach)
    client.post(f"/api/v1/clients/{client_id}/consents", json=consent_body(partner_org, scope=["finances", "housing"]),
                headers=headers)
    client.post(f"/api/v1/clients/{client_id}/consents", json=consent_body(partner_org, scope=["finances"]),
                headers=headers)
    with app.app_context():
        assert decide(partner_org, client_id, "service_referral", "finances", utcnow()).allowed
        assert not decide(partner_org, client_id, "service_referral", "housing", utcnow()).allowed
