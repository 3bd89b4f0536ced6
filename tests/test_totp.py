"""The second factor: a TOTP code is good for one time step either side, and for one sign-in only."""
import threading

import pyotp
import pytest

from hub.auth.totp import matching_step
from tests.conftest import NOW, totp_now
from tests.web import sign_in

LOGIN = "/api/v1/auth/login"


def login(client, account, otp):
    return client.post(LOGIN, json={"email": account.email, "password": account.password, "otp": otp})


def test_a_code_accepted_once_is_refused_the_second_time(make, client):
    coach = make.user("coach")
    code = totp_now(coach)
    assert login(client, coach, code).status_code == 200
    again = login(client, coach, code)
    assert again.status_code == 401
    assert again.get_json()["error"]["code"] == "invalid_credentials"


def test_a_code_used_on_the_web_is_refused_by_the_api(make, client, app):
    coach = make.user("coach")
    code = totp_now(coach)
    assert sign_in(client, coach, code=code).status_code == 302
    assert login(app.test_client(), coach, code).status_code == 401


@pytest.mark.parametrize("steps", [-1, 1])
def test_the_code_of_one_step_either_side_is_accepted(make, client, steps):
    coach = make.user("coach")
    assert login(client, coach, totp_now(coach, steps=steps)).status_code == 200


@pytest.mark.parametrize("steps", [-2, 2, -10])
def test_a_code_from_two_or_more_steps_away_is_refused(make, client, steps):
    coach = make.user("coach")
    assert login(client, coach, totp_now(coach, steps=steps)).status_code == 401


def test_once_a_newer_code_is_used_an_older_one_is_refused(make, client):
    coach = make.user("coach")
    assert login(client, coach, totp_now(coach, steps=1)).status_code == 200
    assert login(client, coach, totp_now(coach)).status_code == 401


def test_a_code_typed_with_spaces_is_accepted(make, client):
    coach = make.user("coach")
    code = totp_now(coach)
    assert login(client, coach, f" {code} ").status_code == 200


def test_another_accounts_code_is_refused(make, client):
    coach, other = make.user("coach"), make.user("coach")
    assert login(client, coach, totp_now(other)).status_code == 401


def test_only_the_three_steps_around_now_match():
    secret = pyotp.random_base32()
    current = int(NOW.timestamp()) // 30
    for steps, expected in ((-2, None), (-1, current - 1), (0, current), (1, current + 1), (2, None)):
        assert matching_step(secret, totp_now(secret, steps=steps), NOW) == expected


@pytest.mark.committed
def test_requests_racing_with_the_same_code_on_several_workers_sign_in_once(app, committed, make):
    """Two workers, one code: the database lets exactly one of them through."""
    coach = make.user("coach")
    code = totp_now(coach)
    attempts = 4
    start = threading.Barrier(attempts)
    statuses: list[int] = []

    def attempt():
        client = app.test_client()
        start.wait()
        statuses.append(login(client, coach, code).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200] + [401] * (attempts - 1)


def test_digits_from_another_script_are_refused_not_a_crash(client, make):
    coach = make.user("coach")
    response = client.post("/api/v1/auth/login", json={"email": coach.email, "password": coach.password,
                                                       "otp": "١٢٣٤٥٦"})
    assert response.status_code in (401, 422)
