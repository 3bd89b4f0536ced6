"""Failed sign-ins are limited per account and per address, across all workers (counted in the database)."""
import threading
from datetime import timedelta

import pytest

from hub import clock
from tests.conftest import NOW, totp_now
from tests.web import password_step, post_form, wrong_code

LOGIN = "/api/v1/auth/login"
WINDOW = timedelta(minutes=15)


def login(client, email, password, otp, address="192.0.2.10"):
    return client.post(LOGIN, json={"email": email, "password": password, "otp": otp},
                       environ_base={"REMOTE_ADDR": address})


def fail(client, email, times, address="192.0.2.10"):
    for _ in range(times):
        assert login(client, email, "not the password at all", "000000", address).status_code == 401


def test_after_five_failures_even_the_right_password_and_code_are_refused(make, client):
    coach = make.user("coach")
    fail(client, coach.email, 5)
    response = login(client, coach.email, coach.password, totp_now(coach))
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"


def test_four_failures_still_let_the_owner_in(make, client):
    coach = make.user("coach")
    fail(client, coach.email, 4)
    assert login(client, coach.email, coach.password, totp_now(coach)).status_code == 200


def test_the_limit_holds_from_another_address_too(make, client):
    coach = make.user("coach")
    for number in range(5):
        fail(client, coach.email, 1, address=f"192.0.2.{number + 20}")
    assert login(client, coach.email, coach.password, totp_now(coach), "198.51.100.1").status_code == 429


def test_after_the_window_the_account_can_sign_in_again(make, client):
    coach = make.user("coach")
    fail(client, coach.email, 5)
    clock.freeze(NOW + WINDOW - timedelta(seconds=1))
    assert login(client, coach.email, coach.password, totp_now(coach)).status_code == 429
    clock.freeze(NOW + WINDOW + timedelta(seconds=1))
    assert login(client, coach.email, coach.password, totp_now(coach)).status_code == 200


def test_failures_older_than_the_window_no_longer_count(make, client):
    coach = make.user("coach")
    fail(client, coach.email, 3)
    clock.freeze(NOW + timedelta(minutes=10))
    fail(client, coach.email, 2)
    clock.freeze(NOW + timedelta(minutes=16))  # the first three have left the window
    assert login(client, coach.email, coach.password, totp_now(coach)).status_code == 200


def test_attempts_on_an_account_that_does_not_exist_are_limited_the_same_way(make, client):
    coach = make.user("coach")
    fail(client, coach.email, 5)
    fail(client, "nobody@hub.test", 5)
    known = login(client, coach.email, "not the password at all", "000000")
    unknown = login(client, "nobody@hub.test", "not the password at all", "000000")
    assert known.status_code == unknown.status_code == 429
    assert known.get_json() == unknown.get_json()


def test_one_address_is_limited_across_many_accounts(app, make, client):
    """A whole office may share one address, so its limit is higher than an account's, but it holds."""
    per_address = app.config["HUB"].login_failures_per_address
    assert per_address > app.config["HUB"].login_failures_per_account
    coach = make.user("coach")
    for number in range(per_address):  # one failure each: no account reaches its own limit
        fail(client, f"guess{number}@hub.test", 1, address="203.0.113.7")
    refused = login(client, coach.email, coach.password, totp_now(coach), address="203.0.113.7")
    assert refused.status_code == 429
    assert login(client, coach.email, coach.password, totp_now(coach), address="203.0.113.8").status_code == 200


def test_the_web_password_step_shares_the_limit(make, client):
    coach = make.user("coach")
    fail(client, coach.email, 5, address="127.0.0.1")
    response = password_step(client, coach)
    assert response.status_code == 429
    assert "/login/code" not in (response.location or "")


def test_wrong_codes_on_the_web_count_as_failures(make, client):
    coach = make.user("coach")
    assert password_step(client, coach).status_code == 302
    for _ in range(4):  # the password step was an attempt too, but a successful one
        assert post_form(client, "/login/code", {"code": wrong_code(coach)}).status_code == 401
    fail(client, coach.email, 1, address="127.0.0.1")
    assert post_form(client, "/login/code", {"code": totp_now(coach)}).status_code == 429


