"""`POST /api/v1/auth/login`: e-mail, password and a TOTP code for a bearer token."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

import hub.auth.service as service
from hub.auth.models import AuthSession
from hub.extensions import db
from tests.conftest import NOW, totp_now

LOGIN = "/api/v1/auth/login"


def login(client, email, password, otp, **kwargs):
    return client.post(LOGIN, json={"email": email, "password": password, "otp": otp}, **kwargs)


def test_the_right_password_and_code_give_a_token_with_its_expiry(make, client):
    coach = make.user("coach")
    response = login(client, coach.email, coach.password, totp_now(coach))
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["token"]) >= 40
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert expires_at.utcoffset() is not None, "times carry their zone"
    assert expires_at == NOW + timedelta(minutes=15)
    assert datetime.fromisoformat(body["absolute_expires_at"]) == NOW + timedelta(hours=8)
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.get_json()["id"] == coach.id


def test_the_e_mail_address_is_not_case_sensitive(make, client):
    coach = make.user("coach")
    response = login(client, f"  {coach.email.upper()} ", coach.password, totp_now(coach))
    assert response.status_code == 200


def test_the_token_is_not_stored_in_the_database(app, make, client):
    coach = make.user("coach")
    token = login(client, coach.email, coach.password, totp_now(coach)).get_json()["token"]
    with app.app_context():
        stored = db.session.scalars(select(AuthSession.secret_hash).where(AuthSession.user_id == coach.id)).all()
    assert len(stored) == 1
    assert token not in stored[0]


def test_wrong_password_wrong_code_and_unknown_account_get_the_same_answer(make, client):
    coach = make.user("coach")
    answers = [
        login(client, coach.email, "not the password at all", totp_now(coach)),
        login(client, coach.email, coach.password, totp_now(coach, steps=-3)),
        login(client, "nobody@hub.test", coach.password, totp_now(coach)),
    ]
    assert [a.status_code for a in answers] == [401, 401, 401]
    bodies = [a.get_json() for a in answers]
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["error"]["code"] == "invalid_credentials"


def test_a_disabled_account_gets_the_same_answer_as_a_wrong_password(app, make, client):
    coach = make.user("coach")
    wrong = login(client, coach.email, "not the password at all", totp_now(coach)).get_json()
    with app.app_context():
        coach.load().active = False
        db.session.commit()
    response = login(client, coach.email, coach.password, totp_now(coach))
    assert response.status_code == 401
    assert response.get_json() == wrong


@pytest.mark.parametrize("missing", ["email", "password", "otp"])
def test_a_missing_field_is_named_in_a_422(make, client, missing):
    coach = make.user("coach")
    body = {"email": coach.email, "password": coach.password, "otp": totp_now(coach)}
    del body[missing]
    response = client.post(LOGIN, json=body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == [missing]


@pytest.mark.parametrize(("field", "value"), [("otp", "12ab56"), ("otp", "1234567"), ("email", "x"),
                                              ("password", 12), ("password", "p" * 129)])
def test_a_malformed_field_is_named_in_a_422(make, client, field, value):
    coach = make.user("coach")
    body = {"email": coach.email, "password": coach.password, "otp": totp_now(coach), field: value}
    response = client.post(LOGIN, json=body)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == [field]


def test_an_account_without_an_authenticator_app_is_sent_to_the_web_to_enrol(make, client):
    fresh = make.user("coach", enrolled=False)
    response = login(client, fresh.email, fresh.password, "123456")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "totp_enrolment_required"


def test_an_account_without_an_authenticator_app_does_not_reveal_that_to_a_wrong_password(make, client):
    fresh = make.user("coach", enrolled=False)
    response = login(client, fresh.email, "not the password at all", "123456")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"


def test_an_unknown_account_costs_a_password_check_like_a_known_one(make, client, monkeypatch):
    """The same work, so the answer takes as long whether or not the account exists."""
    checked = []
    real = service.verify_password
    monkeypatch.setattr(service, "verify_password", lambda h, p: checked.append(h) or real(h, p))
    coach = make.user("coach")
    login(client, coach.email, "not the password at all", "123456")
    login(client, "nobody@hub.test", "not the password at all", "123456")
    assert len(checked) == 2
    assert checked[0] is not None and checked[1] is None, "the unknown account is checked against a dummy hash"
