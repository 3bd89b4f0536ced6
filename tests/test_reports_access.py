"""Who sees which report: a chain director its own municipality, a coach its own programme, nobody
else anything; reports never carry a client's id or alias; each reading is audited; the pages."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from hub.audit.models import AuditAction, AuditEvent
from hub.extensions import db
from tests.conftest import NOW
from tests.reports_support import (
    ALIAS,
    add_client,
    add_referral,
    add_trajectory,
    handoff_uid,
    keys_and_texts,
    make_world,
)
from tests.web import signed_in

REPORTS = ("/api/v1/reports/waiting-times", "/api/v1/reports/waiting-times?group_by=domain",
           "/api/v1/reports/bottlenecks", "/api/v1/reports/registration", "/api/v1/reports/phase-funnel")
PAGES = ("/reports/waiting-times", "/reports/bottlenecks", "/reports/registration", "/reports/phases")


@pytest.fixture
def ours(make, app):
    """Utrecht's chain with a little of everything: waits, an escalation, trajectories."""
    world = make_world(make, app)
    requested = NOW - timedelta(days=50)
    add_referral(app, world, world.partners[0], requested, started_at=requested + timedelta(days=9),
                 escalations=[requested + timedelta(days=5)])
    add_referral(app, world, world.partners[1], NOW - timedelta(days=20))
    someone = add_client(app, world, "male", "no_residence", ("man",))
    add_trajectory(app, world, someone, date(2026, 2, 1), domains=("housing",))
    add_trajectory(app, world, world.client_id, date(2026, 3, 1))
    return world


@pytest.mark.parametrize("role", ["partner", "referrer", "admin"])
def test_other_roles_are_refused_every_report(make, client, api_login, role):
    headers = api_login(make.user(role))
    for path in REPORTS:
        response = client.get(path, headers=headers)
        assert response.status_code == 403, path
        assert response.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("role", ["partner", "referrer", "admin"])
def test_other_roles_are_refused_the_report_pages(make, client, role):
    signed_in(client, make.user(role))
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    assert b"/reports/" not in client.get("/").data  # no menu item, no tile


def test_a_director_of_another_municipality_sees_nothing_of_ours(make, app, client, api_login, ours):
    arnhem = make.user("director", organisation_id=make.organisation("municipality", municipality="Arnhem"))
    headers = api_login(arnhem)
    for path in REPORTS[:3]:
        assert client.get(path, headers=headers).get_json()["items"] == [], path
    funnel = client.get("/api/v1/reports/phase-funnel", headers=headers).get_json()
    assert funnel["programmes"] == 0 and funnel["trajectories"] == 0
    assert client.get(f"/api/v1/reports/phase-funnel?organisation_id={ours.programme}",
                      headers=headers).status_code == 404
    registration = client.get("/api/v1/reports/registration", headers=headers).get_json()
    assert registration["programmes"] == 0 and registration["inflow"] == 0 and registration["unique_clients"] == 0
    response = client.get(f"/api/v1/reports/registration?organisation_id={ours.programme}", headers=headers)
    assert response.status_code == 404
    bottlenecks = client.get("/api/v1/reports/bottlenecks", headers=headers).get_json()
    assert bottlenecks["totals"]["waiting_days"] == 0 and bottlenecks["totals"]["escalations"] == 0


def test_our_director_and_coach_see_ours(client, api_login, ours):
    for account in (ours.director, ours.coach):
        headers = api_login(account)
        waiting = client.get("/api/v1/reports/waiting-times", headers=headers).get_json()
        assert {item["organisation_id"] for item in waiting["items"]} == set(ours.partners)
        assert client.get("/api/v1/reports/registration", headers=headers).get_json()["inflow"] == 2


def test_a_coach_sees_its_own_programmes_referrals_only(make, app, client, api_login, ours):
    other_programme = make.organisation("exit_programme", municipality=ours.municipality)
    add_referral(app, ours, ours.partners[0], NOW - timedelta(days=5), programme=other_programme)
    coach = client.get("/api/v1/reports/waiting-times", headers=api_login(ours.coach)).get_json()
    director = client.get("/api/v1/reports/waiting-times", headers=api_login(ours.director)).get_json()
    first = ours.partners[0]
    assert next(i for i in coach["items"] if i["organisation_id"] == first)["count"] == 1
    assert next(i for i in director["items"] if i["organisation_id"] == first)["count"] == 2


def test_no_report_carries_a_client_id_or_alias(app, client, api_login, ours):
    uid = handoff_uid(app, ours)
    for account in (ours.director, ours.coach):
        headers = api_login(account)
        for path in REPORTS:
            body = client.get(path, headers=headers).get_json()
            keys, text = keys_and_texts(body)
            assert not keys & {"client_id", "client", "alias", "client_ids", "uid"}, path
            assert ALIAS not in text and uid not in text, path


def test_reading_a_report_is_audited_without_a_client(app, client, api_login, ours):
    headers = api_login(ours.director)
    for path in REPORTS:
        client.get(path, headers=headers)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.tag.like("reports:%"))
                                    .order_by(AuditEvent.id)).all()
    assert [e.tag for e in events] == ["reports:waiting_times:read", "reports:waiting_times:read",
                                       "reports:bottlenecks:read", "reports:registration:read",
                                       "reports:phase_funnel:read"]
    assert {e.action for e in events} == {AuditAction.SEARCH}
    assert all(e.client_id is None and e.user_id == ours.director.id for e in events)


def test_the_pages_draw_tables_and_charts_without_script(client, ours):
    signed_in(client, ours.director)
    home = client.get("/").get_data(as_text=True)
    assert "/reports/bottlenecks" in home
    for path in PAGES:
        response = client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert "<script" not in page and "<table" in page, path
        assert ALIAS not in page
    bottlenecks = client.get("/reports/bottlenecks?from=2026-01-01&to=2026-11-23").get_data(as_text=True)
    assert bottlenecks.count("<svg") == 2 and 'role="img"' in bottlenecks
    assert "Knelpunten" in bottlenecks  # Dutch by default
    assert "<svg" in client.get("/reports/waiting-times").get_data(as_text=True)
    registration = client.get("/reports/registration").get_data(as_text=True)
    assert "&lt;5" in registration  # small cells hidden for the director


def test_a_bad_period_on_a_page_shows_the_default_with_the_message(client, ours):
    signed_in(client, ours.coach)
    response = client.get("/reports/waiting-times?from=2026-05-01&to=2026-04-01")
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_every_report_table_downloads_as_csv(app, client, ours):
    signed_in(client, ours.director)
    for path in PAGES:
        response = client.get(f"{path}?format=csv")
        assert response.status_code == 200, path
        assert response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        assert ALIAS not in response.get_data(as_text=True)
    with app.app_context():
        exported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)).all()
    assert len(exported) == len(PAGES)


def test_a_coach_sets_the_target_on_the_registration_page(client, ours):
    from tests.web import post_form

    signed_in(client, ours.coach)
    response = post_form(client, "/reports/targets", {"year": "2026", "expected": "40"},
                         form_page="/reports/registration")
    assert response.status_code == 302
    page = client.get("/reports/registration?from=2026-01-01&to=2026-12-31").get_data(as_text=True)
    assert "2026: 40" in page
