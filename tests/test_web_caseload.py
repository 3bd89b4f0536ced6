"""The coach's caseload page ("Mijn cliënten"): each client with an open trajectory, their phase,
open referrals to partners and which are late, the next deadline; filters, pages, an empty state;
one audit event per page listing the clients shown; and who may not see it."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from hub import clock
from hub.audit.models import AuditEvent
from hub.auth.models import User
from hub.extensions import db
from hub.referrals import views as referral_views
from hub.referrals.models import Phase
from hub.referrals.trajectory import _months_after
from tests.conftest import NOW
from tests.test_web_service_referrals import browser


@pytest.fixture
def programme(make):
    return make.organisation("exit_programme", municipality="Arnhem", name="Uitstapprogramma Oost")


@pytest.fixture
def coach(make, programme):
    return make.user("coach", organisation_id=programme)


@pytest.fixture
def colleague(make, programme):
    return make.user("coach", organisation_id=programme)


@pytest.fixture
def accept(app, make, programme):
    """Hand a client (with `alias`) over and accept it, led by `lead` and backed up by `backup`."""
    from hub.referrals.models import Handoff
    from hub.referrals.service import accept_handoff

    def accept_as(lead, backup=None, alias="Roos", when=NOW):
        handoff_id, client_id = make.handoff(programme_id=programme, client={**_client(alias)})
        with app.test_request_context():
            accept_handoff(db.session.get(User, lead.id), db.session.get(Handoff, handoff_id), when,
                           coach_id=lead.id, backup_coach_id=backup.id if backup else None)
            db.session.commit()
        return client_id
    return accept_as


def _client(alias: str) -> dict:
    from tests.factories import handoff_body

    return {**handoff_body(1)["client"], "alias": alias}


def _trajectory(app, client_id):
    from hub.referrals.models import Trajectory

    return db.session.scalar(select(Trajectory).where(Trajectory.client_id == client_id))


def _caseload_events(app, tag="referrals:caseload:read") -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.tag == tag).order_by(AuditEvent.id)).all()


def _listed(app, event: AuditEvent) -> list[int]:
    from hub.audit.models import AuditEventSubject

    with app.app_context():
        return list(db.session.scalars(select(AuditEventSubject.client_id)
                                       .where(AuditEventSubject.event_id == event.id)))


def test_the_caseload_shows_each_client_with_phase_open_referrals_late_marker_and_deadlines(
        app, make, coach, colleague, accept):
    from hub.consent.service import record_consent
    from hub.referrals.service import client_for_coach
    from hub.referrals.service_referrals import refer
    from hub.referrals.trajectory import add_goal, start_phase
    from hub.vocab import LifeDomain

    late_client = accept(coach, alias="Roos")
    calm_client = accept(coach, alias="Iris")
    backed_up = accept(colleague, backup=coach, alias="Mila")
    not_mine = accept(colleague, alias="Noor")
    partner_org = make.organisation("debt_relief", municipality="Arnhem", name="Schuldhulp Arnhem")
    with app.test_request_context():
        user = db.session.get(User, coach.id)
        record_consent(user, client_id=late_client, recipient_organisation_id=partner_org,
                       purpose="service_referral", scope=["finances"], method="written",
                       statement="Schuldhulp mag mijn financiën zien.", now=NOW)
        refer(user, late_client, partner_org, LifeDomain.FINANCES, None, NOW)
        _client_row, decision = client_for_coach(user, calm_client, NOW)
        trajectory = _trajectory(app, calm_client)
        add_goal(user, trajectory, decision, {"domain": LifeDomain.HOUSING, "description": "Eigen kamer",
                                              "score": 3, "target": 7, "deadline": date(2027, 3, 1),
                                              "subgoals": []}, NOW)
        start_phase(user, trajectory, decision, Phase.AFTERCARE, NOW)
        db.session.commit()
    clock.freeze(NOW + timedelta(days=14))  # the partner has not answered in ten working days; the norm is 3

    web = browser(app, coach)
    page = web.get("/caseload")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for alias in ("Roos", "Iris", "Mila"):
        assert f">{alias}</a>" in html
    assert "Noor" not in html  # a colleague's client the coach does not back up
    cards = {card.split("</a>")[0].rsplit(">", 1)[-1]: card for card in html.split('class="card client')[1:]}
    assert list(cards) == ["Iris", "Roos", "Mila"]  # a goal deadline first, then the oldest trajectory
    assert "Schuldhulp Arnhem: financiën en schulden" in cards["Roos"]
    assert "1 doorverwijzing te laat" in cards["Roos"] and "aangevraagd" in cards["Roos"]
    assert "nazorgfase" in cards["Iris"] and "2027-03-01" in cards["Iris"]
    assert "2027-05-23" in cards["Iris"]  # aftercare: half a year from its start
    assert "te laat" not in cards["Iris"] and "geen" in cards["Iris"]  # no open referrals
    assert "achtervang voor Test coach" in cards["Mila"]
    assert not_mine and backed_up
    assert f'href="/clients/{late_client}"' in html


def test_the_filters_show_own_clients_or_those_backed_up(app, coach, colleague, accept):
    own = accept(coach, alias="Roos")
    backed_up = accept(colleague, backup=coach, alias="Mila")
    web = browser(app, coach)
    mine = web.get("/caseload?show=mine").get_data(as_text=True)
    assert ">Roos<" in mine and ">Mila<" not in mine
    backup = web.get("/caseload?show=backup").get_data(as_text=True)
    assert ">Mila<" in backup and ">Roos<" not in backup
    everything = web.get("/caseload?show=nonsense").get_data(as_text=True)  # an unknown filter shows all
    assert ">Roos<" in everything and ">Mila<" in everything
    assert {own, backed_up}


def test_an_empty_caseload_says_what_to_do(app, coach):
    web = browser(app, coach)
    html = web.get("/caseload").get_data(as_text=True)
    assert "Nog geen cliënten met een lopend traject" in html
    assert "Je bent nu voor geen enkele collega achtervang" in web.get("/caseload?show=backup").get_data(as_text=True)
    assert _caseload_events(app) == []  # no client data shown, nothing to log


def test_the_caseload_pages_and_each_page_is_one_list_read_naming_its_clients(
        app, coach, accept, monkeypatch):
    assert referral_views.PER_PAGE == 25
    monkeypatch.setattr(referral_views, "PER_PAGE", 2)
    clients = [accept(coach, alias=f"Client {n}") for n in range(3)]
    web = browser(app, coach)
    first = web.get("/caseload?show=mine").get_data(as_text=True)
    assert 'rel="next" href="/caseload?show=mine&amp;page=2"' in first and 'rel="prev"' not in first
    second = web.get("/caseload?show=mine&page=2").get_data(as_text=True)
    assert 'rel="prev" href="/caseload?show=mine&amp;page=1"' in second and 'rel="next"' not in second
    events = _caseload_events(app, "referrals:caseload:listed")
    assert len(events) == 2 and all(e.user_id == coach.id and e.action == "search" for e in events)
    assert [len(_listed(app, e)) for e in events] == [2, 1]
    assert sorted(c for e in events for c in _listed(app, e)) == sorted(clients)


def test_the_api_caseload_still_logs_each_client_on_its_consent(app, client, coach, accept, api_login):
    client_ids = [accept(coach, alias=a) for a in ("Roos", "Iris")]
    assert client.get("/api/v1/caseload", headers=api_login(coach)).status_code == 200
    events = _caseload_events(app)
    assert sorted(e.client_id for e in events) == sorted(client_ids)
    assert all(e.ground.startswith("consent:") for e in events)


@pytest.mark.parametrize("role", ["referrer", "partner", "director", "admin"])
def test_only_coaches_have_a_caseload(app, make, role):
    web = browser(app, make.user(role))
    assert web.get("/caseload").status_code == 403
    assert 'href="/caseload"' not in web.get("/").get_data(as_text=True)


def test_the_menu_and_start_page_lead_coaches_to_their_clients(app, coach):
    html = browser(app, coach).get("/").get_data(as_text=True)
    assert html.count('href="/caseload"') == 2  # the menu and the tile
    assert "Mijn cliënten" in html


def test_another_programmes_coach_sees_none_of_the_clients(app, make, coach, accept):
    accept(coach, alias="Roos")
    outsider = make.user("coach")
    html = browser(app, outsider).get("/caseload").get_data(as_text=True)
    assert "Roos" not in html and "Nog geen cliënten" in html


def test_a_client_without_handoff_consent_leaves_the_caseload(app, coach, accept):
    from hub.consent.models import Consent
    from hub.consent.service import withdraw_consent

    kept, gone = accept(coach, alias="Roos"), accept(coach, alias="Iris")
    with app.test_request_context():
        consent = db.session.scalar(select(Consent).where(Consent.client_id == gone))
        withdraw_consent(db.session.get(User, coach.id), consent, "Wil even niets", NOW)
        db.session.commit()
    html = browser(app, coach).get("/caseload").get_data(as_text=True)
    assert ">Roos<" in html and "Iris" not in html
    assert kept


def test_aftercare_ends_half_a_year_later_on_the_same_day_or_the_months_last():
    assert _months_after(date(2026, 11, 20), 6) == date(2027, 5, 20)
    assert _months_after(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert _months_after(date(2026, 6, 30), 6) == date(2026, 12, 30)


def test_the_page_costs_the_same_queries_for_one_client_as_for_four(app, make, coach, colleague, accept):
    from hub.consent.service import record_consent
    from hub.referrals.service_referrals import refer
    from hub.vocab import LifeDomain
    from tests.test_trajectory import _selects_during

    busy = [accept(coach, alias=f"Client {n}") for n in range(4)]
    quiet = [accept(colleague, alias="Iris")]
    partners = {client_id: make.organisation("debt_relief", municipality="Arnhem") for client_id in busy + quiet}
    with app.test_request_context():
        for lead, client_ids in ((coach, busy), (colleague, quiet)):
            user = db.session.get(User, lead.id)
            for client_id in client_ids:
                partner_org = partners[client_id]  # each referral to another partner: none loaded one by one
                record_consent(user, client_id=client_id, recipient_organisation_id=partner_org,
                               purpose="service_referral", scope=["finances"], method="verbal", statement="ja",
                               now=NOW)
                refer(user, client_id, partner_org, LifeDomain.FINANCES, None, NOW)
        db.session.commit()
    pages = {}
    for lead in (coach, colleague):
        web = browser(app, lead)
        pages[lead.id] = _selects_during(app, lambda web=web: web.get("/caseload"))
    assert pages[coach.id] == pages[colleague.id]
