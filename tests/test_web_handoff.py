"""The handoff in the browser: the referrer's one form and status list, the coach's intake queue and
decisions. Signed in as a browser is: the CSRF token read from the page, then posted."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from hub.consent.models import Consent
from hub.extensions import db
from hub.referrals.models import Client, Handoff, HandoffStatus, StoryDomain
from tests.conftest import totp_now

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client, path: str) -> str:
    response = client.get(path)
    match = CSRF.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({response.status_code})"
    return match.group(1)


def sign_in(client, account) -> None:
    """Password, then the code from the authenticator app, as on the sign-in pages."""
    response = client.post("/login", data={"csrf_token": csrf(client, "/login"), "email": account.email,
                                           "password": account.password})
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post("/login/code", data={"csrf_token": csrf(client, "/login/code"),
                                                "code": totp_now(account)})
    assert response.status_code == 302, response.get_data(as_text=True)


def post(client, path: str, data: dict, page: str | None = None):
    """Post a form with the CSRF token of the page it is on (default: `path`)."""
    return client.post(path, data={"csrf_token": csrf(client, page or path), **data})


def handoff_form(programme_id: int, **changes) -> dict:
    """The handoff form as a referrer fills it in on a phone."""
    form = {
        "to_organisation_id": str(programme_id), "urgency": "high",
        "client.alias": "Roos", "client.gender": "female", "client.birth_year": "1994",
        "client.languages": "nl, ro ,", "client.municipality_of_residence": "Arnhem",
        "client.municipality_of_work": "Utrecht", "client.legal_status": "self_employed_only",
        "client.target_groups": ["trafficking_victim", "home_worker"],
        "safe_contact.never_call": "1", "safe_contact.no_letters_home": "1", "safe_contact.code_word": "zonnebloem",
        "safe_contact.channel": "via de outreachwerker", "safe_contact.times": "na 14:00",
        "safety_concerns": "Pooier leest haar telefoon mee.",
        "story.summary": "Werkt sinds 2019 achter het raam en wil stoppen.",
        "domain.finances.score": "2", "domain.finances.wish": "7", "domain.finances.notes": "Schulden bij de pooier",
        "domain.housing.score": "", "domain.housing.wish": "", "domain.housing.notes": "",
        "consent.method": "verbal", "consent.statement": "Ik geef toestemming dat het uitstapprogramma dit ziet.",
        "consent.scope": ["story", "contact", "finances"],
    }
    form.update(changes)
    return form


def counts(app) -> tuple[int, ...]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Client, Consent, Handoff, StoryDomain))


@pytest.fixture
def programme(make):
    return make.organisation("exit_programme", name="Uitstapprogramma Web")


@pytest.fixture
def referrer(make):
    return make.user("referrer", organisation_id=make.organisation("ggd", name="GGD Web"))


@pytest.fixture
def coach(make, programme):
    return make.user("coach", organisation_id=programme)


# --- the referrer ----------------------------------------------------------------------------------

def test_the_referrer_hands_a_client_over_with_one_form_and_sees_its_status(app, client, referrer, programme):
    sign_in(client, referrer)
    response = post(client, "/handoffs/new", handoff_form(programme))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location.endswith("/handoffs")

    with app.app_context():
        handoff = db.session.scalar(select(Handoff))
        person = handoff.client
        assert (handoff.status, handoff.urgency.value, handoff.to_organisation_id) == (
            HandoffStatus.SUBMITTED, "high", programme)
        assert handoff.safety_concerns == "Pooier leest haar telefoon mee."
        assert (person.alias, person.birth_year, person.languages) == ("Roos", 1994, ["nl", "ro"])
        assert person.legal_status.value == "self_employed_only"
        assert person.target_groups == ["home_worker", "trafficking_victim"]
        assert person.safe_contact == {"channel": "via de outreachwerker", "times": "na 14:00", "never_call": True,
                                       "code_word": "zonnebloem", "no_letters_home": True}
        assert [(d.domain.value, d.score, d.wish, d.notes) for d in person.story_domains] == [
            ("finances", 2, 7, "Schulden bij de pooier")]  # the empty housing domain is left out
        consent = db.session.get(Consent, handoff.consent_id)
        assert consent.scope == ["contact", "finances", "story"]
        handoff_id = handoff.id

    listing = client.get(response.location)
    page = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert f"/handoffs/{handoff_id}" in page and "Uitstapprogramma Web" in page
    assert "status-submitted" in page
    for secret in ("Roos", "zonnebloem", "achter het raam", "Schulden"):  # status only, never the story
        assert secret not in page


def test_the_referrer_sees_only_its_own_organisations_handoffs_and_an_empty_list_first(
        client, make, referrer, programme):
    make.handoff(programme_id=programme)  # by another organisation's referrer
    sign_in(client, referrer)
    page = client.get("/handoffs").get_data(as_text=True)
    assert 'class="card empty"' in page
    assert "/handoffs/new" in page


def test_the_form_offers_only_exit_programmes(client, make, referrer, programme):
    make.organisation("debt_relief", name="Schuldhulp Nergens")
    sign_in(client, referrer)
    page = client.get("/handoffs/new").get_data(as_text=True)
    assert "Uitstapprogramma Web" in page
    assert "Schuldhulp Nergens" not in page
    assert 'name="consent.statement"' in page and "</textarea>" in page
    assert 'name="consent.scope" value="story"' in page
    assert not re.search(r'name="consent\.scope" value="\w+"\s*checked', page)  # the client ticks, not the form


def test_a_bad_form_shows_the_errors_next_to_the_fields_and_saves_nothing(app, client, referrer, programme):
    sign_in(client, referrer)
    form = handoff_form(programme, **{"domain.finances.score": "11", "consent.scope": [], "client.alias": ""})
    response = post(client, "/handoffs/new", form, page="/handoffs/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert counts(app) == (0, 0, 0, 0)
    for name in ("domain.finances.score", "consent.scope", "client.alias"):
        assert f'id="e-{name}"' in page, name
    assert 'class="error-summary"' in page
    assert 'value="zonnebloem"' in page  # what was typed stays
    assert re.search(r'<details class="domain has-error"\s+open>', page)  # the domain with the error is open


def test_a_handoff_to_an_organisation_that_is_not_an_exit_programme_names_the_field(app, client, make, referrer):
    other = make.organisation("housing")
    sign_in(client, referrer)
    response = post(client, "/handoffs/new", handoff_form(other), page="/handoffs/new")
    assert response.status_code == 422
    assert 'id="e-to_organisation_id"' in response.get_data(as_text=True)
    assert counts(app) == (0, 0, 0, 0)


@pytest.mark.parametrize("role", ["coach", "partner", "director", "admin"])
def test_only_referrers_may_open_the_handoff_form(client, make, role):
    sign_in(client, make.user(role))
    assert client.get("/handoffs/new").status_code == 403


# --- the coach --------------------------------------------------------------------------------------

def test_the_intake_queue_shows_the_days_waiting_and_the_most_urgent_first(client, make, coach, programme):
    from datetime import timedelta

    from hub import clock
    from tests.conftest import NOW

    clock.freeze(NOW - timedelta(days=3))
    normal, _ = make.handoff(programme_id=programme)
    clock.freeze(NOW)
    urgent, _ = make.handoff(programme_id=programme, urgency="high")
    sign_in(client, coach)
    page = client.get("/handoffs").get_data(as_text=True)
    assert page.index(f"/handoffs/{urgent}") < page.index(f"/handoffs/{normal}")
    assert re.search(r"3\s+(dagen|days)", page)


def test_the_coach_accepts_from_the_page_with_a_backup_coach(app, client, make, coach, programme):
    backup = make.user("coach", organisation_id=programme)
    handoff_id, client_id = make.handoff(programme_id=programme)
    sign_in(client, coach)
    page = client.get(f"/handoffs/{handoff_id}").get_data(as_text=True)
    assert f"/clients/{client_id}" in page
    response = post(client, f"/handoffs/{handoff_id}/accept", {"coach_id": str(coach.id),
                                                               "backup_coach_id": str(backup.id)},
                    page=f"/handoffs/{handoff_id}")
    assert response.status_code == 302
    with app.app_context():
        handoff = db.session.get(Handoff, handoff_id)
        assert (handoff.status, handoff.coach_id, handoff.backup_coach_id) == (
            HandoffStatus.ACCEPTED, coach.id, backup.id)

    response = post(client, f"/handoffs/{handoff_id}/first-contact", {"on": "2026-11-23"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Handoff, handoff_id).status == HandoffStatus.FIRST_CONTACT


def test_the_backup_must_be_another_coach_and_accepting_twice_is_refused(app, client, make, coach, programme):
    handoff_id, _ = make.handoff(programme_id=programme)
    sign_in(client, coach)
    path = f"/handoffs/{handoff_id}"
    response = post(client, path + "/accept", {"coach_id": str(coach.id), "backup_coach_id": str(coach.id)}, page=path)
    assert response.status_code == 422
    assert 'id="e-backup_coach_id"' in response.get_data(as_text=True)
    assert post(client, path + "/accept", {"coach_id": str(coach.id)}, page=path).status_code == 302
    assert post(client, path + "/accept", {"coach_id": str(coach.id)}, page=path).status_code == 409


def test_declining_needs_a_reason(app, client, make, coach, programme):
    handoff_id, _ = make.handoff(programme_id=programme)
    sign_in(client, coach)
    path = f"/handoffs/{handoff_id}"
    response = post(client, path + "/decline", {"reason": ""}, page=path)
    assert response.status_code == 422
    assert 'id="e-reason"' in response.get_data(as_text=True)
    assert post(client, path + "/decline", {"reason": "Buiten ons werkgebied"}, page=path).status_code == 302
    with app.app_context():
        handoff = db.session.get(Handoff, handoff_id)
        assert (handoff.status, handoff.decline_reason) == (HandoffStatus.DECLINED, "Buiten ons werkgebied")


def test_a_coach_of_another_programme_does_not_find_the_handoff(client, make, programme):
    handoff_id, _ = make.handoff(programme_id=programme)
    sign_in(client, make.user("coach"))
    assert client.get(f"/handoffs/{handoff_id}").status_code == 404
    assert client.get("/handoffs").get_data(as_text=True).count(f"/handoffs/{handoff_id}") == 0


def test_the_handoff_page_shows_times_as_the_clock_in_the_netherlands_shows_them(client, make, coach, programme):
    from datetime import UTC, datetime

    from hub import clock

    clock.freeze(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))  # 00:30 on New Year's Day in the Netherlands
    handoff_id, _client_id = make.handoff(programme_id=programme)
    sign_in(client, coach)
    page = client.get(f"/handoffs/{handoff_id}").get_data(as_text=True)
    assert "2027-01-01 00:30" in page and "UTC" not in page
    assert "2027-01-01" in client.get("/handoffs").get_data(as_text=True)
