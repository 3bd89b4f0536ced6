"""Sessions end when they should: logout, 15 minutes unused, 8 hours after sign-in, a new password,
a disabled account. Web sessions are recorded server-side, so an old cookie is worth nothing."""
from datetime import timedelta

from sqlalchemy import select

from hub import clock
from hub.auth.models import AuthSession
from hub.extensions import db
from tests.conftest import NOW
from tests.web import next_step, post_form, signed_in

ME = "/api/v1/auth/me"


def at(delta: timedelta) -> None:
    clock.freeze(NOW + delta)


def test_a_token_is_refused_after_logout(make, client, api_login):
    coach = make.user("coach")
    headers = api_login(coach)
    assert client.get(ME, headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    response = client.get(ME, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 401


def test_logout_ends_only_that_token(make, client, api_login):
    coach = make.user("coach")
    first = api_login(coach)
    next_step()
    second = api_login(coach)
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 204
    assert client.get(ME, headers=second).status_code == 200


def test_a_token_unused_for_15_minutes_is_refused(make, client, api_login):
    coach = make.user("coach")
    headers = api_login(coach)
    at(timedelta(minutes=15))
    assert client.get(ME, headers=headers).status_code == 401


def test_the_15_minutes_count_from_the_last_use(make, client, api_login):
    coach = make.user("coach")
    headers = api_login(coach)
    at(timedelta(minutes=14, seconds=59))
    assert client.get(ME, headers=headers).status_code == 200
    at(timedelta(minutes=28, seconds=59))  # 14 minutes after that use: still alive
    assert client.get(ME, headers=headers).status_code == 200
    at(timedelta(minutes=28, seconds=59) + timedelta(minutes=15))
    assert client.get(ME, headers=headers).status_code == 401


def test_using_a_token_keeps_it_alive(make, client, api_login):
    coach = make.user("coach")
    headers = api_login(coach)
    for minutes in (10, 20, 30, 40):
        at(timedelta(minutes=minutes))
        assert client.get(ME, headers=headers).status_code == 200


def test_a_token_ends_8_hours_after_sign_in_however_much_it_is_used(make, client, api_login):
    coach = make.user("coach")
    headers = api_login(coach)
    for minutes in range(10, 8 * 60, 10):
        at(timedelta(minutes=minutes))
        assert client.get(ME, headers=headers).status_code == 200, minutes
    at(timedelta(hours=8))
    assert client.get(ME, headers=headers).status_code == 401


def test_a_password_change_ends_every_token_and_web_session(app, make, client, api_login):
    coach = make.user("coach")
    token = api_login(coach)
    other_browser = app.test_client()
    next_step()
    signed_in(other_browser, coach)
    next_step()
    signed_in(client, coach)
    response = post_form(client, "/account", {"current_password": coach.password,
                                               "new_password": "kokosnoot regenjas 1987 vlieger"})
    assert response.status_code == 302
    assert client.get(ME, headers=token).status_code == 401
    assert other_browser.get("/").status_code == 302
    assert client.get("/").status_code == 302


def test_disabling_a_user_ends_every_token_and_web_session(app, make, client, api_login):
    coach = make.user("coach")
    token = api_login(coach)
    coach_browser = app.test_client()
    next_step()
    signed_in(coach_browser, coach)
    admin = make.user("admin")
    signed_in(client, admin)
    response = post_form(client, f"/admin/users/{coach.id}/active", {"active": "0"}, form_page="/admin/users")
    assert response.status_code == 302
    assert client.get(ME, headers=token).status_code == 401
    assert coach_browser.get("/").status_code == 302
    # Enabling the account again lets the user sign in anew, but does not revive the old token.
    post_form(client, f"/admin/users/{coach.id}/active", {"active": "1"}, form_page="/admin/users")
    next_step()
    assert client.get(ME, headers=api_login(coach)).status_code == 200
    assert client.get(ME, headers=token).status_code == 401


def test_a_web_session_ends_on_logout_even_for_a_copy_of_the_cookie(app, make, client):
    coach = make.user("coach")
    signed_in(client, coach)
    cookie = client.get_cookie("hub").value
    copy = app.test_client()
    copy.set_cookie("hub", cookie)
    assert copy.get("/").status_code == 200
    response = post_form(client, "/logout", {}, form_page="/")
    assert response.status_code == 302
    assert response.location.endswith("/login")
    assert client.get("/").status_code == 302
    replayed = copy.get("/")
    assert replayed.status_code == 302
    assert "/login" in replayed.location


def test_a_web_session_unused_for_15_minutes_ends(make, client):
    coach = make.user("coach")
    signed_in(client, coach)
    at(timedelta(minutes=15))
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.location


def test_a_web_session_cookie_cannot_drive_the_api(make, client):
    coach = make.user("coach")
    signed_in(client, coach)
    assert client.get(ME).status_code == 401


def test_an_api_token_cannot_open_web_pages(make, client, api_login):
    coach = make.user("coach")
    response = client.get("/", headers=api_login(coach))
    assert response.status_code == 302
    assert "/login" in response.location


def test_an_expired_token_stays_marked_ended_although_its_request_is_refused(app, make, client, api_login):
    """The 401 rolls the request's work back; the session's end and its reason must outlive that."""
    coach = make.user("coach")
    headers = api_login(coach)
    at(timedelta(minutes=15))
    assert client.get(ME, headers=headers).status_code == 401
    with app.app_context():
        ended = db.session.execute(select(AuthSession.ended_at, AuthSession.ended_reason)
                                   .where(AuthSession.user_id == coach.id)).one()
    assert ended == (NOW + timedelta(minutes=15), "expired")


def test_an_expired_token_is_marked_once_with_the_first_refusal(app, make, client, api_login):
    coach = make.user("coach")
    headers = api_login(coach)
    at(timedelta(minutes=15))
    assert client.get(ME, headers=headers).status_code == 401
    at(timedelta(minutes=20))
    assert client.get(ME, headers=headers).status_code == 401
    with app.app_context():
        ended_at = db.session.scalar(select(AuthSession.ended_at).where(AuthSession.user_id == coach.id))
    assert ended_at == NOW + timedelta(minutes=15)
