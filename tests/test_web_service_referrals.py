"""Service referrals in the browser: the partner's inbox and consented view, its steps and messages; the
coach's overview, referring on, hold and resume; escalations; the chain director's norms. Signed in
as a browser is: the CSRF token read from the page, then posted."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hub.audit.models import AuditEvent
from hub.auth.models import User
from hub.consent.models import Consent
from hub.extensions import db
from hub.referrals.escalation import escalate_overdue
from hub.referrals.service_referral_models import (
    Message,
    ServiceReferral,
    ServiceReferralEvent,
    SlaOverride,
    Status,
)
from hub.vocab import Role
from tests.conftest import NOW, totp_now

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
OUT_OF_SCOPE = ("Woont boven de club",  # the housing notes: housing is not in the partner's consent
                "zonnebloem",  # the code word: contact details are not in scope
                "raamprostitutie")  # the story summary: not in scope either
IN_SCOPE = "Schulden bij de pooier"  # the finances notes


def browser(app, account):
    """A test client signed in on the web as `account`: password, then the authenticator's code."""
    web = app.test_client()
    page = web.get("/login").get_data(as_text=True)
    response = web.post("/login", data={"csrf_token": CSRF.search(page)[1], "email": account.email,
                                        "password": account.password})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = web.get("/login/code").get_data(as_text=True)
    response = web.post("/login/code", data={"csrf_token": CSRF.search(page)[1], "code": totp_now(account)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return web


def post(web, path: str, data: dict, page: str):
    """Post a form with the CSRF token of the page it is on."""
    match = CSRF.search(web.get(page).get_data(as_text=True))
    assert match, f"no form on {page}"
    return web.post(path, data={"csrf_token": match[1], **data})


@pytest.fixture
def chain(app, make):
    """A programme's coach with an accepted client, who consented to share finances (not housing, not
    the story, not contact details) with a debt-relief partner in Arnhem; a referral sent at NOW."""
    from hub.consent.service import record_consent
    from hub.referrals.models import Handoff
    from hub.referrals.service import accept_handoff
    from hub.referrals.service_referrals import refer
    from hub.vocab import LifeDomain

    programme = make.organisation("exit_programme", municipality="Arnhem", name="Uitstapprogramma Oost")
    coach = make.user("coach", organisation_id=programme)
    handoff_id, client_id = make.handoff(programme_id=programme)
    partner_org = make.organisation("debt_relief", municipality="Arnhem", name="Schuldhulp Arnhem")
    partner = make.user("partner", organisation_id=partner_org)
    with app.test_request_context():
        coach_user = db.session.get(User, coach.id)
        accept_handoff(coach_user, db.session.get(Handoff, handoff_id), NOW)
        record_consent(coach_user, client_id=client_id, recipient_organisation_id=partner_org,
                       purpose="service_referral", scope=["finances"], method="written",
                       statement="Schuldhulp mag mijn financiële situatie zien.", now=NOW)
        referral = refer(coach_user, client_id, partner_org, LifeDomain.FINANCES, "Beslag op loon.", NOW)
        db.session.commit()
        referral_id = referral.id
    return {"coach": coach, "partner": partner, "client_id": client_id, "programme": programme,
            "partner_org": partner_org, "referral_id": referral_id}


def _referral(app, referral_id: int) -> ServiceReferral:
    with app.app_context():
        referral = db.session.get(ServiceReferral, referral_id)
        db.session.expunge(referral)
        return referral


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_the_partner_sees_its_inbox_and_only_the_consented_part_of_the_story(app, chain):
    web = browser(app, chain["partner"])
    inbox = web.get("/service-referrals")
    assert inbox.status_code == 200
    assert f'/service-referrals/{chain["referral_id"]}"' in inbox.get_data(as_text=True)
    page = web.get(f"/service-referrals/{chain['referral_id']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert IN_SCOPE in html and "Beslag op loon." in html  # the consented domain, the coach's note
    for withheld in OUT_OF_SCOPE:
        assert withheld not in html
    safe = html.index('class="safe-contact"')
    assert safe < html.index(IN_SCOPE) and html.count('class="rule stop"') == 2  # never call, no letters
    assert 'style="' not in html and "<script" not in html  # the CSP forbids both


def test_the_inbox_filters_by_status_and_shows_an_empty_state(app, chain):
    web = browser(app, chain["partner"])
    html = web.get("/service-referrals?status=completed").get_data(as_text=True)
    assert f'/service-referrals/{chain["referral_id"]}"' not in html and 'class="card empty"' in html
    assert web.get("/service-referrals?status=nonsense&page=x").status_code == 200  # ignored, not refused


def test_the_partner_offers_exactly_its_next_steps_sets_waitlisted_and_writes(app, chain):
    web = browser(app, chain["partner"])
    path = f"/service-referrals/{chain['referral_id']}"
    html = web.get(path).get_data(as_text=True)
    offered = set(re.findall(r'name="status" value="([a-z_]+)"', html))
    assert offered == {"received", "waitlisted", "intake_scheduled", "in_progress", "rejected"}
    response = post(web, f"{path}/status", {"form": "progress", "status": "waitlisted", "note": "Plek over 3 weken"},
                    page=path)
    assert response.status_code == 302
    assert _referral(app, chain["referral_id"]).status == Status.WAITLISTED
    response = post(web, f"{path}/messages", {"body": "Intake kan over drie weken, dinsdag 10:00."}, page=path)
    assert response.status_code == 302
    html = web.get(path).get_data(as_text=True)
    assert "Intake kan over drie weken" in html and "Plek over 3 weken" in html
    assert "nog niet gelezen" in html and "✓ gelezen" not in html  # the coach has not read it yet

    coach = browser(app, chain["coach"])
    assert "Intake kan over drie weken" in coach.get(path).get_data(as_text=True)
    html = web.get(path).get_data(as_text=True)
    assert "✓ gelezen" in html and "nog niet gelezen" not in html  # the read receipt


def test_the_coach_sees_the_overview_puts_on_hold_and_resumes(app, chain):
    web = browser(app, chain["coach"])
    overview = web.get("/service-referrals").get_data(as_text=True)
    assert "Schuldhulp Arnhem" in overview and f'/service-referrals/{chain["referral_id"]}"' in overview
    path = f"/service-referrals/{chain['referral_id']}"
    html = web.get(path).get_data(as_text=True)
    assert set(re.findall(r'name="status" value="([a-z_]+)"', html)) == {"on_hold", "cancelled"}
    held = post(web, f"{path}/status", {"form": "hold", "status": "on_hold", "reason": "client"}, page=path)
    assert held.status_code == 302
    referral = _referral(app, chain["referral_id"])
    assert referral.status == Status.ON_HOLD and referral.hold_reason.value == "client"
    html = web.get(path).get_data(as_text=True)
    assert set(re.findall(r'name="status" value="([a-z_]+)"', html)) == {"requested", "cancelled"}
    resumed = post(web, f"{path}/status", {"form": "resume", "status": "requested"}, page=path)
    assert resumed.status_code == 302
    assert _referral(app, chain["referral_id"]).status == Status.REQUESTED


def test_a_partner_or_coach_of_another_organisation_gets_not_found(app, chain, make):
    path = f"/service-referrals/{chain['referral_id']}"
    for outsider in (make.user("partner"), make.user("coach")):
        web = browser(app, outsider)
        assert web.get(path).status_code == 404
        assert post(web, f"{path}/status", {"status": "received"}, page="/account").status_code == 404
        assert post(web, f"{path}/messages", {"body": "hallo"}, page="/account").status_code == 404
        assert f'{path}"' not in web.get("/service-referrals").get_data(as_text=True)
    assert _referral(app, chain["referral_id"]).status == Status.REQUESTED and _count(app, Message) == 0


@pytest.mark.parametrize("form, problem", [
    ({"form": "progress", "status": "received", "occurred_at": "2099-01-01T10:00"}, "occurred_at"),  # future
    ({"form": "progress", "status": "received", "occurred_at": "2026-11-20T10:00"}, "occurred_at"),  # too early
    ({"form": "progress", "status": "received", "occurred_at": "gisteren"}, "occurred_at"),
    ({"form": "reject", "status": "rejected"}, "reason"),  # a rejection needs a reason
    ({"form": "progress", "status": "sleeping"}, "status"),
])
def test_bad_status_input_comes_back_with_errors_and_saves_nothing(app, chain, form, problem):
    web = browser(app, chain["partner"])
    path = f"/service-referrals/{chain['referral_id']}"
    events = _count(app, ServiceReferralEvent)
    response = post(web, f"{path}/status", form, page=path)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{form["form"]}-{problem}-e"' in html and 'class="error-summary"' in html
    assert IN_SCOPE not in html  # the page with errors carries no client data
    assert _count(app, ServiceReferralEvent) == events
    assert _referral(app, chain["referral_id"]).status == Status.REQUESTED


def test_a_step_the_role_may_not_take_is_refused_with_409(app, chain):
    web = browser(app, chain["partner"])
    path = f"/service-referrals/{chain['referral_id']}"
    response = post(web, f"{path}/status", {"form": "progress", "status": "cancelled"}, page=path)
    assert response.status_code == 409
    assert _referral(app, chain["referral_id"]).status == Status.REQUESTED


@pytest.mark.parametrize("body", ["", "   ", "x" * 10_001])
def test_an_empty_or_huge_message_comes_back_with_an_error(app, chain, body):
    web = browser(app, chain["coach"])
    path = f"/service-referrals/{chain['referral_id']}"
    response = post(web, f"{path}/messages", {"body": body}, page=path)
    assert response.status_code == 422 and 'id="message-body-e"' in response.get_data(as_text=True)
    assert _count(app, Message) == 0


def _listings(app, client_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).where(
            AuditEvent.tag == "referrals:service_referrals:listed", AuditEvent.detail.like(f"client_id={client_id} %")))


def test_the_coach_refers_on_and_without_consent_is_sent_to_record_it_and_back(app, chain, make):
    housing = make.organisation("housing", municipality="Arnhem", name="Woonstichting Arnhem")
    web = browser(app, chain["coach"])
    client_id = chain["client_id"]
    new = f"/clients/{client_id}/service-referrals/new"
    html = web.get(f"{new}?domain=housing").get_data(as_text=True)
    assert "<h1>Roos doorverwijzen naar een ketenpartner</h1>" in html  # the client as the coach knows her
    choices = html.split('id="f-organisation_id"')[1].split("</fieldset>")[0]
    assert "Woonstichting Arnhem" in choices and "Schuldhulp Arnhem" not in choices  # partners serving housing
    before, listed_before = _count(app, ServiceReferral), _listings(app, client_id)
    refused = post(web, new, {"domain": "housing", "organisation_id": str(housing), "urgent": "1"},
                   page=f"{new}?domain=housing")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 403 and 'class="error-summary consent-missing"' in html
    assert _count(app, ServiceReferral) == before
    # the refused page lists the client's open referrals: that read is logged, although nothing is kept
    assert _listings(app, client_id) == listed_before + 2  # the form's page, then the refused answer

    # for a wider consent, the link opens the consent form filled in for this partner and life domain ...
    link = re.search(r'href="(/clients/\d+/consents/new\?[^"]+)"', html)[1].replace("&amp;", "&")
    back = f"{new}?domain=housing&organisation_id={housing}"
    form = web.get(link).get_data(as_text=True)
    assert f'<option value="{housing}" selected' in form
    assert re.search(r'value="service_referral"[^>]*checked', form) and re.search(r'value="housing"[^>]*checked', form)
    assert not re.search(r'value="finances"[^>]*checked', form)
    assert f'name="next" value="{back}"'.replace("&", "&amp;") in form
    # ... and, once recorded, leads back to the referral with the partner chosen
    recorded = post(web, f"/clients/{client_id}/consents/new", {
        "recipient_organisation_id": str(housing), "purpose": "service_referral", "scope": "housing",
        "method": "verbal", "statement": "De woningcorporatie mag mijn woonsituatie zien.", "next": back},
        page=link)
    assert recorded.status_code == 302 and recorded.location == back
    again = web.get(back).get_data(as_text=True)
    assert f'value="{housing}" required\n             checked' in again or re.search(
        rf'value="{housing}" required\s+checked', again)

    missing = post(web, new, {"domain": "housing"}, page=f"{new}?domain=housing")
    assert missing.status_code == 422 and 'id="e-organisation_id"' in missing.get_data(as_text=True)
    assert _count(app, ServiceReferral) == before

    sent = post(web, new, {"domain": "housing", "organisation_id": str(housing), "urgent": "1",
                           "note": "Dakloos per 1 december."}, page=back)
    assert sent.status_code == 302
    with app.app_context():
        referral = db.session.scalar(select(ServiceReferral).where(ServiceReferral.organisation_id == housing))
        assert referral.urgent and referral.note == "Dakloos per 1 december."
    assert sent.location.endswith(f"/service-referrals/{referral.id}")


def _consents_for(app, organisation_id: int) -> list[Consent]:
    with app.app_context():
        consents = list(db.session.scalars(select(Consent).where(Consent.recipient_organisation_id == organisation_id)))
        for consent in consents:
            consent.scope  # noqa: B018  (loaded before the session closes)
        db.session.expunge_all()
        return consents


@pytest.fixture
def refused_for_want_of_consent(app, chain, make):
    """A coach whose referral to a housing partner, with a note, was just refused: no consent yet."""
    housing = make.organisation("housing", municipality="Arnhem", name="Woonstichting Arnhem")
    web = browser(app, chain["coach"])
    new = f"/clients/{chain['client_id']}/service-referrals/new"
    referral = {"domain": "housing", "organisation_id": str(housing), "urgent": "1", "note": "Dakloos per 1 december."}
    refused = post(web, new, referral, page=f"{new}?domain=housing")
    assert refused.status_code == 403
    return {"web": web, "new": new, "housing": housing, "referral": referral, "page": refused.get_data(as_text=True)}


def test_a_referral_refused_for_want_of_consent_is_sent_with_the_consent_recorded_on_the_same_page(
        app, refused_for_want_of_consent):
    web, new, housing, referral, page = (refused_for_want_of_consent[key] for key in
                                         ("web", "new", "housing", "referral", "page"))
    assert 'class="consent-inline"' in page and 'name="with_consent" value="1"' in page
    assert ">Dakloos per 1 december.</textarea>" in page  # the note is still there
    assert "Toestemming vastleggen en doorverwijzing versturen" in page
    before = _count(app, ServiceReferral)

    sent = post(web, new, {**referral, "with_consent": "1", "consent_method": "verbal",
                           "consent_statement": "De woningcorporatie mag mijn woonsituatie zien."},
                page=f"{new}?domain=housing")
    assert sent.status_code == 302, sent.get_data(as_text=True)
    with app.app_context():
        sent_referral = db.session.scalar(select(ServiceReferral).where(ServiceReferral.organisation_id == housing))
        assert sent_referral.note == "Dakloos per 1 december." and sent_referral.urgent
    assert sent.location.endswith(f"/service-referrals/{sent_referral.id}")
    assert _count(app, ServiceReferral) == before + 1
    [consent] = _consents_for(app, housing)
    assert (consent.purpose.value, consent.scope, consent.method.value, consent.valid_until) == (
        "service_referral", ["housing"], "verbal", None)
    assert consent.statement == "De woningcorporatie mag mijn woonsituatie zien."


def test_a_consent_with_mistakes_keeps_the_note_and_sends_and_records_nothing(app, refused_for_want_of_consent):
    web, new, housing, referral = (refused_for_want_of_consent[key] for key in ("web", "new", "housing", "referral"))
    before = _count(app, ServiceReferral)
    for mistakes, marked in (({"consent_statement": ""}, ("method", "statement")),
                             ({"consent_method": "verbal", "consent_statement": "Mag mijn woonsituatie zien.",
                               "consent_valid_until": "2020-01-01"}, ("valid_until",))):
        wrong = post(web, new, {**referral, "with_consent": "1", **mistakes}, page=f"{new}?domain=housing")
        html = wrong.get_data(as_text=True)
        assert wrong.status_code == 422, (mistakes, wrong.status_code)
        for field in marked:
            assert f'id="e-consent_{field}"' in html, field
        assert ">Dakloos per 1 december.</textarea>" in html and 'class="consent-inline"' in html
    assert _count(app, ServiceReferral) == before and _consents_for(app, housing) == []


def test_a_consent_for_a_partner_that_is_gone_is_refused_on_the_partner_field(app, refused_for_want_of_consent):
    web, new, referral = (refused_for_want_of_consent[key] for key in ("web", "new", "referral"))
    answer = post(web, new, {**referral, "organisation_id": "999999", "with_consent": "1", "consent_method": "verbal",
                             "consent_statement": "Mag mijn woonsituatie zien."}, page=f"{new}?domain=housing")
    assert answer.status_code == 422 and 'id="e-organisation_id"' in answer.get_data(as_text=True)


def test_when_the_referral_is_refused_after_its_consent_neither_is_kept(app, refused_for_want_of_consent, monkeypatch):
    from hub.errors import Conflict
    from hub.referrals import service_referrals

    web, new, housing, referral = (refused_for_want_of_consent[key] for key in ("web", "new", "housing", "referral"))

    def refused(*_args, **_kwargs):
        raise Conflict("Someone else just referred this client there.")

    monkeypatch.setattr(service_referrals, "refer", refused)
    answer = post(web, new, {**referral, "with_consent": "1", "consent_method": "written",
                             "consent_statement": "Mag mijn woonsituatie zien."}, page=f"{new}?domain=housing")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 409 and "Someone else just referred this client there." in html
    assert ">Dakloos per 1 december.</textarea>" in html  # nothing the coach typed is lost
    assert _consents_for(app, housing) == []  # the consent went with the referral: all or nothing


def test_a_role_that_may_refer_but_not_record_consent_cannot_record_one_with_a_referral(
        app, refused_for_want_of_consent, monkeypatch):
    from hub.auth import permissions

    web, new, housing, referral = (refused_for_want_of_consent[key] for key in ("web", "new", "housing", "referral"))
    page = web.get(f"{new}?domain=housing").get_data(as_text=True)  # the form's token, while the coach still may
    narrower = {**permissions.ROLE_PERMISSIONS}
    narrower[Role.COACH] = narrower[Role.COACH] - {permissions.Permission.CONSENT_MANAGE}
    monkeypatch.setattr(permissions, "ROLE_PERMISSIONS", narrower)
    answer = web.post(new, data={"csrf_token": CSRF.search(page)[1], **referral, "with_consent": "1",
                                 "consent_method": "verbal", "consent_statement": "Mag mijn woonsituatie zien."})
    assert answer.status_code == 403
    assert _consents_for(app, housing) == []


def test_a_link_fills_in_only_who_what_for_and_which_parts_of_a_new_consent(app, chain):
    web = browser(app, chain["coach"])
    form = web.get(f"/clients/{chain['client_id']}/consents/new?statement=Alles+mag&method=written"
                   "&valid_until=2030-01-01&next=//evil.example").get_data(as_text=True)
    form = form.split('class="consent-form"', 1)[1].split("</form>", 1)[0]
    assert "Alles mag" not in form and not re.search(r'value="written"[^>]*checked', form)
    assert "2030-01-01" not in form and "evil.example" not in form


def test_another_programmes_coach_cannot_refer_the_client(app, chain, make):
    web = browser(app, make.user("coach"))
    assert web.get(f"/clients/{chain['client_id']}/service-referrals/new").status_code == 404


def test_escalations_climb_to_the_director_who_sees_the_history_without_the_story(app, chain, make):
    director = make.user("director", organisation_id=make.organisation("municipality", municipality="Arnhem"))
    with app.app_context():
        assert escalate_overdue(NOW + timedelta(days=4))["level_1"] == 1
    coach, partner, chief = browser(app, chain["coach"]), browser(app, chain["partner"]), browser(app, director)
    for web in (coach, partner):
        html = web.get("/escalations").get_data(as_text=True)
        assert f'/service-referrals/{chain["referral_id"]}"' in html
    assert 'class="card empty"' in chief.get("/escalations").get_data(as_text=True)  # level 1 is not for them
    with app.app_context():
        escalate_overdue(NOW + timedelta(days=10))
        assert escalate_overdue(NOW + timedelta(days=20))["level_3"] == 1
    html = chief.get("/escalations").get_data(as_text=True)
    escalation_id = re.search(r'href="/escalations/(\d+)"', html)[1]
    history = chief.get(f"/escalations/{escalation_id}")
    text = history.get_data(as_text=True)
    assert history.status_code == 200 and "Schuldhulp Arnhem" in text
    assert IN_SCOPE not in text and "Beslag op loon." not in text and "Roos" not in text
    assert f'/service-referrals/{chain["referral_id"]}"' not in text  # the referral itself is not theirs
    assert chief.get(f"/service-referrals/{chain['referral_id']}").status_code == 403
    assert browser(app, make.user("partner")).get(f"/escalations/{escalation_id}").status_code == 404


def test_the_director_sets_and_removes_a_norm_for_its_municipality_audited(app, make):
    director = make.user("director", organisation_id=make.organisation("municipality", municipality="Arnhem"))
    web = browser(app, director)
    page = web.get("/sla")
    assert page.status_code == 200 and "Wet gemeentelijke schuldhulpverlening" in page.get_data(as_text=True)
    added = post(web, "/sla/overrides", {"status": "requested", "kind": "debt_relief", "working_days": "5"},
                 page="/sla")
    assert added.status_code == 302
    with app.app_context():
        override = db.session.scalar(select(SlaOverride))
        assert (override.municipality, override.status, override.kind, override.domain, override.urgent,
                override.working_days) == ("Arnhem", Status.REQUESTED, "debt_relief", None, None, 5)
        override_id = override.id
        tags = db.session.scalars(select(AuditEvent.tag).where(AuditEvent.object_type == "sla_override")).all()
    assert tags == ["referrals:sla:override_set"]
    again = post(web, "/sla/overrides", {"status": "requested", "kind": "debt_relief", "working_days": "8"},
                 page="/sla")
    assert again.status_code == 409 and _count(app, SlaOverride) == 1
    removed = post(web, f"/sla/overrides/{override_id}/remove", {}, page="/sla")
    assert removed.status_code == 302 and _count(app, SlaOverride) == 0
    with app.app_context():
        tags = db.session.scalars(select(AuditEvent.tag).where(AuditEvent.object_type == "sla_override")
                                  .order_by(AuditEvent.id)).all()
    assert tags == ["referrals:sla:override_set", "referrals:sla:override_removed"]


@pytest.mark.parametrize("form, problem", [
    ({"status": "requested", "working_days": "0"}, "working_days"),
    ({"status": "requested", "working_days": "drie"}, "working_days"),
    ({"status": "completed", "working_days": "3"}, "status"),  # no clock runs in a closed status
    ({"status": "requested", "working_days": "3", "kind": "police"}, "kind"),
    ({"working_days": "3"}, "status"),
])
def test_a_bad_norm_comes_back_with_errors_and_saves_nothing(app, make, form, problem):
    director = make.user("director")
    web = browser(app, director)
    response = post(web, "/sla/overrides", form, page="/sla")
    assert response.status_code == 422 and f'id="e-{problem}"' in response.get_data(as_text=True)
    assert _count(app, SlaOverride) == 0


def test_another_municipalitys_director_cannot_remove_a_norm_and_a_coach_cannot_touch_them(app, make):
    arnhem = make.user("director", organisation_id=make.organisation("municipality", municipality="Arnhem"))
    web = browser(app, arnhem)
    post(web, "/sla/overrides", {"status": "received", "working_days": "4"}, page="/sla")
    with app.app_context():
        override_id = db.session.scalar(select(SlaOverride.id))
    ede = browser(app, make.user("director", organisation_id=make.organisation("municipality", municipality="Ede")))
    own = ede.get("/sla").get_data(as_text=True).split('id="own-h"')[1].split("</section>")[0]
    assert 'class="empty"' in own and "/remove" not in own  # Arnhem's norm is not Ede's
    assert post(ede, f"/sla/overrides/{override_id}/remove", {}, page="/sla").status_code == 404
    coach = browser(app, make.user("coach"))
    assert coach.get("/sla").status_code == 403
    refused = post(coach, "/sla/overrides", {"status": "requested", "working_days": "1"}, page="/account")
    assert refused.status_code == 403
    assert post(coach, f"/sla/overrides/{override_id}/remove", {}, page="/account").status_code == 403
    assert _count(app, SlaOverride) == 1


def test_the_pages_are_linked_for_the_roles_that_may_use_them(app, chain, make):
    partner_home = browser(app, chain["partner"]).get("/").get_data(as_text=True)
    assert 'href="/service-referrals"' in partner_home and 'href="/escalations"' in partner_home
    assert 'href="/sla"' not in partner_home
    director_home = browser(app, make.user("director")).get("/").get_data(as_text=True)
    assert 'href="/sla"' in director_home and 'href="/service-referrals"' not in director_home
    referrer_home = browser(app, make.user("referrer")).get("/").get_data(as_text=True)
    assert 'href="/escalations"' not in referrer_home and 'href="/service-referrals"' not in referrer_home


def test_a_step_typed_in_the_minute_the_status_began_is_taken_as_that_moment(app, chain):
    """The form has minutes; the referral was sent at 10:00:05 Dutch time, the partner types 10:00."""
    web = browser(app, chain["partner"])
    path = f"/service-referrals/{chain['referral_id']}"
    response = post(web, f"{path}/status", {"form": "progress", "status": "received",
                                            "occurred_at": "2026-11-23T10:00"}, page=path)
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(select(ServiceReferralEvent).where(ServiceReferralEvent.to_status == Status.RECEIVED))
        assert event.occurred_at == NOW


def test_the_pages_speak_dutch_by_default_and_english_on_request(app, chain):
    web = browser(app, chain["partner"])
    path = f"/service-referrals/{chain['referral_id']}"
    dutch = web.get(path).get_data(as_text=True)
    assert "Veilig contact" in dutch and ">aangevraagd<" in dutch and ">requested<" not in dutch
    post(web, "/language", {"locale": "en", "next": path}, page=path)
    english = web.get(path).get_data(as_text=True)
    assert "Safe contact" in english and ">requested<" in english


def test_the_refer_on_page_shows_each_partners_measured_waiting_or_that_there_is_none(app, chain, make):
    from hub.clock import freeze
    from hub.referrals.service_referrals import record_event

    make.organisation("debt_relief", municipality="Arnhem", name="Kredietbank Nieuw")  # nothing measured yet
    with app.test_request_context():
        partner = db.session.get(User, chain["partner"].id)
        record_event(partner, db.session.get(ServiceReferral, chain["referral_id"]), Status.IN_PROGRESS,
                     NOW + timedelta(days=12), occurred_at=NOW + timedelta(days=12))
        db.session.commit()
    freeze(NOW + timedelta(days=20))
    web = browser(app, chain["coach"])
    html = web.get(f"/clients/{chain['client_id']}/service-referrals/new?domain=finances").get_data(as_text=True)
    options = html.split('id="f-organisation_id"')[1].split("</fieldset>")[0]
    measured = options.split("Schuldhulp Arnhem")[1].split("</div>")[0]
    assert "mediaan 12 dagen" in measured and "nu 0 wachtend" in measured
    new = options.split("Kredietbank Nieuw")[1].split("</div>")[0]
    assert "nog geen metingen" in new


def test_a_partner_where_clients_wait_but_none_began_says_so_in_words(app, chain):
    web = browser(app, chain["coach"])
    html = web.get(f"/clients/{chain['client_id']}/service-referrals/new?domain=finances").get_data(as_text=True)
    measured = html.split('id="f-organisation_id"')[1].split("Schuldhulp Arnhem")[1].split("</div>")[0]
    assert "nog geen wachttijd gemeten" in measured and "nu 1 wachtend" in measured and "—" not in measured


def test_the_partner_page_shows_no_legal_position_without_the_profile_item(app, chain):
    """The chain's consent covers finances only: no gender, birth year, languages or legal position."""
    from hub.labels import legal_status_label

    html = browser(app, chain["partner"]).get(f"/service-referrals/{chain['referral_id']}").get_data(as_text=True)
    with app.test_request_context():
        legal_status = str(legal_status_label("resident"))
    assert legal_status not in html and "1994" not in html
    assert "Roos" in html  # the alias: any referral consent shows it


def test_the_partner_page_shows_the_profile_with_the_profile_item(app, chain, make):
    from hub.auth.models import User as UserModel
    from hub.consent.service import record_consent
    from hub.labels import legal_status_label

    with app.test_request_context():
        record_consent(db.session.get(UserModel, chain["coach"].id), client_id=chain["client_id"],
                       recipient_organisation_id=chain["partner_org"], purpose="service_referral",
                       scope=["finances", "profile"], method="written", statement="Ook wie ik ben.", now=NOW)
        db.session.commit()
        legal_status = str(legal_status_label("resident"))
    html = browser(app, chain["partner"]).get(f"/service-referrals/{chain['referral_id']}").get_data(as_text=True)
    assert legal_status in html and "1994" in html
