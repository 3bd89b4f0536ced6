"""The dossier and the consents in the browser: safe contact first, every read audited, the coach's
own programme only; withdrawal with one click that holds from the next request; the client's overview."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.audit.models import AuditEvent, AuditResult
from hub.consent.models import Consent
from hub.extensions import db
from tests.test_web_handoff import post, sign_in


@pytest.fixture
def programme(make):
    return make.organisation("exit_programme", name="Uitstapprogramma Dossier")


@pytest.fixture
def coach(make, programme):
    return make.user("coach", organisation_id=programme)


@pytest.fixture
def handed_over(make, programme):
    """(handoff id, client id) of a client handed over with consent to story, contact and two domains."""
    return make.handoff(programme_id=programme)


def _consent_ids(app, client_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Consent.id).where(Consent.client_id == client_id).order_by(Consent.id)))


def _events(app, tag: str, client_id: int) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.tag == tag,
                                                                AuditEvent.client_id == client_id)))


def test_the_dossier_shows_the_safe_contact_rules_first_and_audits_the_read(app, client, coach, handed_over):
    _handoff_id, client_id = handed_over
    sign_in(client, coach)
    response = client.get(f"/clients/{client_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    safe = page.index('class="safe-contact"')
    assert safe < page.index("Werkt sinds 2019")  # the rules come before the story
    assert page.count('class="rule stop"') == 2  # never call, no letters home
    assert "zonnebloem" in page and "via de outreachwerker" in page and "na 14:00" in page
    assert "Pooier houdt haar telefoon in de gaten." in page  # the safety concerns, with the rules
    assert "Schulden bij de pooier" in page and 'value="2"' in page  # the domains with their scores
    reads = _events(app, "referrals:dossier:read", client_id)
    assert len(reads) == 1 and reads[0].user_id == coach.id and reads[0].ground.startswith("consent:")


def test_what_the_consent_does_not_cover_is_withheld_and_named(app, client, make, coach, programme):
    _handoff_id, client_id = make.handoff(programme_id=programme, scope=("story", "finances"))
    sign_in(client, coach)
    page = client.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "zonnebloem" not in page and "Pooier houdt" not in page  # no consent for contact
    assert "Woont boven de club" not in page  # nor for housing
    assert "Schulden bij de pooier" in page
    withheld = page[page.index('class="withheld"'):]
    assert "<li>" in withheld


def test_a_coach_of_another_programme_gets_not_found_and_the_refusal_is_audited(app, client, make, handed_over):
    _handoff_id, client_id = handed_over
    sign_in(client, make.user("coach"))
    for path in (f"/clients/{client_id}", f"/clients/{client_id}/consents",
                 f"/clients/{client_id}/consents/print?lang=nl"):
        assert client.get(path).status_code == 404, path
    refusals = _events(app, "referrals:client:refused", client_id)
    assert refusals and all(event.result == AuditResult.REFUSED for event in refusals)
    consent_id = _consent_ids(app, client_id)[0]
    assert client.get(f"/consents/{consent_id}/withdraw").status_code == 404


@pytest.mark.parametrize("path", ["/clients/{id}", "/clients/{id}/consents", "/clients/{id}/consents/print"])
def test_a_referrer_may_not_open_the_dossier_nor_the_consents(app, client, make, programme, path):
    referrer = make.user("referrer")
    _handoff_id, client_id = make.handoff(programme_id=programme, referrer=referrer)
    sign_in(client, referrer)
    response = client.get(path.format(id=client_id))
    assert response.status_code == 403
    assert "Werkt sinds 2019" not in response.get_data(as_text=True)


def test_withdrawing_on_the_page_refuses_the_recipients_next_api_request(app, client, make, api_login, coach,
                                                                          programme, handed_over):
    _handoff_id, client_id = handed_over
    colleague = make.user("coach", organisation_id=programme)
    token = api_login(colleague)  # issued before the withdrawal
    assert client.get(f"/api/v1/clients/{client_id}", headers=token).status_code == 200

    sign_in(client, coach)
    dossier = f"/clients/{client_id}"
    page = client.get(dossier).get_data(as_text=True)
    (consent_id,) = _consent_ids(app, client_id)
    assert f'action="/consents/{consent_id}/withdraw"' in page
    response = post(client, f"/consents/{consent_id}/withdraw", {"reason": "De cliënt wil het niet meer",
                                                                 "next": dossier}, page=dossier)
    assert response.status_code == 302
    assert response.location.endswith(f"/clients/{client_id}/consents")  # the dossier is closed now

    with app.app_context():
        consent = db.session.get(Consent, consent_id)
        assert consent.withdrawn_at is not None and consent.withdrawn_by_id == coach.id
    assert client.get(f"/api/v1/clients/{client_id}", headers=token).status_code == 404
    assert client.get(dossier).status_code == 404
    consents_page = client.get(response.location)  # still manageable: the programme can record a new consent
    assert consents_page.status_code == 200
    assert "status-withdrawn" in consents_page.get_data(as_text=True)


def test_a_withdrawal_needs_a_reason_and_changes_nothing_without_one(app, client, coach, handed_over):
    _handoff_id, client_id = handed_over
    (consent_id,) = _consent_ids(app, client_id)
    sign_in(client, coach)
    response = post(client, f"/consents/{consent_id}/withdraw", {"reason": ""}, page=f"/clients/{client_id}")
    assert response.status_code == 422
    assert 'id="e-reason"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Consent, consent_id).withdrawn_at is None


def test_the_coach_records_a_new_consent_from_the_dossier(app, client, make, coach, handed_over):
    _handoff_id, client_id = handed_over
    debt_relief = make.organisation("debt_relief", name="Schuldhulp Dossier")
    sign_in(client, coach)
    dossier = f"/clients/{client_id}"
    form = {"recipient_organisation_id": str(debt_relief), "purpose": "service_referral", "method": "written",
            "scope": ["finances"], "statement": "Schuldhulp mag mijn geldzaken zien.", "valid_until": "2027-05-31",
            "next": dossier}
    bad = post(client, f"/clients/{client_id}/consents/new", {**form, "scope": []}, page=dossier)
    assert bad.status_code == 422
    assert 'id="e-scope"' in bad.get_data(as_text=True)
    assert len(_consent_ids(app, client_id)) == 1

    response = post(client, f"/clients/{client_id}/consents/new", form, page=dossier)
    assert response.status_code == 302 and response.location.endswith(dossier)
    with app.app_context():
        consent = db.session.get(Consent, _consent_ids(app, client_id)[-1])
        assert (consent.recipient_organisation_id, consent.purpose.value, consent.scope) == (
            debt_relief, "service_referral", ["finances"])
        # through the last day, a Dutch day: it ends as 1 June begins in the Netherlands (summer time)
        assert consent.valid_until.isoformat() == "2027-05-31T22:00:00+00:00"
    page = client.get(dossier).get_data(as_text=True)
    assert "Schuldhulp Dossier" in page and "2027-05-31" in page


@pytest.mark.parametrize("lang, words, absent", [
    ("nl", ["Wie mag wat over je zien", "Zeg het tegen je coach", "geld en schulden"], "Who may see"),
    ("en", ["Who may see what about you", "Tell your coach", "money and debts"], "Wie mag"),
])
def test_the_printable_overview_speaks_the_clients_language(app, client, make, coach, handed_over,
                                                            lang, words, absent):
    _handoff_id, client_id = handed_over
    sign_in(client, coach)
    response = client.get(f"/clients/{client_id}/consents/print?lang={lang}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in page
    for word in words:
        assert word in page, word
    assert absent not in page
    assert "Uitstapprogramma Dossier" in page
    assert "Roos" not in page  # no name on a paper that may be found by others
    assert _events(app, "consent:overview:printed", client_id)


def test_the_overview_lists_a_withdrawn_consent_apart(app, client, make, coach, handed_over):
    _handoff_id, client_id = handed_over
    (consent_id,) = _consent_ids(app, client_id)
    sign_in(client, coach)
    post(client, f"/consents/{consent_id}/withdraw", {"reason": "Op verzoek"}, page=f"/clients/{client_id}")
    page = client.get(f"/clients/{client_id}/consents/print?lang=en").get_data(as_text=True)
    assert "At the moment nobody may see information about you" in page
    assert "you took back your yes on November 23, 2026" in page


def test_the_consents_on_the_dossier_come_a_page_at_a_time_newest_first(app, client, make, coach, handed_over):
    from hub.auth.models import User
    from hub.consent.service import record_consent
    from hub.consent.views import CONSENTS_PER_PAGE
    from tests.conftest import NOW

    _handoff_id, client_id = handed_over
    partners = [make.organisation("debt_relief", name=f"Schuldhulp {n:02d}") for n in range(CONSENTS_PER_PAGE)]
    with app.test_request_context():
        for partner in partners:
            record_consent(db.session.get(User, coach.id), client_id=client_id, recipient_organisation_id=partner,
                           purpose="service_referral", scope=["finances"], method="verbal", statement="ja", now=NOW)
        db.session.commit()
    sign_in(client, coach)
    first = client.get(f"/clients/{client_id}").get_data(as_text=True)
    consents = first[first.index('id="consents"'):first.index('id="new-consent-h"')]
    assert consents.count('class="consent consent-') == CONSENTS_PER_PAGE
    shown = [f"Schuldhulp {n:02d}" for n in range(CONSENTS_PER_PAGE)]
    newest_first = [consents.index(name) for name in reversed(shown)]
    assert newest_first == sorted(newest_first)
    assert f'rel="next" href="/clients/{client_id}?consents_page=2#consents"' in consents
    second = client.get(f"/clients/{client_id}?consents_page=2").get_data(as_text=True)
    consents = second[second.index('id="consents"'):second.index('id="new-consent-h"')]
    assert consents.count('class="consent consent-') == 1 and "Uitstapprogramma Dossier" in consents  # the handoff's
    assert f'rel="prev" href="/clients/{client_id}?consents_page=1#consents"' in consents
    assert 'rel="next"' not in consents
    page = client.get(f"/clients/{client_id}/consents?consents_page=2").get_data(as_text=True)
    assert f'href="/clients/{client_id}/consents?consents_page=1#consents"' in page  # the consents page pages too
    assert len(_events(app, "consent:consents:read", client_id)) == 3  # one event per page shown


def test_a_consents_page_past_the_end_says_so(app, client, coach, handed_over):
    _handoff_id, client_id = handed_over
    sign_in(client, coach)
    page = client.get(f"/clients/{client_id}?consents_page=7").get_data(as_text=True)
    assert "Geen toestemmingen meer op deze pagina." in page and 'rel="prev"' in page


def test_a_consent_until_a_day_ends_as_that_dutch_day_ends_not_an_hour_later(app, client, make, coach, handed_over):
    from datetime import UTC, datetime

    from hub.consent.service import decide

    _handoff_id, client_id = handed_over
    debt_relief = make.organisation("debt_relief", name="Schuldhulp Winter")
    sign_in(client, coach)
    dossier = f"/clients/{client_id}"
    recorded = post(client, f"/clients/{client_id}/consents/new", {
        "recipient_organisation_id": str(debt_relief), "purpose": "service_referral", "method": "verbal",
        "scope": ["finances"], "statement": "Tot eind januari.", "valid_until": "2027-01-31", "next": dossier},
        page=dossier)
    assert recorded.status_code == 302
    with app.app_context():
        consent = db.session.get(Consent, _consent_ids(app, client_id)[-1])
        assert consent.valid_until == datetime(2027, 1, 31, 23, 0, tzinfo=UTC)  # midnight in Amsterdam, winter
        last_minute = decide(debt_relief, client_id, "service_referral", "finances",
                             datetime(2027, 1, 31, 22, 59, tzinfo=UTC))
        next_day = decide(debt_relief, client_id, "service_referral", "finances",
                          datetime(2027, 1, 31, 23, 30, tzinfo=UTC))  # 00:30 on 1 February in the Netherlands
        assert last_minute.allowed and not next_day.allowed
    shown = client.get(dossier).get_data(as_text=True)
    assert "2027-01-31" in shown and "2027-02-01" not in shown  # its last day, as agreed


def test_a_consent_until_the_end_of_the_calendar_is_refused_not_a_fault(app, client, make, coach, handed_over):
    _handoff_id, client_id = handed_over
    sign_in(client, coach)
    dossier = f"/clients/{client_id}"
    response = post(client, f"/clients/{client_id}/consents/new", {
        "recipient_organisation_id": str(make.organisation("debt_relief")), "purpose": "service_referral",
        "method": "verbal", "scope": ["finances"], "statement": "Voor altijd.", "valid_until": "9999-12-31"},
        page=dossier)
    assert response.status_code == 422 and 'id="e-valid_until"' in response.get_data(as_text=True)
    assert "Uiterlijk 2099-12-31." in response.get_data(as_text=True)
    assert len(_consent_ids(app, client_id)) == 1