@pytest.mark.committed
def test_wrong_passwords_sent_at_once_from_many_workers_get_five_checks_in_all(app, committed, make):
    """Attempts racing on several workers count each other (an attempt is committed before it is
    counted), so however they arrive, no more than five passwords are checked in the window."""
    coach = make.user("coach")
    attempts = 10
    start = threading.Barrier(attempts)
    statuses: list[int] = []

    def attempt(number):
        client = app.test_client()
        start.wait()
        statuses.append(login(client, coach.email, "not the password at all", "000000",
                              address=f"192.0.2.{100 + number}").status_code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(statuses) == attempts
    assert set(statuses) <= {401, 429}
    client = app.test_client()
    for _ in range(attempts):  # and afterwards, one by one
        statuses.append(login(client, coach.email, "not the password at all", "000000").status_code)
    assert statuses.count(401) == 5, "exactly five got as far as checking the password"
    assert login(client, coach.email, coach.password, totp_now(coach)).status_code == 429


# --- a stranger slows guessing down, but cannot lock the owner out --------------------------------

OWN = "198.51.100.1"  # the owner's usual address


def owner_signed_in_before(client, account) -> None:
    """A full sign-in from the owner's own address makes it a known address of the account."""
    assert login(client, account.email, account.password, totp_now(account), OWN).status_code == 200
    clock.freeze(clock.utcnow() + timedelta(seconds=30))  # the next TOTP step


def test_failures_from_another_address_do_not_lock_the_owner_out_of_their_own_address(make, client):
    coach = make.user("coach")
    owner_signed_in_before(client, coach)
    fail(client, coach.email, 5, address="203.0.113.66")  # the stranger's own limit
    for number in range(20):  # and more, from many addresses
        login(client, coach.email, "not the password at all", "000000", f"192.0.2.{number + 120}")
    assert login(client, coach.email, coach.password, totp_now(coach), OWN).status_code == 200


def test_the_web_sign_in_from_the_owners_address_is_not_locked_by_a_stranger(make, client):
    coach = make.user("coach")
    assert password_step(client, coach).status_code == 302  # 127.0.0.1, the test browser's address
    assert post_form(client, "/login/code", {"code": totp_now(coach)}).status_code == 302
    clock.freeze(clock.utcnow() + timedelta(seconds=30))
    browser = client.application.test_client()
    for _ in range(10):  # the stranger reaches their own limit, and the account-wide one
        login(client, coach.email, "not the password at all", "000000", "203.0.113.66")
    response = password_step(browser, coach)
    assert response.status_code == 302 and response.location.endswith("/login/code")


def test_brute_force_from_the_owners_own_address_is_still_stopped(make, client):
    coach = make.user("coach")
    owner_signed_in_before(client, coach)
    fail(client, coach.email, 5, address=OWN)
    response = login(client, coach.email, coach.password, totp_now(coach), OWN)
    assert response.status_code == 429


def test_guessing_from_many_addresses_waits_twice_as_long_after_each_failure(make, client):
    coach = make.user("coach")
    for number in range(5):
        fail(client, coach.email, 1, address=f"192.0.2.{number + 20}")
    start = clock.utcnow()
    refused = login(client, coach.email, "not the password at all", "000000", "192.0.2.40")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "30"
    assert refused.get_json()["error"]["message"] .endswith("Probeer het over 1 minuut opnieuw.")
    waited = timedelta(0)
    for wait in (30, 60, 120, 240):
        waited += timedelta(seconds=wait)
        clock.freeze(start + waited - timedelta(seconds=1))
        assert login(client, coach.email, "wrong", "000000", "192.0.2.41").status_code == 429
        clock.freeze(start + waited)
        assert login(client, coach.email, "not the password at all", "000000", "192.0.2.42").status_code == 401
        start, waited = clock.utcnow(), timedelta(0)


def test_the_backoff_never_exceeds_an_hour(make, client):
    coach = make.user("coach")
    for number in range(5):
        fail(client, coach.email, 1, address=f"192.0.2.{number + 20}")
    for _ in range(12):  # one failure per hour: the waits grow to their ceiling
        clock.freeze(clock.utcnow() + timedelta(hours=1))
        fail(client, coach.email, 1, address="192.0.2.50")
    refused = login(client, coach.email, coach.password, totp_now(coach), "192.0.2.51")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) == 3600
    clock.freeze(clock.utcnow() + timedelta(hours=1))
    assert login(client, coach.email, coach.password, totp_now(coach), "192.0.2.51").status_code == 200


def test_the_refusal_says_when_to_try_again(make, client):
    coach = make.user("coach")
    fail(client, coach.email, 5)
    clock.freeze(NOW + timedelta(minutes=5))
    refused = login(client, coach.email, coach.password, totp_now(coach))
    assert refused.get_json()["error"]["message"] .endswith("Probeer het over 10 minuten opnieuw.")
    assert refused.headers["Retry-After"] == str(10 * 60)


def test_sign_in_attempts_and_their_addresses_are_deleted_after_thirty_days(app, make, client):
    from sqlalchemy import select

    from hub.auth.models import LoginAttempt
    from hub.auth.service import prune_login_attempts
    from hub.extensions import db

    coach = make.user("coach")
    fail(client, coach.email, 1, address="192.0.2.77")
    clock.freeze(NOW + timedelta(days=29))
    fail(client, coach.email, 1, address="192.0.2.88")
    with app.app_context():
        assert prune_login_attempts(NOW + timedelta(days=30, seconds=1)) == 1
        kept = db.session.scalars(select(LoginAttempt.source_address)).all()
    assert kept == ["192.0.2.88"]
