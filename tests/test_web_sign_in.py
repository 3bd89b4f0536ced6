"""Signing in on the web: password, then a code; the first time, enrolment with a QR code and
recovery codes. Every form carries a CSRF token; `next` never leads off the site."""
import re
from datetime import timedelta
from types import SimpleNamespace

import pyotp
import pytest

from hub import clock
from tests.conftest import NOW, totp_now
from tests.web import csrf_token, next_step, password_step, post_form, sign_in, signed_in, wrong_code

RECOVERY_CODE = re.compile(r"<code>([0-9a-f]{5}(?:-[0-9a-f]{5}){3})</code>")
SECRET = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')


def test_password_then_code_opens_a_working_session(make, client):
    coach = make.user("coach")
    response = sign_in(client, coach)
    assert response.status_code == 302
    assert response.location == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Test coach" in page.get_data(as_text=True)


def test_the_session_cookie_is_http_only_and_same_site(make, client):
    coach = make.user("coach")
    response = sign_in(client, coach)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_a_wrong_password_does_not_reach_the_code_step(make, client):
    coach = make.user("coach")
    response = password_step(client, coach, password="not the password at all")
    assert response.status_code == 401
    assert client.get("/login/code").status_code == 302


def test_a_wrong_code_does_not_sign_in(make, client):
    coach = make.user("coach")
    response = sign_in(client, coach, code=wrong_code(coach))
    assert response.status_code == 401
    assert client.get("/").status_code == 302


def test_the_code_step_without_the_password_step_sends_back_to_sign_in(make, client):
    response = client.get("/login/code")
    assert response.status_code == 302
    assert response.location.endswith("/login")


def test_the_code_step_expires_five_minutes_after_the_password_step(make, client):
    coach = make.user("coach")
    assert password_step(client, coach).status_code == 302
    clock.freeze(NOW + timedelta(minutes=5, seconds=1))
    token = csrf_token(client, "/login")
    response = client.post("/login/code", data={"csrf_token": token, "code": totp_now(coach)})
    assert response.status_code == 302
    assert response.location.endswith("/login")
    assert client.get("/").status_code == 302


def _enrol(client, account):
    """The invited person follows the link, chooses a password, enrols: returns (secret, recovery codes)."""
    response = post_form(client, f"/activate/{account.token}", {"password": account.password,
                                                                "password_again": account.password})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location.endswith("/login/enrol")
    assert client.get("/login/code").status_code == 302, "no way around the enrolment"
    page = client.get("/login/enrol")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in html, "a QR code to scan"
    secret = SECRET.search(html).group(1)
    done = post_form(client, "/login/enrol", {"code": pyotp.TOTP(secret).at(clock.utcnow())})
    assert done.status_code == 200
    return secret, RECOVERY_CODE.findall(done.get_data(as_text=True))


def _admin_creates_user(app, make) -> SimpleNamespace:
    admin_browser = app.test_client()
    signed_in(admin_browser, make.user("admin"))
    organisation_id = make.organisation("exit_programme")
    response = post_form(admin_browser, "/admin/users", {
        "name": "Nieuwe Coach", "email": "nieuw@hub.test", "organisation_id": str(organisation_id),
        "role": "coach"})
    assert response.status_code == 302, response.get_data(as_text=True)
    flashed = admin_browser.get("/admin/users").get_data(as_text=True)  # development: the link is shown
    token = re.search(r"/activate/([A-Za-z0-9_-]+)", flashed).group(1)
    return SimpleNamespace(email="nieuw@hub.test", password="zonnebloem trapleuning 1961 ster", token=token)


def test_an_invitation_link_works_once(app, make, client):
    account = _admin_creates_user(app, make)
    _enrol(client, account)
    stranger = app.test_client()
    opened = stranger.get(f"/activate/{account.token}")  # told at once, before typing a password twice
    assert opened.status_code == 404
    assert "Deze link is niet (meer) geldig" in opened.get_data(as_text=True)
    again = post_form(stranger, f"/activate/{account.token}",
                      {"password": "nog een ander wachtwoord 77", "password_again": "nog een ander wachtwoord 77"},
                      form_page="/login")
    assert again.status_code == 404


def test_an_unknown_invitation_link_is_refused_when_it_opens(client):
    assert client.get("/activate/geen-echte-link").status_code == 404


def test_an_invitation_refuses_a_weak_or_mistyped_password(app, make, client):
    account = _admin_creates_user(app, make)
    weak = post_form(client, f"/activate/{account.token}",
                     {"password": "password1234", "password_again": "password1234"})
    assert weak.status_code == 422 and 'id="e-password"' in weak.get_data(as_text=True)
    typo = post_form(client, f"/activate/{account.token}", {"password": account.password, "password_again": "x"})
    assert typo.status_code == 422 and 'id="e-password_again"' in typo.get_data(as_text=True)


