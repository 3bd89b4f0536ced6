"""Passwords: argon2id, 12 to 128 characters, not common, not guessable; changing one needs the old one."""
import pytest
from sqlalchemy import select

from hub.audit.models import AuditEvent, AuditResult
from hub.auth.passwords import hash_password, password_problems, verify_password
from hub.extensions import db
from tests.web import password_step, post_form, signed_in


def test_passwords_are_hashed_with_argon2id():
    hashed = hash_password("lantaarnpaal fietsbel 2026 zomer")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "lantaarnpaal fietsbel 2026 zomer")
    assert not verify_password(hashed, "lantaarnpaal fietsbel 2026 winter")


def test_without_a_hash_nothing_matches():
    assert not verify_password(None, "")
    assert not verify_password(None, "dummy")
    assert not verify_password("not a hash", "dummy")


@pytest.mark.parametrize("password", [
    "lantaarnpaal fietsbel 2026 zomer",
    "Rode-kater_op_het-dak!",
    "x" * 10 + "Ab3$" + "y" * 100,  # 114 characters, not only one letter
])
def test_a_long_unusual_password_is_accepted(password):
    assert password_problems(password, email="sanne@hub.test", name="Sanne Jansen") == []


@pytest.mark.parametrize(("password", "problem"), [
    ("Kort!wachtw", "at least 12"),
    ("a" * 129, "at most 128"),
    ("password1234", "too common"),
    ("qwertyuiop123", "too"),
    ("aaaaaaaaaaaaaaaa", "too common or too simple"),
    ("abababababababab", "too common or too simple"),
    ("sanne@hub.test", "e-mail address or name"),
    ("SANNE JANSEN", "e-mail address or name"),
    ("sanne jansen 1990", "too easy to guess"),
])
def test_a_weak_password_is_refused_with_a_reason(password, problem):
    problems = password_problems(password, email="sanne@hub.test", name="Sanne Jansen")
    assert len(problems) == 1
    assert problem in problems[0]


def test_changing_a_password_needs_the_current_one(make, client):
    coach = make.user("coach")
    signed_in(client, coach)
    response = post_form(client, "/account", {"current_password": "not the password at all",
                                              "new_password": "kokosnoot regenjas 1987 vlieger"})
    assert response.status_code == 422
    assert client.get("/").status_code == 200, "still signed in with the old password"


def test_a_weak_new_password_is_refused(make, client):
    coach = make.user("coach")
    signed_in(client, coach)
    response = post_form(client, "/account", {"current_password": coach.password, "new_password": "password1234"})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


WRONG = {"current_password": "not the password at all", "new_password": "kokosnoot regenjas 1987 vlieger"}


def test_guessing_the_current_password_is_stopped_like_a_sign_in(app, make, client):
    """A stolen session cannot brute-force the current password: the failures count as failed
    sign-ins, and after the limit even the right one is refused for a while."""
    coach = make.user("coach")
    signed_in(client, coach)
    for _ in range(5):
        assert post_form(client, "/account", WRONG).status_code == 422
    refused = post_form(client, "/account", {**WRONG, "current_password": coach.password})
    assert refused.status_code == 429
    assert "Probeer het over 15 minuten opnieuw." in refused.get_data(as_text=True)
    assert client.get("/").status_code == 200, "nothing changed: still signed in with the old password"
    with app.app_context():
        assert verify_password(coach.load().password_hash, coach.password)


def test_wrong_current_passwords_count_towards_the_sign_in_limit(make, client):
    coach = make.user("coach")
    signed_in(client, coach)
    for _ in range(5):
        assert post_form(client, "/account", WRONG).status_code == 422
    browser = client.application.test_client()  # the same address: the limit per account and address
    assert password_step(browser, coach).status_code == 429


def test_a_wrong_current_password_is_audited_as_a_refusal(app, make, client):
    coach = make.user("coach")
    signed_in(client, coach)
    post_form(client, "/account", WRONG)
    with app.app_context():
        tags = db.session.scalars(select(AuditEvent.tag).where(AuditEvent.user_id == coach.id,
                                                               AuditEvent.result == AuditResult.REFUSED)).all()
    assert tags == ["auth:password:refused"]
