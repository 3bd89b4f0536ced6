"""The command-line contract: `flask --app wsgi hub ...` prints JSON; a refusal exits 2 with a clear message."""
import json

import pyotp
import pytest
from sqlalchemy import func, select

from hub import clock, create_app
from hub.auth.models import User
from hub.extensions import db
from hub.partners.models import Organisation
from tests.test_config import production

STRONG = "lantaarnpaal fietsbel 2026 winter"


def hub(runner, *args, password: str | None = None):
    return runner.invoke(args=["hub", *args], input=None if password is None else f"{password}\n")


def org_create(runner, name="Uitstap Utrecht", kind="exit_programme", municipality="Utrecht") -> int:
    result = hub(runner, "org", "create", "--name", name, "--kind", kind, "--municipality", municipality)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["id"]


def user_create(runner, organisation_id, email="coach@cli.test", role="coach", password=STRONG):
    return hub(runner, "user", "create", "--email", email, "--name", "Coach Cli", "--organisation",
               str(organisation_id), "--role", role, "--password-stdin", password=password)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_org_create_prints_the_new_id(app, runner):
    result = hub(runner, "org", "create", "--name", "Schuldhulp Ede", "--kind", "debt_relief",
                 "--municipality", "Ede")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    with app.app_context():
        organisation = db.session.get(Organisation, printed["id"])
        assert (organisation.name, organisation.kind.value, organisation.municipality) == (
            "Schuldhulp Ede", "debt_relief", "Ede")
        assert [d.value for d in organisation.domains] == ["finances"], "a usable partner at once"


def test_org_create_refuses_an_unknown_kind(app, runner):
    before = count(app, Organisation)
    result = hub(runner, "org", "create", "--name", "X", "--kind", "bakery", "--municipality", "Ede")
    assert result.exit_code == 2
    assert "bakery" in result.output
    assert count(app, Organisation) == before


def test_org_create_refuses_the_same_organisation_twice(app, runner):
    org_create(runner)
    result = hub(runner, "org", "create", "--name", "Uitstap Utrecht", "--kind", "exit_programme",
                 "--municipality", "Utrecht")
    assert result.exit_code == 2
    assert "already registered" in result.stderr


def test_user_create_prints_the_id_and_an_otpauth_uri_that_signs_in(app, runner, client):
    organisation_id = org_create(runner)
    result = user_create(runner, organisation_id)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["otpauth_uri"].startswith("otpauth://totp/")
    with app.app_context():
        user = db.session.get(User, printed["id"])
        assert (user.email, user.role.value, user.organisation_id) == ("coach@cli.test", "coach", organisation_id)
        assert STRONG not in user.password_hash
    code = pyotp.parse_uri(printed["otpauth_uri"]).at(clock.utcnow())
    response = client.post("/api/v1/auth/login", json={"email": "coach@cli.test", "password": STRONG, "otp": code})
    assert response.status_code == 200


@pytest.mark.parametrize(("kind", "role"), [("police", "coach"), ("exit_programme", "referrer"),
                                            ("housing", "director"), ("municipality", "partner")])
def test_user_create_refuses_a_role_that_does_not_fit_the_organisation(app, runner, kind, role):
    organisation_id = org_create(runner, kind=kind)
    before = count(app, User)
    result = user_create(runner, organisation_id, role=role)
    assert result.exit_code == 2
    assert f"role {role} does not fit" in result.stderr
    assert list(json.loads(result.stdout)["error"]["fields"]) == ["role"]
    assert count(app, User) == before


@pytest.mark.parametrize("password", ["password1234", "qwertyuiopasdf", "aaaaaaaaaaaaaaaa", "kort wachtw",
                                      "coach@cli.test", "Coach@Cli.test"])
def test_user_create_refuses_a_weak_password(app, runner, password):
    organisation_id = org_create(runner)
    before = count(app, User)
    result = user_create(runner, organisation_id, password=password)
    assert result.exit_code == 2, result.output
    assert "password" in json.loads(result.stdout)["error"]["fields"]
    assert result.stderr.startswith("error: ")
    assert count(app, User) == before


def test_user_create_refuses_a_duplicate_e_mail_address(app, runner):
    organisation_id = org_create(runner)
    before = count(app, User)
    assert user_create(runner, organisation_id).exit_code == 0
    result = user_create(runner, organisation_id, email="  COACH@cli.test")
    assert result.exit_code == 2
    assert "already an account" in result.stderr
    assert count(app, User) == before + 1


def test_user_create_refuses_an_unknown_organisation(app, runner):
    before = count(app, User)
    result = user_create(runner, 999_999)
    assert result.exit_code == 2
    assert "no organisation 999999" in result.stderr
    assert count(app, User) == before


def test_user_create_refuses_a_password_given_any_other_way_than_stdin(app, runner):
    organisation_id = org_create(runner)
    result = hub(runner, "user", "create", "--email", "a@cli.test", "--name", "A", "--organisation",
                 str(organisation_id), "--role", "coach")
    assert result.exit_code == 2
    assert "--password-stdin" in result.stderr


def test_demo_loads_once_and_a_second_run_changes_nothing(app, runner, client):
    first = hub(runner, "demo")
    assert first.exit_code == 0, first.output
    counts = (count(app, User), count(app, Organisation))
    assert len(json.loads(first.stdout)["users"]) >= 5
    second = hub(runner, "demo")
    assert second.exit_code == 0, second.output
    assert (count(app, User), count(app, Organisation)) == counts
    first_users = {u["email"]: u for u in json.loads(first.stdout)["users"]}
    second_users = {u["email"]: u for u in json.loads(second.stdout)["users"]}
    assert first_users == second_users, "the same passwords and authenticator URIs"
    assert {u["role"] for u in first_users.values()} >= {"referrer", "coach", "partner", "director", "admin"}

    coach = next(u for u in first_users.values() if u["role"] == "coach")
    response = client.post("/api/v1/auth/login", json={
        "email": coach["email"], "password": coach["password"],
        "otp": pyotp.parse_uri(coach["otpauth_uri"]).at(clock.utcnow())})
    assert response.status_code == 200, "a demo user can sign in with what the command printed"


def test_demo_refuses_to_run_in_production(tmp_path):
    app = create_app(production(tmp_path))
    result = app.test_cli_runner().invoke(args=["hub", "demo"])
    assert result.exit_code == 2
    assert "never loaded in production" in result.stderr