def test_an_expired_invitation_is_refused(app, make, client):
    account = _admin_creates_user(app, make)
    next_step(4 * 24 * 3600)
    assert client.get(f"/activate/{account.token}").status_code == 404
    response = post_form(client, f"/activate/{account.token}", {"password": account.password,
                                                                "password_again": account.password},
                         form_page="/login")
    assert response.status_code == 404


def test_a_new_user_enrols_sees_ten_recovery_codes_and_each_works_once(app, make, client):
    account = _admin_creates_user(app, make)
    secret, codes = _enrol(client, account)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert client.get("/").status_code == 200, "signed in after enrolment"

    # The app now works for the API too.
    next_step()
    api = app.test_client().post("/api/v1/auth/login", json={
        "email": account.email, "password": account.password, "otp": pyotp.TOTP(secret).at(clock.utcnow())})
    assert api.status_code == 200

    # Phone lost: a recovery code signs in, once.
    post_form(client, "/logout", {}, form_page="/")
    response = sign_in(client, account, code=codes[3])
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    post_form(client, "/logout", {}, form_page="/")
    assert sign_in(client, account, code=codes[3]).status_code == 401
    assert client.get("/").status_code == 302
    assert sign_in(client, account, code=codes[4].upper().replace("-", " ")).status_code == 302


def test_the_enrolment_page_needs_a_pending_password_step(client):
    response = client.get("/login/enrol")
    assert response.status_code == 302
    assert response.location.endswith("/login")


def test_an_enrolled_user_cannot_enrol_again(make, client):
    coach = make.user("coach")
    assert password_step(client, coach).status_code == 302
    assert client.get("/login/enrol").status_code == 302


def test_a_wrong_first_code_does_not_finish_enrolment(make, client):
    fresh = make.user("coach", enrolled=False)
    assert password_step(client, fresh).status_code == 302
    html = client.get("/login/enrol").get_data(as_text=True)
    secret = SECRET.search(html).group(1)
    valid = {pyotp.TOTP(secret).at(clock.utcnow().timestamp() + 30 * s) for s in (-1, 0, 1)}
    bad = next(code for code in ("000000", "111111", "222222") if code not in valid)
    response = post_form(client, "/login/enrol", {"code": bad})
    assert response.status_code == 401
    assert client.get("/").status_code == 302


def test_a_form_posted_without_its_csrf_token_is_refused(make, client):
    coach = make.user("coach")
    client.get("/login")
    response = client.post("/login", data={"email": coach.email, "password": coach.password})
    assert response.status_code == 400
    assert client.get("/login/code").status_code == 302, "the password step did not happen"


def test_a_form_posted_with_a_forged_csrf_token_is_refused(make, client):
    coach = make.user("coach")
    client.get("/login")
    response = client.post("/login", data={"email": coach.email, "password": coach.password,
                                           "csrf_token": "forged"})
    assert response.status_code == 400


def test_signed_in_forms_need_the_csrf_token_too(make, client):
    coach = make.user("coach")
    signed_in(client, coach)
    response = client.post("/logout")
    assert response.status_code == 400
    assert client.get("/").status_code == 200, "still signed in"


def test_after_sign_in_the_user_lands_on_the_page_they_asked_for(make, client):
    coach = make.user("coach")
    first = client.get("/organisations?kind=housing")
    assert first.status_code == 302
    assert "/login?next=" in first.location
    response = sign_in(client, coach, next_url="/organisations?kind=housing")
    assert response.location == "/organisations?kind=housing"


@pytest.mark.parametrize("target", ["//evil.test", "https://evil.test/", "/\\evil.test", "/\t/evil.test",
                                    "/\n/evil.test", "http:/evil.test", "javascript:alert(1)"])
def test_a_next_address_off_the_site_is_not_followed(make, client, target):
    coach = make.user("coach")
    response = sign_in(client, coach, next_url=target)
    assert response.status_code == 302
    assert response.location == "/"


def test_the_language_switch_does_not_redirect_off_the_site(client):
    assert '<html lang="nl">' in client.get("/login").get_data(as_text=True)
    token = csrf_token(client, "/login")
    response = client.post("/language", data={"csrf_token": token, "locale": "en", "next": "//evil.test"})
    assert response.status_code == 302
    assert "evil.test" not in response.location
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)


def test_a_wrong_password_and_an_unknown_account_look_the_same_on_the_web(make, client):
    coach = make.user("coach")
    flash = re.compile(r'<p class="flash error"[^>]*>([^<]+)</p>')
    wrong = password_step(client, coach, password="not the password at all")
    unknown = post_form(client, "/login", {"email": "nobody@hub.test", "password": "not the password at all"})
    assert wrong.status_code == unknown.status_code == 401
    assert flash.findall(wrong.get_data(as_text=True)) == flash.findall(unknown.get_data(as_text=True)) != []
